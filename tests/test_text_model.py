"""The console's pure-Python models: ANSI SGR state, terminal-style stream
decoding, history browsing, the local completeness check and the keymap."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qtapp.console.ansi import PLAIN, SgrState, Style, parse_params, xterm_rgb
from qtapp.console.completeness import check_complete
from qtapp.console.history import History
from qtapp.console.streamtext import FoldedLine, StreamDecoder, TextRun


def shown(decoder: StreamDecoder, ops) -> str:
    """What a view would show: finished lines (folded lines in full) plus the open line."""
    out = []
    for op in ops:
        out.append(op.text if isinstance(op, TextRun) else op.full_text + "\n")
    return "".join(out)


def feed_all(chunks, fold_limit=10_000):
    d = StreamDecoder(fold_limit=fold_limit)
    done = "".join(shown(d, d.feed(c)) for c in chunks)
    return done + d.open_text, d


# -- SGR ---------------------------------------------------------------------------

def test_sgr_16_256_truecolour_and_attributes():
    s = SgrState()
    assert s.apply(parse_params("31")) == Style(fg=1)
    assert s.apply(parse_params("1;4")).bold and s.style.underline and s.style.fg == 1
    assert s.apply(parse_params("0")) == PLAIN
    assert s.apply(parse_params("38;5;196")).fg == 196
    assert s.apply(parse_params("48;2;1;2;3")).bg == (1, 2, 3)
    assert s.apply(parse_params("38:2::9:8:7")).fg == (9, 8, 7)  # ISO colon form
    assert s.apply(parse_params("95")).fg == 13 and s.apply(parse_params("103")).bg == 11
    assert s.apply(parse_params("39;49")) == Style(fg=None, bg=None)
    assert s.apply(parse_params("3;9;7")) == Style(italic=True, strike=True, inverse=True)
    assert s.apply(parse_params("23;29;27")) == PLAIN
    assert s.apply(parse_params("")) == PLAIN  # ESC[m is a reset


def test_malformed_sgr_is_ignored_not_fatal():
    s = SgrState()
    assert s.apply(parse_params("38;5")) == PLAIN
    assert s.apply(parse_params("38;2;1;2")) == PLAIN
    assert s.apply(parse_params("38;5;999")) == PLAIN


def test_xterm_palette_cube_and_greys():
    assert xterm_rgb(16) == (0, 0, 0)
    assert xterm_rgb(196) == (255, 0, 0)
    assert xterm_rgb(231) == (255, 255, 255)
    assert xterm_rgb(232) == (8, 8, 8)
    with pytest.raises(ValueError):
        xterm_rgb(3)


# -- stream decoding -----------------------------------------------------------------

def test_colours_split_the_text_into_styled_runs():
    d = StreamDecoder()
    ops = d.feed("a\x1b[31mb\x1b[0mc\n")
    assert [(op.text, op.style.fg) for op in ops] == [("a", None), ("b", 1), ("c\n", None)]


def test_carriage_return_and_backspace_overwrite_the_open_line():
    text, _ = feed_all(["10%", "\r20%", "\r3", "\n", "abc\b\bX\n"])
    assert text == "30%\naXc\n"


def test_erase_in_line():
    text, _ = feed_all(["hello world\r\x1b[Khi\n", "abcdef\x1b[3G\x1b[K!\n"])
    assert text == "hi\nab!\n"


def test_escape_sequences_split_across_chunks():
    d = StreamDecoder()
    ops = d.feed("x\x1b[3") + d.feed("1my\n")
    assert [(op.text, op.style.fg) for op in ops] == [("x", None), ("y\n", 1)]


def test_osc_titles_and_stray_controls_are_dropped():
    text, _ = feed_all(["\x1b]0;window title\x07visible\x00\x07\n"])
    assert text == "visible\n"


def test_long_lines_fold_with_the_full_text_kept():
    d = StreamDecoder(fold_limit=10)
    ops = d.feed("0123456789abcdef\nshort\n")
    assert isinstance(ops[0], FoldedLine)
    assert ops[0].full_text == "0123456789abcdef" and ops[0].hidden == 6
    assert "".join(t for t, _ in ops[0].head) == "0123456789"
    d.feed("x" * 25)
    spans, hidden = d.open_display
    assert "".join(t for t, _ in spans) == "x" * 10 and hidden == 15


def test_only_growth_past_the_fold_is_detected():
    d = StreamDecoder(fold_limit=10)
    d.feed("y" * 20)
    d.mark_drawn()
    d.feed("y" * 5)
    assert d.only_hidden_part_grew
    d.mark_drawn()
    d.feed("\rz")
    assert not d.only_hidden_part_grew


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \n")), max_size=200), st.data())
def test_plain_text_survives_any_chunking(text, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    chunks = [text[i:j] for i, j in zip([0] + cuts, cuts + [len(text)])]
    assert feed_all(chunks)[0] == text
    assert feed_all(chunks, fold_limit=7)[0] == text  # folding keeps every character


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["ab", "\n", "\r", "\b", "\x1b[31m", "\x1b[0m", "\x1b[1;38;5;200m", "zz\n",
                                 "\x1b[K"]), max_size=30), st.data())
def test_decoding_does_not_depend_on_where_chunks_split(pieces, data):
    text = "".join(pieces)
    whole, d1 = feed_all([text])
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    chunks = [text[i:j] for i, j in zip([0] + cuts, cuts + [len(text)])]
    split, d2 = feed_all(chunks)
    assert split == whole
    assert d1.sgr.style == d2.sgr.style


# -- history -----------------------------------------------------------------------------

def test_history_prefix_browsing_and_edits():
    h = History()
    h.load(["import os", "x = 1", "import sys", "x = 2"])
    assert h.previous("im", "im") == "import sys"
    assert h.previous("import sys (edited)", "im") == "import os"
    assert h.next("import os") == "import sys (edited)"  # the edit is remembered while browsing
    assert h.next("import sys (edited)") == "im"
    assert h.next("im") is None
    h.add("x = 3")
    assert h.previous("", "") == "x = 3"


def test_history_skips_blank_and_repeated_entries():
    h = History()
    h.load(["a", "a", " ", "b"])
    h.add("b")
    h.add("")
    assert h.entries == ["a", "b"]


def test_history_search_goes_backwards_from_an_index():
    h = History()
    h.load(["needle 1", "other", "needle 2"])
    assert h.search("needle") == (2, "needle 2")
    assert h.search("needle", before=2) == (0, "needle 1")
    assert h.search("needle", before=0) is None


# -- completeness fallback ----------------------------------------------------------------

@pytest.mark.parametrize("code, status, indent", [
    ("x = 1", "complete", ""),
    ("for i in range(3):", "incomplete", "    "),
    ("for i in range(3):\n    print(i)", "incomplete", "    "),
    ("for i in range(3):\n    print(i)\n", "complete", ""),
    ("f(1,\n  2", "incomplete", "  "),
    ("s = '''abc", "incomplete", ""),
    ("x = \\", "incomplete", ""),
    ("%timeit x", "invalid", ""),
    ("", "complete", ""),
])
def test_local_completeness_check(code, status, indent):
    assert check_complete(code) == (status, indent)


def test_local_check_treats_other_languages_as_complete():
    assert check_complete("function f() {", "javascript") == ("complete", "")


# -- keymap -----------------------------------------------------------------------------------

def test_keymap_binds_rebinds_and_rejects(qapp):
    from qtapp.console.keymap import Keymap

    km = Keymap()
    assert km.shortcut_text("restart_kernel")
    km.bind("force_run", ["Ctrl+J"])
    assert [k.toString() for k in km.keys("force_run")] == ["Ctrl+J"]
    km.bind("reverse_search", ["Ctrl+J"])  # a key moves to its new command
    assert km.keys("force_run") == []
    with pytest.raises(KeyError, match="unknown console command"):
        km.bind("no_such_command", ["Ctrl+X"])
