"""Building consoles and windows from command-line options.

Kept apart from ``__main__`` (argument parsing, the display check, the
QApplication) so it can be driven inside an existing application, as the
tests do.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Callable, List, Optional

from PyQt5.QtCore import QObject
from PyQt5.QtWidgets import QMessageBox

from kernel.client import KernelClient
from kernel.connect import ConnectionFileError, find_connection_file
from kernel.kernelspec import NoSuchKernel
from kernel.manager import KernelManager

from .config import EffectiveSettings, option_overrides
from .console.outputs import NoticeOp
from .console.theme import default_font
from .console.widget import ConsoleWidget
from .exitexport import ExportOnClose, numbered
from .kernelprefs import KernelPreferences
from .mainwindow import MainWindow
from .settings import Preferences
from .shortcuts import apply_bindings, apply_to_keymap

log = logging.getLogger(__name__)


class LaunchError(Exception):
    """The kernel to use could not even be found (bad --existing or --kernel)."""


def make_console(options: argparse.Namespace, prefs: Preferences) -> ConsoleWidget:
    """A console for ``--existing`` / ``--kernel`` / our own kernel, set up from the
    command line over the config file over the defaults."""
    try:
        settings = EffectiveSettings(prefs.config, option_overrides(options))
    except ValueError as exc:
        raise LaunchError(f"bad option {exc}") from None
    manager: Optional[KernelManager] = None
    client: Optional[KernelClient] = None
    username = settings["kernel.username"] or None
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
    console = ConsoleWidget(
        manager, client, username=username,
        theme=settings["appearance.theme"],
        syntax_style=settings["appearance.syntax_style"] or None,
        font=default_font(settings["appearance.font_size"], settings["appearance.font_family"] or None),
        scrollback_bytes=int(settings["console.scrollback_mb"] * 1024 * 1024),
        confirm_restart=settings["kernel.confirm_restart"],
        autorestart=not options.no_autorestart,
        start=False,
    )
    console.shutdown_kernel_on_close = manager is not None
    console.editor_command = settings["console.editor"] or None
    console.paging = settings["console.paging"]
    KernelPreferences(console, settings["kernel.figure_format"])  # a child of the console: lives as long
    apply_to_keymap(console.keymap, prefs.config.keys)
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
        self._reported = False  # config problems are shown in the first window only
        self._opened = 0

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
        console.ready.connect(lambda _info, c=console: log.info("kernel connection file: %s", _connection_file(c)))
        console.executed.connect(lambda reply: log.debug("cell %s finished: %s", reply["content"].get(
            "execution_count"), reply["content"].get("status")))
        config = self.prefs.config
        problems = [str(p) for p in config.problems]
        problems += apply_bindings(window, config.keys, source=str(config.path or "configuration"))
        if not self._reported:
            for problem in problems:
                console.present(NoticeOp(problem, level="error"))
            self._reported = True
        if getattr(self.options, "export_on_exit", None):
            self._opened += 1
            ExportOnClose(window, numbered(Path(self.options.export_on_exit), self._opened))
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


def _connection_file(console: ConsoleWidget) -> str:
    client = console.client
    return str(client.connection_file) if client is not None and client.connection_file else "(none)"
