"""Many frontends, one kernel: each console shows what the others ran and
printed, labelled with their username and styled apart, without touching its
own input; input() prompts reach only the console that ran the code."""

from __future__ import annotations

from PyQt5.QtGui import QColor

from console_helpers import TIMEOUT_MS, make_console, run, wait_text
from kernel.client import KernelClient
from qtapp.console.others import PEER_PROPERTY, peer_colour, tint_colour


def _pair(qtbot, km, first="alice", second="bob"):
    """Console ``a`` owns the kernel; ``b`` is attached from its connection file."""
    a = make_console(qtbot, km, username=first)
    b = make_console(qtbot, client=KernelClient.from_connection_file(km.connection_file, username=second))
    return a, b


def wait_raw(qtbot, console, needle):
    """Wait until ``needle`` shows, prompts and labels included."""
    qtbot.waitUntil(lambda: needle in console.plain_text(raw=True), timeout=TIMEOUT_MS)


def _blocks_with(console, needle):
    doc = console.transcript.document
    block = doc.begin()
    found = []
    while block.isValid():
        if needle in block.text():
            found.append(block)
        block = block.next()
    return found


def test_the_other_console_shows_input_and_output_labelled_with_the_username(qtbot, km):
    a, b = _pair(qtbot, km)
    qtbot.keyClicks(b.editor, "half typed = ")
    b.editor.moveCursor(b.editor.textCursor().Left)
    cursor_before = b.editor.textCursor().position()
    reply = run(qtbot, a, "print('from alice')\n6 * 7")
    n = reply["content"]["execution_count"]
    wait_raw(qtbot, b, "Out[%d]: 42" % n)
    raw = b.plain_text(raw=True).splitlines()
    assert f"[alice] In [{n}]: print('from alice')" in raw
    assert "from alice" in raw and f"Out[{n}]: 42" in raw
    # a's own transcript has no label: it is its own work
    assert f"In [{n}]: print('from alice')" in a.plain_text(raw=True).splitlines()
    assert "[alice]" not in a.plain_text(raw=True)
    # nothing of it entered b's input, its cursor or its history
    assert b.editor.source == "half typed = "
    assert b.editor.textCursor().position() == cursor_before
    assert "print('from alice')\n6 * 7" not in b.controller.history.entries
    # b's prompt follows the kernel's numbering
    qtbot.waitUntil(lambda: b.controller.next_count == n + 1, timeout=TIMEOUT_MS)
    assert [p.username for p in b.controller.peers.others()] == ["alice"]
    assert [p.username for p in a.controller.peers.others()] == ["bob"]  # b's handshake was seen


def test_others_work_is_tinted_and_labelled_in_their_colour_and_ours_is_not(qtbot, km):
    a, b = _pair(qtbot, km)
    run(qtbot, a, "print('theirs')")
    wait_text(qtbot, b, "theirs\n")
    run(qtbot, b, "print('mine')")
    b.plain_text()
    session = a.client.session.session_id
    alice = b.controller.peers.get(session)
    for block in _blocks_with(b, "theirs") + _blocks_with(b, "[alice]"):
        assert block.blockFormat().property(PEER_PROPERTY) == session
        assert block.blockFormat().background().color() == tint_colour(alice.colour, b.theme)
    for block in _blocks_with(b, "mine"):
        assert block.blockFormat().property(PEER_PROPERTY) in (None, "")
    label = _blocks_with(b, "[alice]")[0]
    assert label.begin().fragment().charFormat().foreground().color() == peer_colour(alice.colour, b.theme)
    # theme-aware: in the dark theme the tint follows the dark background
    b.apply_theme("dark")
    block = _blocks_with(b, "theirs")[0]
    assert block.blockFormat().background().color() == tint_colour(alice.colour, b.theme)
    assert QColor(b.theme.background).lightnessF() < 0.5
    assert tint_colour(alice.colour, b.theme).lightnessF() < 0.5
    label = _blocks_with(b, "[alice]")[0]
    assert label.begin().fragment().charFormat().foreground().color() == peer_colour(alice.colour, b.theme)


def test_their_stream_never_shares_a_line_with_ours(qtbot, km):
    a, b = _pair(qtbot, km)
    run(qtbot, b, "import sys; sys.stdout.write('ours without newline')")
    run(qtbot, a, "import sys; sys.stdout.write('theirs')")
    qtbot.waitUntil(lambda: "theirs" in b.plain_text().splitlines(), timeout=TIMEOUT_MS)
    lines = b.plain_text().splitlines()
    assert "ours without newline" in lines and "theirs" in lines


def test_hiding_others_activity_keeps_it_and_shows_it_again(qtbot, km):
    a, b = _pair(qtbot, km)
    run(qtbot, a, "print('before hiding')")
    wait_text(qtbot, b, "before hiding\n")
    b.set_others_visible(False)
    run(qtbot, a, "print('while hidden')")
    wait_text(qtbot, b, "while hidden\n")
    run(qtbot, b, "print('my own line')")
    b.plain_text()
    for needle in ("before hiding", "while hidden", "[alice]"):
        assert all(not blk.isVisible() for blk in _blocks_with(b, needle)), needle
    assert all(blk.isVisible() for blk in _blocks_with(b, "my own line"))
    b.set_others_visible(True)
    for needle in ("before hiding", "while hidden", "[alice]", "my own line"):
        assert all(blk.isVisible() for blk in _blocks_with(b, needle)), needle


def test_two_consoles_of_the_same_user_are_told_apart_by_session(qtbot, km):
    a, b = _pair(qtbot, km, first="carol", second="carol")
    reply = run(qtbot, a, "'same user'")
    n = reply["content"]["execution_count"]
    wait_text(qtbot, b, "'same user'")
    tag = a.client.session.session_id[:4]
    assert f"[carol·{tag}] In [{n}]: 'same user'" in b.plain_text(raw=True).splitlines()


def test_input_requests_reach_only_the_console_that_ran_the_code(qtbot, km):
    a, b = _pair(qtbot, km)
    a.execute("answer = input('Name? '); print('got', answer)")
    qtbot.waitUntil(a.stdin_bar.isVisible, timeout=TIMEOUT_MS)
    wait_raw(qtbot, b, "[alice] In [")
    assert not b.stdin_bar.isVisible() and not b.controller.waiting_for_input
    assert b.editor.isVisible()
    assert b.client.stdin_channel.recv_nowait() is None
    qtbot.keyClicks(a.stdin_bar.line, "Ada")
    with qtbot.waitSignal(a.executed, timeout=TIMEOUT_MS):
        qtbot.keyClick(a.stdin_bar.line, 0x01000004)  # Return
    wait_text(qtbot, b, "got Ada\n")
    assert not b.stdin_bar.isVisible()
    # and the other way round
    b.execute("input('Colour? ')")
    qtbot.waitUntil(b.stdin_bar.isVisible, timeout=TIMEOUT_MS)
    assert not a.stdin_bar.isVisible() and not a.controller.waiting_for_input
    with qtbot.waitSignal(b.executed, timeout=TIMEOUT_MS):
        b.controller.answer_input("blue")


def test_the_username_can_be_changed_while_connected(qtbot, km):
    a, b = _pair(qtbot, km)
    a.set_username("Alice Liddell")
    reply = run(qtbot, a, "1 + 1")
    wait_raw(qtbot, b, "[Alice Liddell] In [%d]: 1 + 1" % reply["content"]["execution_count"])
