"""Helpers for tests that run qtapp as a separate process on a real X server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional

from xvfb import XVFB


def real_window_unavailable() -> str:
    """Why a real X11 window cannot be opened here ("" when it can)."""
    if XVFB is None:
        return "Xvfb is not installed (apt-get install xvfb)"
    from qtapp.platformcheck import find_xcb_plugin, missing_libraries

    plugin = find_xcb_plugin({})
    if plugin is None:
        return "Qt's xcb platform plugin is not installed"
    missing = missing_libraries(plugin)
    if missing:
        return f"Qt's xcb plugin lacks system libraries: {', '.join(missing)}"
    return ""


def display_env(display: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = display
    env.update(extra)
    return env


class AppProcess:
    """A qtapp process whose stderr (with --debug) is collected line by line by a thread,
    so a chatty log never fills the pipe and stalls the app."""

    def __init__(self, argv: List[str], env: dict, cwd: Optional[Path] = None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.lines: List[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in iter(self.proc.stderr.readline, b""):
            with self._changed:
                self.lines.append(raw.decode(errors="replace"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for_line(self, needle: str, timeout: float = 90.0, after: int = 0) -> str:
        """The first stderr line (from line ``after`` on) containing ``needle``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            index = after
            while True:
                while index < len(self.lines):
                    if needle in self.lines[index]:
                        return self.lines[index]
                    index += 1
                if not self._reader.is_alive():
                    raise AssertionError(f"qtapp exited ({self.proc.poll()}) before {needle!r}:\n"
                                         + "".join(self.lines[-40:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line with {needle!r} within {timeout:.0f} s; stderr so far:\n"
                                         + "".join(self.lines[-40:]))
                self._changed.wait(min(left, 1.0))

    def count(self, needle: str) -> int:
        return sum(needle in line for line in self.lines)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as a logout would: the app closes its windows and kernels."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._reader.join(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def xprop(display: str, *args: str) -> Optional[str]:
    """xprop's output, or None when xprop is not installed."""
    if shutil.which("xprop") is None:
        return None
    out = subprocess.run(["xprop", "-display", display, *args], capture_output=True, text=True, timeout=30)
    return out.stdout + out.stderr


_GRAB = ("import sys\n"
         "from PyQt5.QtGui import QGuiApplication\n"
         "app = QGuiApplication(['screen-grab'])\n"
         "sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)\n")


def grab_screen(display: str, path: Path) -> Path:
    """The whole X screen as a PNG, taken by a separate X client (as `import -window root` would)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-c", _GRAB, str(path)], env=display_env(display, QT_QPA_PLATFORM="xcb"),
                   check=True, timeout=60, capture_output=True)
    return path


class XDo:
    """xdotool on one display: real key presses through the X server (XTEST)."""

    def __init__(self, display: str):
        self.env = display_env(display)

    def __call__(self, *args: str) -> str:
        out = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"xdotool {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def type(self, text: str) -> None:
        self("type", "--delay", "25", "--", text)

    def key(self, *keys: str) -> None:
        self("key", "--delay", "25", *keys)
