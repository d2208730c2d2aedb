"""Typing in the console: Enter and is_complete, forced runs and new lines,
completion, history, reverse search and the emacs line keys, all against a
real kernel through real key presses."""

from __future__ import annotations

import os
import signal

from PyQt5.QtCore import Qt

from console_helpers import TIMEOUT_MS, make_console, run, type_cell


def test_enter_runs_a_complete_cell_and_numbers_prompts(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    before = console.controller.next_count
    assert console.editor.prompt.strip() == f"In [{before}]:"
    qtbot.keyClicks(console.editor, "print(6 * 7)")
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        qtbot.keyClick(console.editor, Qt.Key_Return)
    assert console.editor.source == ""
    text = console.plain_text(raw=True)
    assert f"In [{before}]: print(6 * 7)\n42" in text
    assert console.editor.prompt.strip() == f"In [{before + 1}]:"


def test_enter_on_incomplete_code_inserts_the_kernels_indent(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    qtbot.keyClicks(console.editor, "for i in range(3):")
    qtbot.keyClick(console.editor, Qt.Key_Return)
    # the kernel says "incomplete" with a 4-space indent; nothing ran
    qtbot.waitUntil(lambda: console.editor.source == "for i in range(3):\n    ", timeout=TIMEOUT_MS)
    qtbot.keyClicks(console.editor, "print('row', i)")
    qtbot.keyClick(console.editor, Qt.Key_Return)
    qtbot.waitUntil(lambda: console.editor.source.endswith("print('row', i)\n    "), timeout=TIMEOUT_MS)
    # a blank line ends the block: now it runs
    qtbot.keyClick(console.editor, Qt.Key_Backspace)
    qtbot.keyClick(console.editor, Qt.Key_Backspace)
    qtbot.keyClick(console.editor, Qt.Key_Backspace)
    qtbot.keyClick(console.editor, Qt.Key_Backspace)
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        qtbot.keyClick(console.editor, Qt.Key_Return)
    assert "row 0\nrow 1\nrow 2" in console.plain_text()


def test_shift_enter_forces_a_run_and_ctrl_enter_forces_a_newline(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    qtbot.keyClicks(console.editor, "x_forced = 5")
    qtbot.keyClick(console.editor, Qt.Key_Return, Qt.ControlModifier)
    assert console.editor.source == "x_forced = 5\n"  # complete, yet not run
    qtbot.keyClicks(console.editor, "print(x_forced + 1)")
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        qtbot.keyClick(console.editor, Qt.Key_Return, Qt.ShiftModifier)
    assert "6" in console.plain_text().splitlines()
    # Shift+Enter runs even an incomplete cell: the kernel reports the error
    qtbot.keyClicks(console.editor, "if True:")
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS) as blocker:
        qtbot.keyClick(console.editor, Qt.Key_Return, Qt.ShiftModifier)
    assert blocker.args[0]["content"]["status"] == "error"
    assert "SyntaxError" in console.plain_text() or "IndentationError" in console.plain_text()


def test_echoed_cells_show_prompts_that_copying_strips(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    n = console.controller.next_count
    run(qtbot, console, "def twice(v):\n    return 2 * v\n")
    raw = console.plain_text(raw=True)
    assert f"In [{n}]: def twice(v):\n{' ' * (len(str(n)) + 2)}...:     return 2 * v" in raw
    plain = console.plain_text()
    assert "def twice(v):\n    return 2 * v" in plain and "...:" not in plain and "In [" not in plain
    reply = run(qtbot, console, "twice(21)")
    count = reply["content"]["execution_count"]
    assert f"Out[{count}]: 42" in console.plain_text(raw=True)
    assert "\n42" in console.plain_text()


def test_tab_completes_a_single_match_and_indents_at_line_start(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "import collections\nunique_name_for_completion = 1")
    qtbot.keyClicks(console.editor, "unique_name_for_compl")
    qtbot.keyClick(console.editor, Qt.Key_Tab)
    qtbot.waitUntil(lambda: console.editor.source == "unique_name_for_completion", timeout=TIMEOUT_MS)
    assert not console.popup.isVisible()
    console.set_input_text("")
    qtbot.keyClick(console.editor, Qt.Key_Tab)
    assert console.editor.source == "    "  # only whitespace before the cursor: indent
    qtbot.keyClick(console.editor, Qt.Key_Tab, Qt.ShiftModifier)
    assert console.editor.source == ""


def popup_items(console) -> list:
    """The completions the popup shows, top to bottom."""
    return [console.popup.item(i).text() for i in range(console.popup.count())]


def test_tab_shows_a_popup_that_narrows_accepts_and_closes(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "import collections")
    qtbot.keyClicks(console.editor, "collections.de")
    qtbot.keyClick(console.editor, Qt.Key_Tab)
    qtbot.waitUntil(console.popup.isVisible, timeout=TIMEOUT_MS)
    shown = popup_items(console)
    assert {"defaultdict", "deque"} <= set(shown)
    qtbot.keyClicks(console.editor, "q")  # narrows to deque
    assert popup_items(console) == ["deque"]
    qtbot.keyClick(console.editor, Qt.Key_Return)  # accepts, does not run
    assert console.editor.source == "collections.deque"
    assert not console.popup.isVisible()
    console.set_input_text("collections.de")
    qtbot.keyClick(console.editor, Qt.Key_Tab)
    qtbot.waitUntil(console.popup.isVisible, timeout=TIMEOUT_MS)
    qtbot.keyClick(console.editor, Qt.Key_Escape)
    assert not console.popup.isVisible()
    assert console.editor.source == "collections.de"


def test_tab_inserts_the_common_prefix_of_several_matches(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "zephyr_left = 1; zephyr_right = 2")
    qtbot.keyClicks(console.editor, "zeph")
    qtbot.keyClick(console.editor, Qt.Key_Tab)
    qtbot.waitUntil(console.popup.isVisible, timeout=TIMEOUT_MS)
    assert console.editor.source == "zephyr_"
    assert console.editor.textCursor().position() == len("zephyr_")
    shown = popup_items(console)
    assert shown == ["zephyr_left", "zephyr_right"]
    qtbot.keyClicks(console.editor, "r")  # typing on narrows the list from the inserted prefix
    assert popup_items(console) == ["zephyr_right"]


def test_up_and_down_browse_history_by_prefix(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    for code in ("alpha_one = 1", "beta = 2", "alpha_two = 3"):
        run(qtbot, console, code)
    qtbot.keyClicks(console.editor, "alpha")
    qtbot.keyClick(console.editor, Qt.Key_Up)
    assert console.editor.source == "alpha_two = 3"
    qtbot.keyClick(console.editor, Qt.Key_Up)
    assert console.editor.source == "alpha_one = 1"
    qtbot.keyClick(console.editor, Qt.Key_Down)
    assert console.editor.source == "alpha_two = 3"
    qtbot.keyClick(console.editor, Qt.Key_Down)
    assert console.editor.source == "alpha"  # back to what was being typed


def test_up_moves_within_a_multiline_cell_before_browsing(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "older_entry = 0")
    type_cell(qtbot, console, "a = 1\nb = 2")
    qtbot.keyClick(console.editor, Qt.Key_Up)  # cursor was on the last line: moves up
    assert console.editor.source == "a = 1\nb = 2"
    assert console.editor.textCursor().blockNumber() == 0


def test_history_is_loaded_from_the_kernel_on_connect(qtbot, shared_km):
    first = make_console(qtbot, shared_km)
    run(qtbot, first, "marker_from_first_console = 7")
    second = make_console(qtbot, shared_km)
    qtbot.waitUntil(lambda: "marker_from_first_console = 7" in second.controller.history.entries,
                    timeout=TIMEOUT_MS)
    qtbot.keyClicks(second.editor, "marker_from")
    qtbot.keyClick(second.editor, Qt.Key_Up)
    assert second.editor.source == "marker_from_first_console = 7"


def test_ctrl_r_searches_history_backwards(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    for code in ("needle_a = 'first'", "other = 0", "needle_b = 'second'"):
        run(qtbot, console, code)
    qtbot.keyClicks(console.editor, "draft")
    qtbot.keyClick(console.editor, Qt.Key_R, Qt.ControlModifier)
    assert console.search_bar.isVisible()
    qtbot.keyClicks(console.search_bar.line, "needle")
    assert console.editor.source == "needle_b = 'second'"
    qtbot.keyClick(console.search_bar.line, Qt.Key_R, Qt.ControlModifier)
    assert console.editor.source == "needle_a = 'first'"
    qtbot.keyClick(console.search_bar.line, Qt.Key_Return)
    assert not console.search_bar.isVisible() and console.editor.source == "needle_a = 'first'"
    # Escape restores what was there before searching
    console.set_input_text("draft")
    qtbot.keyClick(console.editor, Qt.Key_R, Qt.ControlModifier)
    qtbot.keyClicks(console.search_bar.line, "other")
    assert console.editor.source == "other = 0"
    qtbot.keyClick(console.search_bar.line, Qt.Key_Escape)
    assert console.editor.source == "draft" and not console.search_bar.isVisible()


def test_emacs_line_keys(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    ed = console.editor
    qtbot.keyClicks(ed, "hello world")
    qtbot.keyClick(ed, Qt.Key_A, Qt.ControlModifier)
    assert ed.textCursor().positionInBlock() == 0
    qtbot.keyClick(ed, Qt.Key_K, Qt.ControlModifier)  # kill to end
    assert ed.source == ""
    qtbot.keyClick(ed, Qt.Key_Y, Qt.ControlModifier)  # yank it back
    assert ed.source == "hello world"
    for _ in range(5):
        qtbot.keyClick(ed, Qt.Key_Left)
    qtbot.keyClick(ed, Qt.Key_U, Qt.ControlModifier)  # kill to start
    assert ed.source == "world"
    qtbot.keyClick(ed, Qt.Key_E, Qt.ControlModifier)
    assert ed.textCursor().atBlockEnd()
    qtbot.keyClick(ed, Qt.Key_Y, Qt.ControlModifier)
    assert ed.source == "worldhello "


def test_typing_in_the_transcript_goes_to_the_input(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    console.transcript.view.setFocus()
    qtbot.keyClicks(console.transcript.view, "abc")
    assert console.editor.source == "abc"
    assert "abc" not in console.plain_text()


def test_the_editor_highlights_with_the_kernels_lexer(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    assert console.highlighter._lexer.name.lower().startswith("ipython")  # from language_info
    qtbot.keyClicks(console.editor, "def f(): return 'text'")
    formats = console.editor.document().firstBlock().layout().formats()
    coloured = {(r.start, r.length): r.format.foreground().color() for r in formats}
    keyword = console.writer.token_formats.format(__import__("pygments").token.Keyword).foreground().color()
    assert coloured.get((0, 3)) == keyword  # "def"
    assert len(set(c.name() for c in coloured.values())) >= 3


def test_busy_changed_is_signalled_around_a_run(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    seen = []
    console.busy_changed.connect(seen.append)
    run(qtbot, console, "import time; time.sleep(0.2)")
    qtbot.waitUntil(lambda: seen[-1:] == [False], timeout=TIMEOUT_MS)
    assert seen == [True, False]


def test_enter_decides_locally_when_the_kernel_does_not_answer(qtbot, km):
    console = make_console(qtbot, km)
    os.kill(km.process.pid, signal.SIGSTOP)  # no is_complete_reply will come
    try:
        qtbot.keyClicks(console.editor, "if True:")
        qtbot.keyClick(console.editor, Qt.Key_Return)
        # after the timeout the local rules say "incomplete": a new indented line
        qtbot.waitUntil(lambda: console.editor.source == "if True:\n    ", timeout=TIMEOUT_MS)
        console.set_input_text("print('decided locally')")
        qtbot.keyClick(console.editor, Qt.Key_Return)
        qtbot.waitUntil(lambda: console.editor.source == "", timeout=TIMEOUT_MS)  # sent; waits in the kernel
    finally:
        os.kill(km.process.pid, signal.SIGCONT)
    qtbot.waitUntil(lambda: "decided locally" in console.plain_text().splitlines(), timeout=TIMEOUT_MS)
