"""``%gui qt5`` / ``%gui qt6``: the kernel's main thread runs Qt's event loop.

Between requests the thread sleeps in a ``QEventLoop``, so timers, sockets
and windows of user code are served, while two ``QSocketNotifier`` end that
loop the moment a shell request or a wake-up (shutdown, SIGINT) arrives:
requests are handled at once, never after a polling interval. While a
request runs, the loop is not running and both notifiers are disabled, so
windows are processed only if user code does so (as in IPython), and a
``processEvents()`` in user code can neither start a nested request nor
swallow an interrupt.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import socket
import sys
import traceback
from typing import Mapping, Optional

import zmq

from . import guisupport
from .eventloops import GuiUnavailable, drain_pipe, sigint_blocked

log = logging.getLogger(__name__)

#: %gui name -> the binding that provides it.
BINDINGS = {"qt5": "PyQt5", "qt6": "PyQt6"}
#: Qt platform plugins that need no window server.
WINDOWLESS_PLATFORMS = frozenset({
    "offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay", "directfb",
})


class QtLoop:
    """Qt's event loop between requests, for one binding (PyQt5 or PyQt6)."""

    def __init__(self, name: str = "qt5"):
        self.name = name
        binding = BINDINGS[name]
        if importlib.util.find_spec(binding) is None:
            raise GuiUnavailable(f"%gui {name} needs {binding}, which is not installed here")
        for other in BINDINGS.values():
            widgets = sys.modules.get(f"{other}.QtWidgets")
            if other != binding and widgets is not None and widgets.QApplication.instance() is not None:
                raise GuiUnavailable(
                    f"{other} already runs a QApplication in this kernel, and two Qt versions cannot "
                    f"share a process; restart the kernel to use {binding}")
        try:
            self.QtCore = importlib.import_module(f"{binding}.QtCore")
            QtWidgets = importlib.import_module(f"{binding}.QtWidgets")
        except ImportError as exc:
            raise GuiUnavailable(f"%gui {name} needs {binding}, which cannot be imported here: {exc}") from None
        qapp = QtWidgets.QApplication.instance()
        if qapp is None:
            problem = display_problem(os.environ, int(name[-1]))
            if problem:
                raise GuiUnavailable(f"cannot start the Qt event loop: {problem}")
            if name == "qt5":  # Qt 6 scales for high-DPI screens by itself
                for attribute in ("AA_EnableHighDpiScaling", "AA_UseHighDpiPixmaps"):
                    QtWidgets.QApplication.setAttribute(getattr(self.QtCore.Qt, attribute), True)
            with sigint_blocked():
                qapp = guisupport.get_app_qt6() if name == "qt6" else guisupport.get_app_qt5()
        # Windows come and go between requests; the kernel is not a window.
        qapp.setQuitOnLastWindowClosed(False)
        self.qapp = qapp

    def activate(self) -> None:
        self.qapp._in_event_loop = True

    def deactivate(self) -> None:
        self.qapp._in_event_loop = False

    def run(self, app) -> None:
        QtCore = self.QtCore
        loop = QtCore.QEventLoop()
        read = QtCore.QSocketNotifier.Type.Read
        shell = QtCore.QSocketNotifier(app.shell_socket.getsockopt(zmq.FD), read)
        wake = QtCore.QSocketNotifier(app.wake_fd, read)

        def on_wake(_fd: int) -> None:
            drain_pipe(app.wake_fd)
            loop.exit(0)

        shell.activated.connect(lambda _fd: loop.exit(0))
        wake.activated.connect(on_wake)
        # PyQt aborts the process on an exception in a slot when sys.excepthook
        # is Python's own; a user's failing timer callback must not kill the
        # kernel. Set here, between requests: IPython swaps in a hook of its
        # own for the length of each cell and then restores the one it found.
        if sys.excepthook is sys.__excepthook__:
            sys.excepthook = report_callback_exception
        try:
            while not app.stopping and app.event_loop is self:
                if app.shell_pending():
                    shell.setEnabled(False)
                    wake.setEnabled(False)
                    try:
                        app.process_shell()
                    finally:
                        shell.setEnabled(True)
                        wake.setEnabled(True)
                    continue
                if loop.exec() < 0:
                    self._forget_quit()
        finally:
            shell.setEnabled(False)
            wake.setEnabled(False)

    def _forget_quit(self) -> None:
        """After ``QApplication.quit()`` every event loop returns at once until
        the application's own exec() runs again; run it for one turn, which
        also lets ``aboutToQuit`` reach whoever listens."""
        log.info("user code asked Qt to quit; the kernel keeps serving (windows stay open)")
        self.QtCore.QTimer.singleShot(0, self.qapp.exit)
        self.qapp.exec()

    def close_windows(self) -> None:
        """Close every top-level window (their closeEvent runs) and let Qt
        finish deferred deletions, before the process ends."""
        QtCore = self.QtCore
        self.qapp.closeAllWindows()
        self.qapp.processEvents()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)


def report_callback_exception(etype, value, tb) -> None:
    """sys.excepthook for callbacks run by a toolkit: show the traceback on
    stderr (the console of the last request), as tkinter does, and go on."""
    try:
        sys.stderr.write("Exception in a GUI callback:\n" + "".join(traceback.format_exception(etype, value, tb)))
        sys.stderr.flush()
    except Exception:
        log.exception("exception in a GUI callback", exc_info=(etype, value, tb))


def display_problem(environ: Mapping[str, str], qt_major: int = 5) -> Optional[str]:
    """Why Qt would find no display, or None. Qt ends the whole process when
    its platform plugin cannot connect, so the kernel asks before it tries."""
    if sys.platform in ("win32", "darwin"):
        return None
    requested = [p.split(":", 1)[0].strip() for p in environ.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    if any(p in WINDOWLESS_PLATFORMS for p in requested):
        return None
    wants_x = not requested or "xcb" in requested
    wants_wayland = any(p.startswith("wayland") for p in requested) or (not requested and qt_major >= 6)
    if not wants_x and not wants_wayland:
        return None  # a platform plugin we do not know: Qt decides
    if wants_wayland and environ.get("WAYLAND_DISPLAY"):
        return None
    if not wants_x:
        return "WAYLAND_DISPLAY is not set"
    display = environ.get("DISPLAY", "")
    if not display:
        return ("DISPLAY is not set (on a machine without a screen, start the kernel with "
                "QT_QPA_PLATFORM=offscreen, or under Xvfb)")
    if not x_server_answers(display):
        return f"no X server answers at DISPLAY={display}"
    return None


def x_server_answers(display: str, timeout: float = 2.0) -> bool:
    """Whether something accepts connections at an X display address
    (``[host]:N[.screen]``); addresses we cannot parse are given the benefit of the doubt."""
    host, sep, rest = display.rpartition(":")
    number = rest.split(".", 1)[0]
    if not sep or not number.isdigit():
        return True
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        for address in ("\0" + path, path):  # Linux servers also listen on the abstract name
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                try:
                    s.connect(address)
                    return True
                except OSError:
                    continue
        return False
    try:
        socket.create_connection((host.strip("[]"), 6000 + int(number)), timeout=timeout).close()
        return True
    except OSError:
        return False
