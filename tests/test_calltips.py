"""Call tips with a real kernel: typing ``(`` shows the signature and the start
of the docstring; ``)``, Esc and leaving the call hide it; a shortcut shows
it on demand; replies that arrive after the cell changed are ignored."""

from __future__ import annotations

from PyQt5.QtCore import QPoint, QRect, Qt
from PyQt5.QtGui import QTextCursor

from console_helpers import TIMEOUT_MS, make_console, run
from qtapp.console.calltip import open_call_paren, parse_inspect_text

AREA = ("def area(width, height=1.0, *, unit='m'):\n"
        "    '''Area of a rectangle.\n\n"
        "    Multiplies width by height.'''\n"
        "    return width * height\n")


def replies_seen(console) -> list:
    """Count the inspect replies the console has handled (to know a reply was ignored, not lost)."""
    seen = []
    handler = console.controller.shell_handlers["inspect_reply"]
    console.controller.shell_handlers["inspect_reply"] = lambda msg: (seen.append(msg), handler(msg))
    return seen


def test_typing_a_paren_after_print_shows_its_signature(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    qtbot.keyClicks(console.editor, "print(")
    qtbot.waitUntil(lambda: console.calltips.visible, timeout=TIMEOUT_MS)
    text = console.calltips.widget.text
    assert text.startswith("print(*args, sep=' ', end='\\n', file=None, flush=False)")
    assert "Prints the values to a stream" in text and "\x1b" not in text
    assert len(text.splitlines()) <= 2 + 12 + 1  # signature, blank line, the first docstring lines


def test_a_user_function_shows_its_signature_and_docstring_inside_the_console(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, AREA)
    qtbot.keyClicks(console.editor, "x = area(")
    qtbot.waitUntil(lambda: console.calltips.visible, timeout=TIMEOUT_MS)
    tip = console.calltips.widget
    assert tip.text == "area(width, height=1.0, *, unit='m')\n\nArea of a rectangle.\n\nMultiplies width by height."
    assert console.rect().contains(tip.geometry())  # placed inside the console
    paren = console.editor.cursorRect()
    top_of_line = console.editor.viewport().mapTo(console, paren.topLeft()).y()
    assert tip.geometry().bottom() <= top_of_line  # above the line being typed
    qtbot.keyClicks(console.editor, "3, (1 + 2)")
    assert tip.isVisible()  # inner parentheses do not close the call
    qtbot.keyClicks(console.editor, ")")
    assert not tip.isVisible()


def test_esc_and_leaving_the_call_hide_the_tip(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    qtbot.keyClicks(console.editor, "len(")
    qtbot.waitUntil(lambda: console.calltips.visible, timeout=TIMEOUT_MS)
    qtbot.keyClick(console.editor, Qt.Key_Escape)
    assert not console.calltips.visible and console.editor.source == "len("
    qtbot.keyClick(console.editor, Qt.Key_Backspace)
    qtbot.keyClicks(console.editor, "(")
    qtbot.waitUntil(lambda: console.calltips.visible, timeout=TIMEOUT_MS)
    qtbot.keyClick(console.editor, Qt.Key_Left)  # the cursor leaves the call, before its "("
    assert not console.calltips.visible


def test_the_shortcut_shows_the_tip_on_demand_inside_a_call(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    console.set_input_text("sorted([3, 1, 2], ")
    assert console.keymap.shortcut_text("show_calltip")
    qtbot.keyClick(console.editor, Qt.Key_Space, Qt.ControlModifier)
    qtbot.waitUntil(lambda: console.calltips.visible, timeout=TIMEOUT_MS)
    assert console.calltips.widget.text.startswith("sorted(iterable, /, *, key=None, reverse=False)")


def test_a_reply_for_a_cell_that_changed_meanwhile_is_ignored(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    seen = replies_seen(console)
    qtbot.keyClicks(console.editor, "print(")
    qtbot.keyClicks(console.editor, "'typed on'")  # before the kernel could answer
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=TIMEOUT_MS)
    assert not console.calltips.visible
    # and a reply for the current text is used
    console.set_input_text("")
    qtbot.keyClicks(console.editor, "print(")
    qtbot.waitUntil(lambda: console.calltips.visible, timeout=TIMEOUT_MS)


def test_a_reply_for_a_cursor_that_moved_meanwhile_is_ignored(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    seen = replies_seen(console)
    console.set_input_text("1, 2)")
    console.editor.moveCursor(QTextCursor.Start)
    qtbot.keyClicks(console.editor, "print(")
    qtbot.keyClick(console.editor, Qt.Key_Right)  # still inside the call, before the kernel could answer
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=TIMEOUT_MS)
    assert seen[0]["content"]["found"]  # a tip was there to show
    assert console.editor.toPlainText() == "print(1, 2)" and not console.calltips.visible
    # the same question with the cursor left where it was gets its tip
    qtbot.keyClick(console.editor, Qt.Key_Left)
    qtbot.keyClick(console.editor, Qt.Key_Backspace)
    qtbot.keyClicks(console.editor, "(")
    qtbot.waitUntil(lambda: console.calltips.visible, timeout=TIMEOUT_MS)
    assert len(seen) == 2


def test_near_the_screens_corner_the_tip_stays_on_screen(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    console.resize(900, 400)
    editor = console.editor
    qtbot.waitUntil(lambda: console.rect().contains(editor.mapTo(console, editor.rect().bottomRight())),
                    timeout=TIMEOUT_MS)  # laid out at the new size
    screen = console.screen().availableGeometry()

    def cursor() -> QPoint:
        return editor.viewport().mapToGlobal(editor.cursorRect().topLeft())

    # the cursor near the screen's bottom right corner, most of the console beyond it
    target = screen.bottomRight() - QPoint(150, 40)
    console.move(console.pos() + target - cursor())
    qtbot.waitUntil(lambda: cursor() == target, timeout=TIMEOUT_MS)
    assert not screen.contains(console.frameGeometry())
    qtbot.keyClicks(editor, "print(")
    qtbot.waitUntil(lambda: console.calltips.visible, timeout=TIMEOUT_MS)
    tip = console.calltips.widget
    assert tip.text.startswith("print(")
    assert screen.contains(QRect(tip.mapToGlobal(QPoint(0, 0)), tip.frameGeometry().size()))


def test_no_tip_for_a_paren_that_does_not_follow_a_name(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    seen = replies_seen(console)
    qtbot.keyClicks(console.editor, "x = (")
    qtbot.keyClicks(console.editor, "'(")  # inside a string
    qtbot.wait(200)  # nothing was asked, so there is nothing to wait for: a short grace period
    assert seen == [] and not console.calltips.visible


def test_parsing_the_kernels_inspect_text():
    tip = parse_inspect_text("\x1b[31mInit signature:\x1b[39m dict(self, /, *args, **kwargs)\n"
                             "\x1b[31mDocstring:\x1b[39m     \n" + "\n".join(f"line {i}" for i in range(30))
                             + "\n\x1b[31mType:\x1b[39m           type\n")
    assert tip.signature == "dict(self, /, *args, **kwargs)"
    assert tip.doc.splitlines() == [f"line {i}" for i in range(12)] and tip.truncated
    assert open_call_paren("f(a, g(b), 'x)'") == 1
    assert open_call_paren("f(a) + g[") is None
    assert open_call_paren("f(a, \"(\"") == 1
