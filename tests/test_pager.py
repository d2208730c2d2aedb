"""Help pages from a real kernel (``len?``, ``obj??``, ``%psource``): short
pages inline, long ones in the pager (HTML when the page has it), q/Esc to
close, Ctrl+F to find; the paging mode as a setting. Also the other payloads
that act on the console: set_next_input (replace or not) and ask_exit."""

from __future__ import annotations

import pytest
from PyQt5.QtCore import QPoint, Qt

from console_helpers import TIMEOUT_MS, make_console, run
from qtapp.console.pager import goes_inline

LONG_FUNCTION = "def long_function(x):\n" + "".join(f"    step_{i} = x + {i}\n" for i in range(60)) + \
    "    return x\n"


def test_len_question_mark_pages_inline_when_short(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    assert console.paging == "auto"
    run(qtbot, console, "len?")
    text = console.plain_text()
    assert "Return the number of items in a container." in text and "Signature: len(obj, /)" in text
    assert not console.pager.isVisible()


def test_in_pager_mode_len_question_mark_opens_the_pager_with_html(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    console.paging = "pager"
    run(qtbot, console, "len?")
    pager = console.pager
    assert pager.isVisible() and pager.has_html
    assert "Return the number of items in a container." in pager.text
    assert "Return the number of items" not in console.plain_text()
    # IPython's big <h1> section titles are toned down to the text's size
    doc = pager.browser.document()
    heading = doc.find("Docstring")
    assert not heading.isNull()
    assert heading.charFormat().fontWeight() >= 75  # still a bold heading
    assert heading.charFormat().font().pointSizeF() == doc.defaultFont().pointSizeF()  # not Qt's 24 pt h1
    # q closes it when it has the focus
    pager.browser.setFocus()
    qtbot.keyClick(pager.browser, Qt.Key_Q)
    assert not pager.isVisible()


def test_a_long_source_goes_to_the_pager_where_ctrl_f_finds_and_esc_closes(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, LONG_FUNCTION)
    run(qtbot, console, "long_function??")
    pager = console.pager
    assert pager.isVisible() and "step_59 = x + 59" in pager.text
    assert "step_59" not in console.plain_text().split("long_function??")[-1]
    assert console.editor.hasFocus()  # typing goes on while reading
    pager.browser.setFocus()
    qtbot.keyClick(pager.browser, Qt.Key_F, Qt.ControlModifier)
    assert pager.find_line.isVisible() and pager.find_line.hasFocus()
    assert not console.find_bar.isVisible()  # the pager's find, not the transcript's
    qtbot.keyClicks(pager.find_line, "step_42")
    assert pager.browser.textCursor().selectedText() == "step_42"
    qtbot.keyClick(pager.find_line, Qt.Key_Escape)
    assert not pager.find_line.isVisible() and pager.browser.hasFocus()
    qtbot.keyClick(pager.browser, Qt.Key_Escape)
    assert not pager.isVisible()


def test_psource_is_paged_as_text_with_its_colours_when_there_is_no_html(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    console.paging = "pager"
    run(qtbot, console, LONG_FUNCTION)
    run(qtbot, console, "%psource long_function")
    assert console.pager.isVisible() and not console.pager.has_html
    assert "step_30 = x + 30" in console.pager.text and "\x1b" not in console.pager.text


def test_esc_in_the_input_closes_the_pager(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    console.paging = "pager"
    run(qtbot, console, "len?")
    assert console.pager.isVisible()
    qtbot.keyClick(console.editor, Qt.Key_Escape)
    assert not console.pager.isVisible()


def test_paging_modes():
    short, long = {"text/plain": "one\ntwo"}, {"text/plain": "\n".join(map(str, range(200)))}
    assert goes_inline("auto", short, 40) and not goes_inline("auto", long, 40)
    assert goes_inline("inline", long, 40) and not goes_inline("pager", short, 40)
    with pytest.raises(ValueError, match="unknown paging mode 'sideways'"):
        goes_inline("sideways", short, 40)


def test_set_next_input_replaces_or_keeps_what_was_typed(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "get_ipython().set_next_input('replaced = 1', replace=True)")
    assert console.editor.source == "replaced = 1"
    console.execute("import time; time.sleep(0.5); get_ipython().set_next_input('added = 2')")
    console.set_input_text("typed_meanwhile = 0")
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        pass
    assert console.editor.source == "typed_meanwhile = 0\nadded = 2"


def test_exit_keep_kernel_closes_the_window_and_keeps_the_kernel(qtbot, tmp_path):
    from test_mainwindow import open_window

    window, _, _ = open_window(qtbot, tmp_path)
    manager = window.console.manager
    try:
        window.console.execute("%exit -k")
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT_MS)
        assert manager.is_alive()
    finally:
        manager.shutdown(now=True)


def test_the_paging_mode_is_an_option_a_menu_and_a_remembered_setting(qtbot, tmp_path):
    from test_mainwindow import open_window

    window, _, _ = open_window(qtbot, tmp_path, "--paging", "pager")
    assert window.console.paging == "pager" and window.actions["paging_pager"].isChecked()
    window.actions["paging_inline"].trigger()
    assert window.console.paging == "inline"
    run(qtbot, window.console, "len?")
    assert "Return the number of items" in window.console.plain_text() and not window.console.pager.isVisible()
    window.close()
    again, _, _ = open_window(qtbot, tmp_path)
    assert again.console.paging == "inline" and again.actions["paging_inline"].isChecked()


def test_a_long_file_from_less_opens_in_the_pager_at_its_first_line(qtbot, shared_km, tmp_path):
    console = make_console(qtbot, shared_km)
    long_file = tmp_path / "long.txt"
    long_file.write_text("".join(f"line {i}\n" for i in range(1, 301)))
    run(qtbot, console, f"%less {long_file}")
    pager = console.pager
    assert pager.isVisible() and pager.text.startswith("line 1\nline 2\n")
    qtbot.waitUntil(lambda: pager.browser.viewport().height() > 50, timeout=TIMEOUT_MS)
    assert pager.browser.verticalScrollBar().value() == 0
    assert pager.browser.cursorForPosition(QPoint(4, 4)).block().text() == "line 1"
