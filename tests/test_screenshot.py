"""Screenshots of a short session, light and dark, kept in test-artifacts/
for a person to look at; the test checks the basics a person would see."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtGui import QColor

from console_helpers import run
from test_mainwindow import open_window

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

SESSION = [
    "import sys, time\nprint('Hello from the kernel')",
    "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
    "[fib(n) for n in range(12)]",
    "print('\\x1b[1;32mok\\x1b[0m  \\x1b[33mwarning\\x1b[0m  \\x1b[38;5;39m256 colours\\x1b[0m')\n"
    "print('a problem', file=sys.stderr)",
    "{'name': 'console', 'lines': 3}['lines'] / 0",
]


def _colour_count(image, colour: QColor) -> int:
    return sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
               if image.pixelColor(x, y) == colour)


def test_screenshots_of_a_short_session(qtbot, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    window, _, _ = open_window(qtbot, tmp_path)
    window.resize(960, 640)
    console = window.console
    for code in SESSION:
        run(qtbot, console, code)
    qtbot.keyClicks(console.editor, "fib(")
    console.plain_text()  # flush pending output
    qtbot.wait(50)
    for theme in ("light", "dark"):
        window.actions[f"theme_{theme}"].trigger()
        qtbot.wait(50)
        image = window.grab().toImage()
        path = ARTIFACTS / f"console-{theme}.png"
        assert image.save(str(path))
        t = console.theme
        corner = console.transcript.view.viewport().grab().toImage().pixelColor(5, 5)
        assert corner == QColor(t.background)
        assert _colour_count(image, QColor(t.in_prompt)) > 20  # In [n]: prompts drawn
        assert _colour_count(image, QColor(t.out_prompt)) > 5  # Out[n]:
        assert _colour_count(image, QColor(t.stderr)) > 5  # stderr and the traceback
    assert "ZeroDivisionError" in console.plain_text()


def test_screenshots_of_completion_input_and_a_dead_kernel(qtbot, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    window, _, _ = open_window(qtbot, tmp_path, "--no-autorestart")
    window.resize(960, 520)
    console = window.console
    run(qtbot, console, "import collections")
    qtbot.keyClicks(console.editor, "collections.")
    from PyQt5.QtCore import Qt
    qtbot.keyClick(console.editor, Qt.Key_Tab)
    qtbot.waitUntil(console.popup.isVisible, timeout=30_000)
    assert window.grab().save(str(ARTIFACTS / "console-completion.png"))
    qtbot.keyClick(console.editor, Qt.Key_Escape)
    console.set_input_text("")
    console.execute("name = input('What is your name? ')")
    qtbot.waitUntil(console.stdin_bar.isVisible, timeout=30_000)
    qtbot.keyClicks(console.stdin_bar.line, "Ada")
    console.plain_text()
    assert window.grab().save(str(ARTIFACTS / "console-input.png"))
    qtbot.keyClick(console.stdin_bar.line, Qt.Key_Return)
    import os
    import signal
    os.kill(console.manager.process.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: console.notice_bar.isVisible(), timeout=30_000)
    console.plain_text()
    assert window.grab().save(str(ARTIFACTS / "console-dead.png"))
    assert window.state_label.text() == "Kernel dead"
