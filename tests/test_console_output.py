"""What the console shows: streams in order, stderr styled apart, ANSI
colours, carriage returns, results, errors, output areas, and output that
arrives while the user is typing; against a real kernel."""

from __future__ import annotations

from PyQt5.QtGui import QColor, QFont, QTextCursor, QTextDocument

from console_helpers import TIMEOUT_MS, make_console, run, wait_text


def char_format_of(console, needle: str):
    """The character format at the first character of the last ``needle`` in the
    transcript (output comes after the echoed code that produced it)."""
    console.plain_text()  # flush
    doc = console.transcript.document
    cursor = doc.find(needle, doc.characterCount() - 1, QTextDocument.FindBackward)
    assert not cursor.isNull(), f"{needle!r} is not in the transcript"
    probe = QTextCursor(doc)
    probe.setPosition(cursor.selectionStart() + 1)
    return probe.charFormat()


def test_stdout_and_stderr_keep_the_order_they_were_written(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    code = ("import sys\n"
            "for i in range(6):\n"
            "    (sys.stdout if i % 2 == 0 else sys.stderr).write(f'line {i}\\n')\n"
            "    (sys.stdout if i % 2 == 0 else sys.stderr).flush()\n")
    run(qtbot, console, code)
    text = console.plain_text()
    assert "\n".join(f"line {i}" for i in range(6)) in text


def test_stderr_is_styled_apart_from_stdout(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "import sys; print('to-out'); print('to-err', file=sys.stderr)")
    out = char_format_of(console, "to-out")
    err = char_format_of(console, "to-err")
    theme = console.theme
    assert err.foreground().color() == QColor(theme.stderr)
    assert out.foreground().color() != QColor(theme.stderr)


def test_ansi_colours_and_attributes(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, r"print('\x1b[31mred16\x1b[0m \x1b[1;3;4mfancy\x1b[0m "
                        r"\x1b[38;5;196mpal196\x1b[0m \x1b[38;2;10;20;30mtrue\x1b[0m "
                        r"\x1b[48;5;21mbg21\x1b[0m plain')")
    text = console.plain_text()
    assert "red16 fancy pal196 true bg21 plain" in text and "\x1b" not in text
    assert char_format_of(console, "red16").foreground().color() == QColor(console.theme.ansi[1])
    fancy = char_format_of(console, "fancy")
    assert fancy.fontWeight() == QFont.Bold and fancy.fontItalic() and fancy.fontUnderline()
    assert char_format_of(console, "pal196").foreground().color() == QColor(255, 0, 0)
    assert char_format_of(console, "true").foreground().color() == QColor(10, 20, 30)
    assert char_format_of(console, "bg21").background().color() == QColor(0, 0, 255)
    assert not char_format_of(console, "plain").fontUnderline()


def test_carriage_return_redraws_the_line_like_a_progress_bar(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    code = ("import sys, time\n"
            "for pct in range(0, 101, 20):\n"
            "    sys.stdout.write(f'\\rprogress {pct:3d}%'); sys.stdout.flush(); time.sleep(0.06)\n"
            "print(' done')\n"
            "print('ab\\bX')")
    run(qtbot, console, code)
    lines = console.plain_text().splitlines()
    assert "progress 100% done" in lines
    assert not any("progress   0%" in line or "progress  20%" in line for line in lines)
    assert "aX" in lines  # \b stepped back over the b


def test_error_traceback_is_coloured_and_result_has_out_prompt(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    reply = run(qtbot, console, "1/0")
    assert reply["content"]["status"] == "error"
    assert "ZeroDivisionError: division by zero" in console.plain_text()
    colours = set()
    doc = console.transcript.document
    block = doc.find("ZeroDivisionError", doc.characterCount() - 1, QTextDocument.FindBackward).block()
    it = block.begin()
    while not it.atEnd():
        colours.add(it.fragment().charFormat().foreground().color().name())
        it += 1
    assert len(colours) >= 2  # IPython's traceback colours came through
    reply = run(qtbot, console, "'multi\\nline'.split()")
    n = reply["content"]["execution_count"]
    raw = console.plain_text(raw=True)
    assert f"Out[{n}]: ['multi', 'line']" in raw
    assert char_format_of(console, f"Out[{n}]").foreground().color() == QColor(console.theme.out_prompt)


def test_output_from_a_thread_lands_above_the_prompt_not_in_the_input(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "import threading, time\n"
                        "def later():\n"
                        "    time.sleep(0.3); print('from the background thread')\n"
                        "threading.Thread(target=later).start()")
    qtbot.keyClicks(console.editor, "half-typed")
    wait_text(qtbot, console, "from the background thread")
    assert console.editor.source == "half-typed"


def test_clear_output_wait_leaves_only_the_last_update(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "from IPython.display import clear_output\n"
                        "for i in range(5):\n"
                        "    clear_output(wait=True)\n"
                        "    print(f'step {i}')\n")
    text = console.plain_text()
    assert "step 4" in text and "step 3" not in text and "step 0" not in text


def test_update_display_data_replaces_in_place(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "from IPython.display import display\n"
                        "h = display('first version', display_id=True)\n"
                        "print('after the display')")
    run(qtbot, console, "h.update('second version')")
    lines = console.plain_text().splitlines()
    assert "'second version'" in lines and "'first version'" not in lines
    assert lines.index("'second version'") < lines.index("after the display")


def test_execute_hidden_shows_no_input(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        console.execute("hidden_value = 41; print('hidden ran')", hidden=True)
    text = console.plain_text()
    assert "hidden ran" in text and "hidden_value = 41" not in text
    run(qtbot, console, "print(hidden_value + 1)")
    assert "42" in console.plain_text().splitlines()


def test_cells_sent_while_busy_wait_in_the_queue_then_run_in_order(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    console.execute("import time; time.sleep(1.0); print('first')")
    qtbot.waitUntil(lambda: console.controller.busy, timeout=TIMEOUT_MS)
    console.execute("print('second')")
    assert len(console.queued) == 1 and console.queued.isVisible()
    assert "print('second')" not in console.plain_text()  # not echoed before it runs
    qtbot.waitUntil(lambda: "second" in console.plain_text().splitlines(), timeout=TIMEOUT_MS)
    lines = console.plain_text().splitlines()
    assert lines.index("first") < lines.index("print('second')") < lines.index("second")
    assert len(console.queued) == 0 and not console.queued.isVisible()


def test_another_clients_work_appears_labelled_and_prompts_follow(qtbot, shared_km):
    first = make_console(qtbot, shared_km)
    second = make_console(qtbot, shared_km, username="second-user")
    qtbot.keyClicks(first.editor, "draft in progress")
    reply = run(qtbot, second, "print('from the second console')")
    n = reply["content"]["execution_count"]
    qtbot.waitUntil(lambda: "from the second console" in first.plain_text().splitlines(), timeout=TIMEOUT_MS)
    raw = first.plain_text(raw=True)
    assert f"[second-user] In [{n}]: print('from the second console')" in raw
    assert first.editor.source == "draft in progress"
    qtbot.waitUntil(lambda: first.controller.next_count == n + 1, timeout=TIMEOUT_MS)
    assert first.editor.prompt.strip() == f"In [{n + 1}]:"
