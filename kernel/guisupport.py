"""Helpers that let GUI programs run the same inside this kernel and on their own.

A GUI program normally ends by starting its toolkit's event loop
(``app.exec_()``, ``root.mainloop()``). Inside a kernel that already runs the
loop (after ``%gui qt5``, ``%gui tk``, ``%matplotlib qt5``...), doing that
again would block the kernel until every window is closed. These helpers
follow one protocol so that programs need not know where they run:

* whoever starts an event loop sets ``app._in_event_loop = True`` on the
  toolkit's application object, and back to ``False`` when the loop ends;
* whoever asks whether a loop runs looks at that attribute first and, when it
  is absent, asks the toolkit.

This kernel sets the attribute while a ``%gui`` loop is active, so
:func:`start_event_loop_qt5` returns at once there and the windows stay
responsive between requests; in a plain script the same call runs the loop.

Qt 5 (PyQt5)::

    from PyQt5 import QtWidgets
    from kernel import guisupport

    app = guisupport.get_app_qt5()          # the existing QApplication, or a new one
    window = QtWidgets.QLabel("hello")
    window.show()
    guisupport.start_event_loop_qt5(app)    # runs the loop, unless one runs already

Tk (the application object is the default root, see :func:`get_app_tk`)::

    import tkinter as tk
    from kernel import guisupport

    root = tk.Tk()
    tk.Button(root, text="quit", command=root.destroy).pack()
    guisupport.start_event_loop_tk(root)

Asking first, for code that must know::

    if not guisupport.is_event_loop_running_qt5():
        ...   # no loop: events are processed only when this code runs one

Qt 6 (PyQt6) and wx have the same three functions (``get_app_qt6``,
``is_event_loop_running_qt6``, ``start_event_loop_qt6``, and ``_wx``); they need
their toolkit installed only when called. Importing this module imports no
toolkit, and ``is_event_loop_running_*`` never imports one either: a toolkit
that was never imported cannot be running a loop.
"""

from __future__ import annotations

import importlib
import sys
import threading
import weakref
from typing import Any, Optional

__all__ = [
    "get_app_qt5", "is_event_loop_running_qt5", "start_event_loop_qt5",
    "get_app_qt6", "is_event_loop_running_qt6", "start_event_loop_qt6",
    "get_app_tk", "is_event_loop_running_tk", "start_event_loop_tk", "share_tk_loop",
    "get_app_wx", "is_event_loop_running_wx", "start_event_loop_wx",
]

_FLAG = "_in_event_loop"


def _flag(app: Any) -> Optional[bool]:
    """The protocol's attribute: True/False when someone set it, None otherwise."""
    value = getattr(app, _FLAG, None)
    return None if value is None else bool(value)


# -- Qt -------------------------------------------------------------------------

def _qt_widgets(binding: str, load: bool) -> Any:
    name = f"{binding}.QtWidgets"
    if load:
        return importlib.import_module(name)
    return sys.modules.get(name)


def _get_app_qt(binding: str, args: tuple, kwargs: dict) -> Any:
    QtWidgets = _qt_widgets(binding, load=True)
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(*(args or ([sys.argv[0] if sys.argv and sys.argv[0] else "python"],)),
                                     **kwargs)
    return app


def _is_running_qt(binding: str, app: Any) -> bool:
    if app is None:
        QtWidgets = _qt_widgets(binding, load=False)
        app = QtWidgets.QApplication.instance() if QtWidgets is not None else None
        if app is None:
            return False
    flag = _flag(app)
    if flag is not None:
        return flag
    # Qt's own answer: the depth of event loops (exec, QEventLoop, modal
    # dialogs) running in the application's thread.
    return app.thread().loopLevel() > 0


def _start_qt(binding: str, app: Any) -> None:
    if app is None:
        app = _get_app_qt(binding, (), {})
    if _is_running_qt(binding, app):
        return
    setattr(app, _FLAG, True)
    try:
        run = getattr(app, "exec", None) or app.exec_
        run()
    finally:
        setattr(app, _FLAG, False)


def get_app_qt5(*args: Any, **kwargs: Any) -> Any:
    """The running PyQt5 ``QApplication``, or a new one built from ``args``
    (default: a one-element argv) and ``kwargs``."""
    return _get_app_qt("PyQt5", args, kwargs)


def is_event_loop_running_qt5(app: Any = None) -> bool:
    """True if a PyQt5 event loop runs (or, inside a kernel, will run between
    requests) for ``app`` (default: the existing QApplication)."""
    return _is_running_qt("PyQt5", app)


def start_event_loop_qt5(app: Any = None) -> None:
    """Run ``app``'s event loop until it quits, unless a loop runs already."""
    _start_qt("PyQt5", app)


def get_app_qt6(*args: Any, **kwargs: Any) -> Any:
    """As :func:`get_app_qt5`, for PyQt6."""
    return _get_app_qt("PyQt6", args, kwargs)


def is_event_loop_running_qt6(app: Any = None) -> bool:
    """As :func:`is_event_loop_running_qt5`, for PyQt6."""
    return _is_running_qt("PyQt6", app)


def start_event_loop_qt6(app: Any = None) -> None:
    """As :func:`start_event_loop_qt5`, for PyQt6."""
    _start_qt("PyQt6", app)


# -- Tk -------------------------------------------------------------------------
#
# Tk has no application object: each ``tkinter.Tk()`` is an interpreter of its
# own, and the one created first is tkinter's *default root*. Tcl dispatches
# events per thread, so a loop driving any interpreter drives every
# interpreter of that thread. Tk cannot be asked whether a loop runs; it runs
# if tkinter's mainloop is on this thread's stack, or if a loop registered
# with share_tk_loop() is active for this thread.

_shared_tk_loops: "dict[int, weakref.ref]" = {}


def get_app_tk(*args: Any, **kwargs: Any) -> Any:
    """tkinter's default root, or a new ``tkinter.Tk(*args, **kwargs)`` (which
    becomes the default root)."""
    import tkinter

    root = getattr(tkinter, "_default_root", None)
    if root is None:
        root = tkinter.Tk(*args, **kwargs)
    return root


def is_event_loop_running_tk(app: Any = None) -> bool:
    """True if a Tk event loop serves ``app`` (default: the default root)."""
    tkinter = sys.modules.get("tkinter")
    if tkinter is None:
        return False
    if app is None:
        app = getattr(tkinter, "_default_root", None)
    # A False flag only says that this root's own loop ended: the thread's
    # events may still be dispatched by another interpreter's loop.
    if app is not None and _flag(app):
        return True
    return _tk_loop_serves_this_thread(tkinter)


def start_event_loop_tk(app: Any = None) -> None:
    """Run ``app.mainloop()`` until its windows are gone, unless a loop runs already."""
    if app is None:
        app = get_app_tk()
    if is_event_loop_running_tk(app):
        return
    setattr(app, _FLAG, True)
    try:
        app.mainloop()
    finally:
        setattr(app, _FLAG, False)


def share_tk_loop(app: Any) -> None:
    """Declare that the loop flagged on ``app`` (an interpreter of the calling
    thread) dispatches the events of every Tk interpreter of this thread, so
    that roots created later count as served while ``app._in_event_loop``.

    Kernels call this for the hidden interpreter that drives ``%gui tk``."""
    _shared_tk_loops[threading.get_ident()] = weakref.ref(app)


def _tk_loop_serves_this_thread(tkinter: Any) -> bool:
    ref = _shared_tk_loops.get(threading.get_ident())
    shared = ref() if ref is not None else None
    if shared is not None and _flag(shared):
        return True
    codes = {tkinter.mainloop.__code__, tkinter.Misc.mainloop.__code__}
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code in codes:
            return True
        frame = frame.f_back
    return False


# -- wx -------------------------------------------------------------------------

def get_app_wx(*args: Any, **kwargs: Any) -> Any:
    """The running ``wx.App``, or a new one (``redirect=False`` unless given)."""
    import wx

    app = wx.GetApp()
    if app is None:
        kwargs.setdefault("redirect", False)
        app = wx.App(*args, **kwargs)
    return app


def is_event_loop_running_wx(app: Any = None) -> bool:
    """True if a wx main loop runs for ``app`` (default: the running wx.App)."""
    if app is None:
        wx = sys.modules.get("wx")
        app = wx.GetApp() if wx is not None else None
        if app is None:
            return False
    flag = _flag(app)
    if flag is not None:
        return flag
    return bool(app.IsMainLoopRunning())


def start_event_loop_wx(app: Any = None) -> None:
    """Run ``app.MainLoop()``, unless a loop runs already."""
    if app is None:
        app = get_app_wx()
    if is_event_loop_running_wx(app):
        return
    setattr(app, _FLAG, True)
    try:
        app.MainLoop()
    finally:
        setattr(app, _FLAG, False)
