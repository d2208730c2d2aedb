"""``qtapp`` / ``python -m qtapp``: the console application."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from typing import Mapping, Optional

log = logging.getLogger(__name__)

#: QT_QPA_PLATFORM values that need no display server.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs", "vkkhrdisplay", "minimalegl")
NO_DISPLAY_EXIT = 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qtapp",
        description="A rich desktop console for Python. The code runs in a kernel, a separate process "
                    "the console starts (or one already running that it attaches to).",
    )
    kernel = p.add_argument_group("kernel")
    where = kernel.add_mutually_exclusive_group()
    where.add_argument("--existing", nargs="?", const="", default=None, metavar="FILE|FRAGMENT",
                       help="attach to a running kernel instead of starting one: a connection file path, "
                            "a file name in the Jupyter runtime directory, or a fragment of one "
                            "(as in 'kernel-1234'); alone, the newest kernel there")
    where.add_argument("--kernel", metavar="NAME", default=None,
                       help="start the installed Jupyter kernelspec NAME (e.g. python3) instead of "
                            "this console's own kernel")
    kernel.add_argument("--username", metavar="NAME", default=None,
                        help="the name this console gives in its messages to the kernel, which other "
                             "frontends on it show with your work (default: the one set in the Kernel "
                             "menu, else your login name)")
    kernel.add_argument("--no-autorestart", action="store_true",
                        help="do not restart a kernel that died (by default a started kernel is "
                             "restarted after each death, until it dies 5 times within a minute)")
    kernel.add_argument("--no-confirm-restart", action="store_true",
                        help="restart the kernel (Ctrl+.) without asking first")
    kernel.add_argument("--hide-others", action="store_true",
                        help="do not show what other frontends on the same kernel run and print "
                             "(View > Show others' activity turns it back on)")
    remote = p.add_argument_group("remote kernels (with --existing)")
    remote.add_argument("--ssh", metavar="USER@HOST[:PORT]", default=None,
                        help="reach the kernel of the --existing connection file on this ssh server: its five "
                             "ports are forwarded to this machine through one ssh process (key or agent login; "
                             "the host key must be known) for as long as the console runs")
    remote.add_argument("--sshkey", metavar="KEY", default=None, help="private key file for --ssh")
    remote.add_argument("--ssh-option", metavar="OPTION", action="append", default=[],
                        help="an ssh -o option for --ssh, such as UserKnownHostsFile=FILE (repeatable)")
    look = p.add_argument_group("appearance")
    look.add_argument("--theme", choices=("light", "dark"), default=None,
                      help="colour theme (default: the last one chosen, else light)")
    look.add_argument("--style", metavar="NAME", default=None,
                      help="pygments syntax style for code (default: the theme's)")
    look.add_argument("--font", metavar="FAMILY", default=None, help="monospace font family")
    look.add_argument("--font-size", metavar="POINTS", type=float, default=None, help="font size in points")
    look.add_argument("--scrollback", metavar="MB", type=float, default=None,
                      help="memory the transcript may use before the oldest output is dropped "
                           "(default: 128)")
    other = p.add_argument_group("other")
    other.add_argument("--editor", metavar="COMMAND", default=None,
                       help="editor for the kernel's %%edit, with {filename} and {line} placeholders "
                            "(default: the editor setting, else $VISUAL or $EDITOR, else the desktop's "
                            "default application)")
    # the console's PAGING_MODES, spelled out: importing them here would load Qt before the display check
    other.add_argument("--settings", metavar="FILE", default=None,
                       help="keep window state (size, position, zoom) in this INI file instead of the "
                            "user's settings")
    other.add_argument("--debug", action="store_true",
                       help="log debug messages to stderr and to a file in $XDG_STATE_HOME/qtapp "
                            "(~/.local/state/qtapp)")
    other.add_argument("--version", action=_VersionAction,
                       help="show the versions of qtapp, Python, Qt, PyQt and pyzmq, and exit")
    _add_desktop_options(p)
    return p


class _VersionAction(argparse.Action):
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from .about import version_text

        sys.stdout.write(version_text() + "\n")
        parser.exit()


def _add_desktop_options(p: argparse.ArgumentParser) -> None:
    from .config import FIGURE_FORMATS, PAGING_MODES

    config = p.add_argument_group("configuration")
    config.add_argument("--config", metavar="FILE", default=None,
                        help="read settings from FILE instead of $XDG_CONFIG_HOME/qtapp/config.toml "
                             "(~/.config/qtapp/config.toml)")
    config.add_argument("--generate-config", action="store_true",
                        help="write the config file with every setting documented (commented out, at its "
                             "default) and exit; an existing file is not overwritten")
    config.add_argument("--paging", choices=PAGING_MODES, default=None,
                        help="where help (obj?, obj??, %%pdoc) goes: in the transcript, in a pager pane "
                             "below it, or auto: inline when short (default: the config file's, else auto)")
    config.add_argument("--figure-format", choices=FIGURE_FORMATS, default=None,
                        help="format of inline matplotlib figures, set in the kernel at each connection")
    desktop = p.add_argument_group("desktop")
    desktop.add_argument("--install-desktop", action="store_true",
                         help="add qtapp to the desktop's application menu (a desktop entry and icons in "
                              "$XDG_DATA_HOME, ~/.local/share) and exit")
    desktop.add_argument("--uninstall-desktop", action="store_true",
                         help="remove what --install-desktop added and exit")
    desktop.add_argument("--export-on-exit", metavar="FILE", default=None,
                         help="when the window closes, save its transcript as HTML to FILE (more windows: "
                              "FILE-2, FILE-3...)")


def display_problem(env: Mapping[str, str], platform: str = sys.platform) -> Optional[str]:
    """Why Qt could not open a window here, as one line saying how to fix it, or None."""
    if not platform.startswith("linux") and "bsd" not in platform:
        return None
    requested = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip()
    if requested in HEADLESS_PLATFORMS:
        return None
    if requested.startswith("wayland"):
        if env.get("WAYLAND_DISPLAY"):
            return None
    elif requested == "xcb":
        if env.get("DISPLAY"):
            return None
    elif env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return ("qtapp: no display available: set DISPLAY (or WAYLAND_DISPLAY) to your display, "
            "or run it under a virtual one: xvfb-run qtapp")


def _quit_on_signals(app) -> None:
    """Ctrl+C or SIGTERM in the terminal closes the windows (and their kernels) cleanly.

    Python runs signal handlers only between bytecodes, which Qt's C++ loop
    never reaches: the wakeup socket makes the loop notice. The handler runs
    in the middle of whatever Python code was running (a slot half done), so
    it only asks the loop to close the windows once that code has returned.
    """
    from PyQt5.QtCore import QSocketNotifier, QTimer
    from PyQt5.QtWidgets import QApplication

    rsock, wsock = socket.socketpair()
    rsock.setblocking(False)
    wsock.setblocking(False)
    signal.set_wakeup_fd(wsock.fileno(), warn_on_full_buffer=False)
    notifier = QSocketNotifier(rsock.fileno(), QSocketNotifier.Read, app)

    def drain() -> None:
        try:
            while rsock.recv(64):
                pass
        except BlockingIOError:
            pass

    notifier.activated.connect(lambda _fd: drain())
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: QTimer.singleShot(0, QApplication.closeAllWindows))
    app._signal_sockets = (rsock, wsock, notifier)  # kept alive with the app


def _install_desktop(options: argparse.Namespace) -> int:
    from .desktop import DesktopFiles, data_home, install, launcher_argv

    argv = launcher_argv()
    try:
        install(argv=argv)
    except OSError as exc:
        print(f"qtapp: cannot install the desktop entry: {exc}", file=sys.stderr)
        return 1
    files = DesktopFiles(data_home())
    print(f"installed {files.entry} (it runs {' '.join(argv)}) and the icon in {files.hicolor}")
    return 0


def _uninstall_desktop(options: argparse.Namespace) -> int:
    from .desktop import uninstall

    try:
        removed = uninstall()
    except OSError as exc:
        print(f"qtapp: cannot remove the desktop entry: {exc}", file=sys.stderr)
        return 1
    print("\n".join(f"removed {path}" for path in removed) if removed else "qtapp's desktop entry was not installed")
    return 0


def _generate_config(options: argparse.Namespace) -> int:
    from .configgen import generate_default_config

    try:
        path = generate_default_config(options.config)
    except (FileExistsError, OSError) as exc:
        print(f"qtapp: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


#: options that do one thing and exit, without opening a window
ONE_SHOT_COMMANDS = {
    "install_desktop": _install_desktop,
    "uninstall_desktop": _uninstall_desktop,
    "generate_config": _generate_config,
}


def main(argv: Optional[list] = None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    from .logsetup import configure_logging

    configure_logging(options.debug)
    for dest, command in ONE_SHOT_COMMANDS.items():
        if getattr(options, dest):
            return command(options)
    from .config import load_config, option_overrides

    try:
        option_overrides(options)
    except ValueError as exc:
        parser.error(str(exc))
    from .platformcheck import window_system_problem

    problem = display_problem(os.environ) or window_system_problem(os.environ)
    if problem:
        print(problem, file=sys.stderr)
        return NO_DISPLAY_EXIT
    config = load_config(options.config)
    early = _start_kernel_early(options, config)
    from PyQt5.QtCore import Qt
    from PyQt5.QtWidgets import QApplication

    from .app import ConsoleApp
    from .settings import Preferences, migrate_to_config, open_settings

    QApplication.setAttribute(Qt.AA_EnableHighDpiScaling, True)
    QApplication.setAttribute(Qt.AA_UseHighDpiPixmaps, True)
    # argv[0] becomes the X11 WM_CLASS instance name: "qtapp", whatever started us
    app = QApplication(["qtapp"])
    identify_application(app)
    _quit_on_signals(app)
    log.debug("configuration: %s", config.path)
    settings = open_settings(options.settings)
    migrate_to_config(settings, config)
    prefs = Preferences(settings, config)
    console_app = ConsoleApp(options, prefs, exit=app.exit, early_kernel=early)
    console_app.open_window()
    app.setQuitOnLastWindowClosed(True)
    code = app.exec_()
    console_app.shutdown()
    prefs.sync()
    return code


def _start_kernel_early(options, config):
    """The first window's own kernel, already booting while Qt and the window
    load (a third of a second of imports and set-up that the kernel's own
    start-up then overlaps). None when the window attaches to a kernel, or
    when the kernel cannot even be named or an option is bad (the window
    reports those)."""
    if options.existing is not None or getattr(options, "ssh", None):
        return None
    from kernel.kernelspec import NoSuchKernel
    from kernel.manager import KernelManager

    from .config import EffectiveSettings, option_overrides

    try:
        username = EffectiveSettings(config, option_overrides(options))["kernel.username"] or None
        manager = KernelManager(kernel_name=options.kernel, username=username) if options.kernel \
            else KernelManager(username=username)
    except (ValueError, NoSuchKernel):
        return None
    manager.start_in_background()
    return manager


def identify_application(app) -> None:
    """The names and icon desktops use to group the windows and match the desktop entry."""
    from .icons import app_icon
    from .settings import APPLICATION, ORGANIZATION

    app.setApplicationName(APPLICATION)  # also the WM_CLASS class name
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName("qtapp")
    app.setDesktopFileName("qtapp")  # the desktop entry's name, for Wayland's app_id
    app.setWindowIcon(app_icon())


if __name__ == "__main__":
    sys.exit(main())
