"""The application in a real window, as a user meets it: installed as a desktop
entry, launched from it on an X server, typed into with real key presses
(xdotool), its transcript checked through its own HTML export, and
screenshots kept in test-artifacts/ for a person to look at. Then two
applications side by side, in two processes on one kernel, each typed into.

Run by `make test-desktop`, which installs Xvfb, xdotool and the xcb
libraries where it can; skipped with the reason where they are missing.
"""

from __future__ import annotations

import html
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from PyQt5.QtCore import QRect
from PyQt5.QtGui import QImage

from desktop_helpers import AppProcess, XDo, display_env, grab_screen, real_window_unavailable
from helpers import kernel_processes, wait_until
from qtapp import desktop
from qtapp.desktop import exec_split, parse_entry
from xvfb import xvfb_display

pytestmark = pytest.mark.desktop

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
TIMEOUT = 60.0


def _unavailable() -> str:
    reason = real_window_unavailable()
    if not reason and shutil.which("xdotool") is None:
        reason = "xdotool is not installed (make test-desktop installs it with apt-get where it can)"
    return reason


def _calltips_built() -> bool:
    """Call tips are a console feature of their own; checked here once the console has one."""
    return any("calltip" in p.stem for p in (ROOT / "qtapp" / "console").glob("*.py"))


def _window_rect(xdo: XDo, wid: str) -> QRect:
    geometry = dict(line.split("=", 1) for line in xdo("getwindowgeometry", "--shell", wid).split())
    return QRect(int(geometry["X"]), int(geometry["Y"]), int(geometry["WIDTH"]), int(geometry["HEIGHT"]))


def _changed_rect(before: QImage, after: QImage) -> QRect:
    """Bounding box of the pixels that differ (sampled every 2 px)."""
    xs, ys = [], []
    for y in range(0, min(before.height(), after.height()), 2):
        for x in range(0, min(before.width(), after.width()), 2):
            if before.pixel(x, y) != after.pixel(x, y):
                xs.append(x)
                ys.append(y)
    return QRect(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1) if xs else QRect()


class Session:
    """Typing into the app and waiting for what its --debug log says happened."""

    def __init__(self, app: AppProcess, xdo: XDo, display: str, rect: QRect, shots: Path):
        self.app, self.xdo, self.display, self.rect, self.shots = app, xdo, display, rect, shots

    def enter(self, text: str, expect: str) -> None:
        """Type a line, press Return, wait for the log line that says Enter was handled."""
        mark = len(self.app.lines)
        if text:
            self.xdo.type(text)
        self.xdo.key("Return")
        self.app.wait_for_line(expect, TIMEOUT, after=mark)

    def shot(self, name: str) -> QImage:
        path = grab_screen(self.display, self.shots / f"{name}-screen.png")
        image = QImage(str(path)).copy(self.rect)
        assert image.save(str(ARTIFACTS / f"{name}.png"))
        path.unlink()
        return image


def test_a_session_typed_into_the_window_launched_from_the_desktop_entry(tmp_path, session_dir):
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.monotonic()
    desktop.install(tmp_path / "data")
    entry = parse_entry((tmp_path / "data/applications/qtapp.desktop").read_text())["Desktop Entry"]
    export = tmp_path / "transcript.html"
    argv = exec_split(entry["Exec"]) + ["--debug", "--export-on-exit", str(export)]
    before = set(kernel_processes(session_dir))
    with xvfb_display() as display:
        app = AppProcess(argv, display_env(display, XDG_DATA_HOME=str(tmp_path / "data")))
        try:
            app.wait_for_line("console ready: In [1]:", TIMEOUT)
            xdo = XDo(display)
            wid = xdo("search", "--sync", "--onlyvisible", "--classname", "^qtapp$").split()[0]
            assert wid in xdo("search", "--class", "^qtapp$").split()  # WM_CLASS is qtapp.qtapp
            xdo("windowfocus", "--sync", wid)
            s = Session(app, xdo, display, _window_rect(xdo, wid), tmp_path)

            s.enter('print("hello from a real window")', "cell 1 finished: ok")
            # a function typed as a user types it: Enter asks the kernel whether the cell is complete
            s.enter("def greet(name):", "Enter: the cell is incomplete")
            s.enter('return "hi " + name', "Enter: the cell is incomplete")
            xdo.key("BackSpace", "BackSpace", "BackSpace", "BackSpace")  # a blank line ends the block
            s.enter("", "cell 2 finished: ok")
            s.enter('greet("desktop")', "cell 3 finished: ok")

            xdo.type("greet")
            typed = s.shot("desktop-calltip-before")
            xdo.type("(")
            if _calltips_built():
                deadline = time.monotonic() + TIMEOUT
                while True:  # the tip comes after the kernel answers an inspect_request
                    tip = s.shot("desktop-calltip")
                    changed = _changed_rect(typed, tip)
                    if changed.height() > 40 or time.monotonic() > deadline:
                        break
                assert changed.height() > 40, "no call tip appeared below or above the line"
            else:
                s.shot("desktop-calltip")
            xdo.key("Escape", "ctrl+e", "ctrl+u")  # close the tip, empty the line
            (ARTIFACTS / "desktop-calltip-before.png").unlink()

            s.enter("import matplotlib.pyplot as plt", "cell 4 finished: ok")
            s.enter("plt.plot([1, 4, 2, 3]); plt.title('drawn in a real window')", "cell 5 finished: ok")
            session = s.shot("desktop-session")
            assert not session.isNull() and session.width() > 400

            mark = len(app.lines)
            xdo.key("alt+h", "a")  # Help > About, by its mnemonics
            about = xdo("search", "--sync", "--onlyvisible", "--name", "^About qtapp$").split()[0]
            s.shot("desktop-about")
            xdo("windowfocus", "--sync", about)
            xdo.key("Return")
            xdo("windowfocus", "--sync", wid)  # no window manager here to give it back
            xdo.key("alt+h", "k")  # Help > Keyboard shortcuts
            shortcuts = xdo("search", "--sync", "--onlyvisible", "--name", "^Keyboard shortcuts$").split()[0]
            s.shot("desktop-shortcuts")
            xdo("windowfocus", "--sync", shortcuts)
            xdo.key("Escape")
            assert app.count("Traceback") == 0, "".join(app.lines[mark:])

            assert app.stop() == 0  # SIGTERM, as a logout: windows close, the transcript is exported
        finally:
            app.kill()
            # a killed app's kernel notices its launcher is gone and exits within seconds
            wait_until(lambda: set(kernel_processes(session_dir)) <= before, timeout=30, what="the kernel to end")

    page = export.read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "In [1]: print(\"hello from a real window\")\nhello from a real window\n" in text
    assert 'In [2]: def greet(name):\n   ...:     return "hi " + name\n' in text
    assert "In [3]: greet(\"desktop\")\nOut[3]: 'hi desktop'" in text
    assert "Out[5]: Text(0.5, 1.0, 'drawn in a real window')" in text
    assert "<img" in page  # the figure, drawn as an image
    assert "Traceback" not in text and "Error" not in text
    assert time.monotonic() - started < 120


def test_two_windows_in_two_processes_share_a_kernel_and_label_each_others_work(tmp_path, session_dir):
    """Alice starts a console; Bob attaches a second application, in its own
    process and window, to her kernel. What each types in their own window
    runs in the one kernel, and the other's window shows it under their name."""
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    ARTIFACTS.mkdir(exist_ok=True)
    exports = {name: tmp_path / f"{name}.html" for name in ("alice", "bob")}

    def argv(name: str, *extra: str) -> list:
        return [sys.executable, "-m", "qtapp", "--debug", "--username", name, "--settings",
                str(tmp_path / f"{name}.ini"), "--export-on-exit", str(exports[name]), *extra]

    before = set(kernel_processes(session_dir))
    with xvfb_display() as display:
        env = display_env(display, XDG_STATE_HOME=str(tmp_path / "state"))
        alice = AppProcess(argv("alice"), env, cwd=ROOT)
        bob = None
        try:
            line = alice.wait_for_line("kernel connection file: ", TIMEOUT)
            connection = line.split("kernel connection file: ", 1)[1].strip()
            alice.wait_for_line("console ready: In [1]:", TIMEOUT)
            bob = AppProcess(argv("bob", "--existing", connection), env, cwd=ROOT)
            bob.wait_for_line("console ready: In [1]:", TIMEOUT)

            xdo = XDo(display)
            windows = {}
            for x, (name, app) in zip((0, 640), (("alice", alice), ("bob", bob))):
                wid = xdo("search", "--sync", "--onlyvisible", "--pid", str(app.proc.pid)).split()[0]
                xdo("windowsize", "--sync", wid, "640", "720")  # side by side: no window manager here
                xdo("windowmove", "--sync", wid, str(x), "0")
                windows[name] = Session(app, xdo, display, _window_rect(xdo, wid), tmp_path), wid

            bob_session, bob_wid = windows["bob"]
            xdo("windowfocus", "--sync", bob_wid)
            bob_session.enter("answer = 6 * 7", "cell 1 finished: ok")
            alice.wait_for_line("console ready: In [2]:", TIMEOUT)  # her prompt follows his cell

            alice_session, alice_wid = windows["alice"]
            xdo("windowfocus", "--sync", alice_wid)
            alice_session.enter("print('alice sees', answer)", "cell 2 finished: ok")
            bob.wait_for_line("console ready: In [3]:", TIMEOUT)

            shot = grab_screen(display, tmp_path / "two-screen.png")
            both = QImage(str(shot)).copy(QRect(0, 0, 1280, 720))
            assert both.save(str(ARTIFACTS / "desktop-two-consoles.png"))
            for app in (alice, bob):
                assert app.count("Traceback") == 0, "".join(app.lines)

            assert bob.stop() == 0  # Bob leaves; the kernel is Alice's and stays
            assert alice.stop() == 0
        finally:
            for app in (bob, alice):
                if app is not None:
                    app.kill()
            wait_until(lambda: set(kernel_processes(session_dir)) <= before, timeout=30, what="the kernel to end")

    def transcript(name: str) -> str:
        return html.unescape(re.sub(r"<[^>]+>", "", exports[name].read_text(encoding="utf-8")))

    alice_text, bob_text = transcript("alice"), transcript("bob")
    assert "[bob] In [1]: answer = 6 * 7" in alice_text
    assert "In [2]: print('alice sees', answer)\nalice sees 42\n" in alice_text
    assert "In [1]: answer = 6 * 7" in bob_text and "[bob]" not in bob_text
    assert "[alice] In [2]: print('alice sees', answer)\nalice sees 42\n" in bob_text
