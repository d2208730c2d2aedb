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
from kernel.connect import ConnectionFileError, find_connection_file, read_connection_file
from kernel.kernelspec import NoSuchKernel
from kernel.manager import KernelManager

from .config import EffectiveSettings, option_overrides
from .console.outputs import NoticeOp
from .console.theme import default_font
from .console.widget import ConsoleWidget
from .exitexport import ExportOnClose, numbered
from .kernel_users import KernelUsers
from .kernelprefs import KernelPreferences
from .mainwindow import MainWindow
from .remote import RemoteKernel
from .settings import Preferences
from .shortcuts import apply_bindings, apply_to_keymap
from .tabcommands import LaunchFailed

log = logging.getLogger(__name__)


class LaunchError(LaunchFailed):
    """The kernel to use could not even be found (bad --existing or --kernel)."""


def remote_kernel(options: argparse.Namespace) -> Optional[RemoteKernel]:
    """The kernel ``--existing FILE --ssh SERVER`` names (None without --ssh)."""
    ssh = getattr(options, "ssh", None)
    if not ssh:
        if getattr(options, "sshkey", None) or getattr(options, "ssh_option", None):
            raise LaunchError("--sshkey and --ssh-option only make sense with --ssh")
        return None
    if options.existing is None:
        raise LaunchError("--ssh needs --existing FILE: the connection file of the kernel on the remote machine "
                          "(copied from its runtime directory)")
    try:
        path = find_connection_file(options.existing or None)
        info = read_connection_file(path)
    except ConnectionFileError as exc:
        raise LaunchError(f"cannot attach to a kernel: {exc}") from None
    log.info("attaching to the kernel of %s on %s", path, ssh)
    return RemoteKernel(info, ssh, options.sshkey, ssh_options=options.ssh_option, source=path)


def make_console(options: argparse.Namespace, prefs: Preferences,
                 client: Optional[KernelClient] = None, remote: Optional[RemoteKernel] = None,
                 manager: Optional[KernelManager] = None) -> ConsoleWidget:
    """A console for ``--existing`` (``--ssh``) / ``--kernel`` / our own kernel
    (or, given ``client`` or ``remote``, attached through it), set up from the
    command line over the config file over the defaults."""
    try:
        settings = EffectiveSettings(prefs.config, option_overrides(options))
    except ValueError as exc:
        raise LaunchError(f"bad option {exc}") from None
    username = settings["kernel.username"] or None
    if client is None and remote is None and manager is None:
        remote = remote_kernel(options)
    if manager is not None:
        pass  # started early for this console (see qtapp.__main__)
    elif client is None and remote is None and options.existing is not None:
        try:
            path = find_connection_file(options.existing or None)
            client = KernelClient.from_connection_file(path, username=username)
        except ConnectionFileError as exc:
            raise LaunchError(f"cannot attach to a kernel: {exc}") from None
        log.info("attaching to the kernel of %s", path)
    elif client is None and remote is None:
        try:
            manager = KernelManager(kernel_name=options.kernel, username=username) if options.kernel \
                else KernelManager(username=username)
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
        connector=remote,
    )
    console.shutdown_kernel_on_close = manager is not None
    console.editor_command = settings["console.editor"] or None
    console.paging = settings["console.paging"]
    KernelPreferences(console, settings["kernel.figure_format"])  # a child of the console: lives as long
    apply_to_keymap(console.keymap, prefs.config.keys)
    console.set_zoom(prefs.zoom)
    console.set_others_visible(settings["console.show_others"])
    return console


class ConsoleApp(QObject):
    """The windows of one process; ``exit`` is how it ends the application."""

    def __init__(self, options: argparse.Namespace, prefs: Preferences, exit: Callable[[int], None],
                 early_kernel: Optional[KernelManager] = None):
        super().__init__()
        self.options = options
        self.prefs = prefs
        self.exit = exit
        #: the first window's kernel, started before Qt loaded (used once)
        self._early_kernel = early_kernel
        self.windows: List[MainWindow] = []
        self._reported = False  # config problems are shown in the first window only
        self._opened = 0
        #: the consoles of all windows, by kernel
        self.users = KernelUsers()

    def open_window(self, options: Optional[argparse.Namespace] = None) -> Optional[MainWindow]:
        """A new window (its own kernel unless ``--existing``); None if it cannot start."""
        options = options or self.options
        early, self._early_kernel = self._early_kernel, None
        try:
            console = make_console(options, self.prefs, manager=early)
        except LaunchError as exc:
            if early is not None:
                early.shutdown(now=True)  # started for this window, which will not open
            self._launch_failed(str(exc))
            return None
        window = MainWindow(console, self.prefs, new_window=self._new_own_window, host=self)
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

    # -- consoles for new tabs (TabHost) ----------------------------------------------------
    def _options(self, **changes) -> argparse.Namespace:
        """The command line's options for a local kernel, with ``changes``."""
        opts = argparse.Namespace(**vars(self.options))
        opts.ssh, opts.sshkey, opts.ssh_option = None, None, []
        for name, value in changes.items():
            setattr(opts, name, value)
        return opts

    def new_kernel_console(self) -> ConsoleWidget:
        """A console with a kernel of its own (the kind given by ``--kernel``)."""
        return make_console(self._options(existing=None), self.prefs)

    def same_kernel_console(self, console: ConsoleWidget) -> ConsoleWidget:
        """Another console on ``console``'s kernel, attached (the first keeps owning it)."""
        username = self.options.username or self.prefs.username
        if console.lifecycle.connector is not None and console.manager is None:
            # through the same tunnel, which stays up while either console uses it
            new = make_console(self._options(existing=None), self.prefs, remote=console.lifecycle.connector)
            new.shutdown_kernel_on_close = False
            return new
        if console.manager is not None and console.manager.info is not None:
            client = console.manager.client(username=username)  # keeps its key in step on restarts
        elif console.client is not None and console.client.connection_file is not None:
            try:
                client = KernelClient.from_connection_file(console.client.connection_file, username=username)
            except ConnectionFileError as exc:
                raise LaunchFailed(f"cannot open another tab on this kernel: {exc}") from None
        else:
            raise LaunchFailed("this tab's kernel has no connection file to share")
        new = make_console(self._options(existing=None), self.prefs, client=client)
        new.shutdown_kernel_on_close = False
        return new

    def attached_console(self, path: Path) -> ConsoleWidget:
        return make_console(self._options(existing=str(path)), self.prefs)

    def shutdown(self) -> None:
        """The application ends: stop the kernels it kept running for others."""
        self.users.shutdown_kept()

    def _new_own_window(self) -> None:
        self.open_window(self._options(existing=None))  # a new window gets a new kernel

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
