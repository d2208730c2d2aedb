"""``%gui``: which event loop the kernel's main thread runs between requests.

The engine's shell calls :class:`GuiSwitch` from ``enable_gui`` (``%gui``,
``%matplotlib``). It builds the toolkit's loop first, so that a missing
toolkit or display fails with a clear message while the current loop goes on
unchanged, then swaps ``app.event_loop``; the loop running the request sees
the swap when the request ends and hands over (see :mod:`kernel.eventloops`).
Loops are kept once built: a QApplication or a Tcl interpreter lives as long
as the process, and leaving ``%gui qt5`` and coming back reuses it.

This module is imported with the engine, never by the kernel's first
requests; toolkits are imported only when a loop for them is asked for.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from typing import Any, Callable, Optional

from IPython.core.error import UsageError

from .eventloops import GuiUnavailable, ZmqLoop

log = logging.getLogger(__name__)


def _qt_loop(name: str) -> Callable[[], Any]:
    def make() -> Any:
        from .qtloop import QtLoop

        return QtLoop(name)
    return make


def _tk_loop() -> Any:
    from .tkloop import TkLoop

    return TkLoop()


#: Loop name -> factory. ``None`` is the plain loop: no toolkit.
LOOPS: dict = {
    None: ZmqLoop,
    "qt5": _qt_loop("qt5"),
    "qt6": _qt_loop("qt6"),
    "tk": _tk_loop,
}
#: Names IPython and matplotlib use for the plain loop.
PLAIN = frozenset({"", "none", "off", "inline", "agg"})
#: Toolkits IPython knows that this kernel does not run, and why.
NOT_HERE = {
    "qt4": "Qt 4 is not supported; use qt5 or qt6",
    "wx": "this kernel has no wx event loop",
    "gtk": "this kernel has no GTK event loop", "gtk3": "this kernel has no GTK event loop",
    "gtk4": "this kernel has no GTK event loop",
    "osx": "this kernel has no Cocoa event loop; use qt5, qt6 or tk",
    "glut": "this kernel has no GLUT event loop", "pyglet": "this kernel has no pyglet event loop",
    "asyncio": "this kernel has no asyncio event loop integration",
}


def choose_qt() -> str:
    """``qt``: the Qt already in use in this process, else PyQt5 (a
    dependency of this project), else PyQt6."""
    from .qtloop import BINDINGS

    for test in (_has_application, _is_loaded, _is_installed):
        for name, binding in BINDINGS.items():
            if test(binding):
                return name
    return "qt5"


def _has_application(binding: str) -> bool:
    widgets = sys.modules.get(f"{binding}.QtWidgets")
    return widgets is not None and widgets.QApplication.instance() is not None


def _is_loaded(binding: str) -> bool:
    return f"{binding}.QtCore" in sys.modules


def _is_installed(binding: str) -> bool:
    return importlib.util.find_spec(binding) is not None


class GuiSwitch:
    """The shell's ``gui_handler``: selects and starts event loops for ``app``."""

    def __init__(self, app: Any):
        self.app = app
        self.shell: Any = None
        self._loops: dict = {}

    def install(self, shell: Any) -> None:
        """Become ``shell``'s gui handler and its ``%gui`` magic, and close
        the windows of every toolkit used when the kernel shuts down."""
        self.shell = shell
        shell.gui_handler = self
        shell.register_magic_function(self.gui_magic, "line", "gui")
        self.app.add_exit_hook(self.close_windows)

    def resolve(self, gui: Optional[str]) -> Optional[str]:
        """The loop name for a ``%gui``/``enable_gui`` argument; UsageError if none."""
        name = (gui or "").strip().lower()
        if name in PLAIN:
            return None
        if name == "qt":
            return choose_qt()
        if name in LOOPS:
            return name
        reason = NOT_HERE.get(name, f"unknown GUI {gui!r}")
        raise UsageError(f"%gui {gui}: {reason}. This kernel runs: {', '.join(self.names())}, "
                         "or no toolkit (plain %gui)")

    @staticmethod
    def names() -> list:
        return ["qt", *(n for n in LOOPS if n)]

    def __call__(self, gui: Optional[str] = None) -> None:
        name = self.resolve(gui)
        current = self.app.event_loop
        if current is not None and current.name == name:
            return
        loop = self._loops.get(name)
        if loop is None:
            try:
                loop = LOOPS[name]()
            except GuiUnavailable as exc:
                raise UsageError(str(exc)) from None
            self._loops[name] = loop
        if current is not None:
            current.deactivate()
        loop.activate()
        self.app.event_loop = loop
        log.info("event loop: %s", name or "plain (no toolkit)")

    def gui_magic(self, line: str = "") -> None:
        """Run a GUI toolkit's event loop in the kernel between requests.

            %gui qt5    # PyQt5 (also: %gui qt, the Qt in use or installed)
            %gui qt6    # PyQt6
            %gui tk     # Tk
            %gui        # back to no toolkit

        Windows created by your code then stay responsive while the console
        waits for input. Do not start the toolkit's loop yourself (no
        app.exec_(), no root.mainloop()): kernel.guisupport's
        start_event_loop_* functions know that it already runs.
        """
        self.shell.enable_gui(line.strip() or None)

    def close_windows(self) -> None:
        for loop in self._loops.values():
            closer = getattr(loop, "close_windows", None)
            if closer is None:
                continue
            try:
                closer()
            except Exception:
                log.exception("closing the windows of %s failed", loop.name)
