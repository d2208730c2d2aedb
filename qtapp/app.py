"""Building consoles and windows from command-line options.

Kept apart from ``__main__`` (argument parsing, the display check, the
QApplication) so it can be driven inside an existing application, as the
tests do.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable, List, Optional

from PyQt5.QtCore import QObject
from PyQt5.QtWidgets import QMessageBox

from kernel.client import KernelClient
from kernel.connect import ConnectionFileError, find_connection_file
from kernel.kernelspec import NoSuchKernel
from kernel.manager import KernelManager

from .console.theme import default_font
from .console.transcript import DEFAULT_SCROLLBACK_BYTES
from .console.widget import ConsoleWidget
from .mainwindow import MainWindow
from .settings import Preferences

log = logging.getLogger(__name__)


class LaunchError(Exception):
    """The kernel to use could not even be found (bad --existing or --kernel)."""


def make_console(options: argparse.Namespace, prefs: Preferences) -> ConsoleWidget:
    """A console for ``--existing`` / ``--kernel`` / our own kernel."""
    manager: Optional[KernelManager] = None
    client: Optional[KernelClient] = None
    username = options.username or None
    if options.existing is not None:
        try:
            path = find_connection_file(options.existing or None)
            client = KernelClient.from_connection_file(path, username=username)
        except ConnectionFileError as exc:
            raise LaunchError(f"cannot attach to a kernel: {exc}") from None
        log.info("attaching to the kernel of %s", path)
    else:
        try:
            manager = KernelManager(kernel_name=options.kernel) if options.kernel else KernelManager()
        except NoSuchKernel as exc:
            raise LaunchError(str(exc)) from None
    family = options.font or prefs.font_family
    size = options.font_size or prefs.font_size
    console = ConsoleWidget(
        manager, client, username=username,
        theme=options.theme or prefs.theme,
        syntax_style=options.style or prefs.syntax_style,
        font=default_font(size, family),
        scrollback_bytes=int(options.scrollback * 1024 * 1024) if options.scrollback else DEFAULT_SCROLLBACK_BYTES,
        confirm_restart=prefs.confirm_restart and not options.no_confirm_restart,
        autorestart=not options.no_autorestart,
        start=False,
    )
    console.shutdown_kernel_on_close = manager is not None
    console.editor_command = options.editor or prefs.editor_command
    console.paging = getattr(options, "paging", None) or prefs.paging
    console.set_zoom(prefs.zoom)
    return console


class ConsoleApp(QObject):
    """The windows of one process; ``exit`` is how it ends the application."""

    def __init__(self, options: argparse.Namespace, prefs: Preferences, exit: Callable[[int], None]):
        super().__init__()
        self.options = options
        self.prefs = prefs
        self.exit = exit
        self.windows: List[MainWindow] = []

    def open_window(self, options: Optional[argparse.Namespace] = None) -> Optional[MainWindow]:
        """A new window (its own kernel unless ``--existing``); None if it cannot start."""
        options = options or self.options
        try:
            console = make_console(options, self.prefs)
        except LaunchError as exc:
            self._launch_failed(str(exc))
            return None
        window = MainWindow(console, self.prefs, new_window=self._new_own_window)
        window.fatal_error.connect(lambda _reason, _output, w=window: self._fatal(w))
        window.destroyed.connect(lambda _obj=None, w=window: self._forget(w))
        self.windows.append(window)
        console.prompt_changed.connect(lambda count, c=console: count is not None and c.is_ready and
                                       log.info("console ready: %s", c.editor.prompt.strip()))
        window.show()
        console.controller.start()
        console.setFocus()
        return window

    def _new_own_window(self) -> None:
        opts = argparse.Namespace(**vars(self.options))
        opts.existing = None  # a new window gets a new kernel
        self.open_window(opts)

    def _forget(self, window: MainWindow) -> None:
        if window in self.windows:
            self.windows.remove(window)

    def _fatal(self, window: MainWindow) -> None:
        window.close()
        self._forget(window)
        if not self.windows:
            self.exit(1)

    def _launch_failed(self, message: str) -> None:
        print(f"qtapp: {message}", file=sys.stderr)
        box = QMessageBox(QMessageBox.Critical, "qtapp", message, QMessageBox.Ok)
        box.setObjectName("launch_error_dialog")
        box.finished.connect(lambda _r: self.exit(1) if not self.windows else None)
        self.error_dialog = box
        box.open()
