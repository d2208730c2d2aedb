"""IPython magics that talk back to the console, in a real console on a real
kernel: the post-mortem debugger over input requests, and the magics that
put code into the input line (%load, %recall)."""

from __future__ import annotations

from PyQt5.QtCore import Qt

from console_helpers import TIMEOUT_MS, make_console, run


def answer(qtbot, console, text: str) -> None:
    """Once the kernel asks (input_request), type a line at the input prompt and send it."""
    qtbot.waitUntil(console.stdin_bar.isVisible, timeout=TIMEOUT_MS)
    qtbot.keyClicks(console.stdin_bar.line, text)
    qtbot.keyClick(console.stdin_bar.line, Qt.Key_Return)


def test_debug_after_an_error_steps_into_the_frame_and_quits(qtbot, km):
    console = make_console(qtbot, km)
    run(qtbot, console, "def broken(x):\n    y = x * 2\n    return y / 0\n")
    run(qtbot, console, "broken(21)")
    assert "ZeroDivisionError" in console.plain_text()
    console.execute("%debug")
    qtbot.waitUntil(console.stdin_bar.isVisible, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: "ipdb> " in console.plain_text(), timeout=TIMEOUT_MS)
    answer(qtbot, console, "p y")
    qtbot.waitUntil(lambda: "\n42\n" in console.plain_text(), timeout=TIMEOUT_MS)
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS) as done:
        answer(qtbot, console, "q")
    assert done.args[0]["content"]["status"] == "ok"
    assert console.editor.isVisible() and not console.stdin_bar.isVisible()
    run(qtbot, console, "print('after the debugger')")
    assert "after the debugger" in console.plain_text().splitlines()


def test_load_puts_a_files_code_in_the_input_to_edit_before_running(qtbot, km, tmp_path):
    script = tmp_path / "snippet.py"
    script.write_text("total = sum(range(10))\nprint(total)\n")
    console = make_console(qtbot, km)
    run(qtbot, console, f"%load {script}")
    qtbot.waitUntil(lambda: "total = sum(range(10))" in console.input_text(), timeout=TIMEOUT_MS)
    assert console.input_text() == f"# %load {script}\ntotal = sum(range(10))\nprint(total)\n"
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        console.execute(console.input_text())
    assert "45" in console.plain_text().splitlines()


def test_recall_puts_an_earlier_input_back_in_the_input(qtbot, km):
    console = make_console(qtbot, km)
    run(qtbot, console, "greeting = 'hi'")
    run(qtbot, console, "%recall 1")
    qtbot.waitUntil(lambda: console.input_text() == "greeting = 'hi'", timeout=TIMEOUT_MS)
