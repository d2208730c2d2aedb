"""``qtapp`` / ``python -m qtapp``: the console application."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from typing import Mapping, Optional

from kernel._version import __version__

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
                        help="the name this console gives in its messages to the kernel (default: your login name)")
    kernel.add_argument("--no-autorestart", action="store_true",
                        help="do not restart a kernel that died (a started kernel is restarted up to "
                             "3 times a minute by default)")
    kernel.add_argument("--no-confirm-restart", action="store_true",
                        help="restart the kernel (Ctrl+.) without asking first")
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
    other.add_argument("--paging", choices=("inline", "pager", "auto"), default=None,
                       help="where help (obj?, obj??) goes: in the transcript, in a pager pane below it, "
                            "or inline when short (default: the last one chosen, else auto)")
    other.add_argument("--settings", metavar="FILE", default=None,
                       help="keep preferences in this INI file instead of the user's settings")
    other.add_argument("--debug", action="store_true", help="log debug messages to stderr")
    other.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


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
    never reaches: the wakeup socket makes the loop notice.
    """
    from PyQt5.QtCore import QSocketNotifier
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
        signal.signal(signum, lambda *_: QApplication.closeAllWindows())
    app._signal_sockets = (rsock, wsock, notifier)  # kept alive with the app


def main(argv: Optional[list] = None) -> int:
    options = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if options.debug else logging.WARNING,
                        format="[qtapp %(levelname)s %(name)s] %(message)s", stream=sys.stderr)
    problem = display_problem(os.environ)
    if problem:
        print(problem, file=sys.stderr)
        return NO_DISPLAY_EXIT
    from PyQt5.QtCore import Qt
    from PyQt5.QtWidgets import QApplication

    from .app import ConsoleApp
    from .settings import APPLICATION, ORGANIZATION, Preferences, open_settings

    QApplication.setAttribute(Qt.AA_EnableHighDpiScaling, True)
    QApplication.setAttribute(Qt.AA_UseHighDpiPixmaps, True)
    app = QApplication(sys.argv[:1])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName("qtapp")
    app.setDesktopFileName("qtapp")
    _quit_on_signals(app)
    prefs = Preferences(open_settings(options.settings))
    console_app = ConsoleApp(options, prefs, exit=app.exit)
    console_app.open_window()
    app.setQuitOnLastWindowClosed(True)
    code = app.exec_()
    prefs.sync()
    return code


if __name__ == "__main__":
    sys.exit(main())
