"""The transcript and its writer on real Qt widgets: segments owned by output
areas, prompt and fold marks, copying, bounded scrollback, the renderer
registry with an inline object, HTML export and re-theming.

These drive the view with the same operations the controller queues, so
they need no kernel.
"""

from __future__ import annotations

import re

import pytest
from PyQt5.QtCore import QRectF, QSizeF
from PyQt5.QtGui import QColor, QTextCursor, QTextDocument

from console_helpers import apply, view_console
from qtapp.console.outputs import BundleOp, ClearOp, EchoOp, ErrorOp, NoticeOp, StreamOp
from qtapp.console.renderers import RendererRegistry, TextPlainRenderer
from qtapp.console.transcript import Transcript


@pytest.fixture
def console(qtbot):
    return view_console(qtbot)



def test_clearing_an_area_keeps_the_neighbours_and_their_prompts(console):
    apply(console,
          EchoOp("a", "print('a')", 1), StreamOp.of("a", "stdout", "out a\n"),
          EchoOp("b", "x = 1\ny = 2", 2), StreamOp.of("b", "stdout", "out b\n"),
          EchoOp("c", "print('c')", 3), StreamOp.of("c", "stdout", "out c"))
    apply(console, ClearOp("b", wait=False))
    assert console.plain_text() == "print('a')\nout a\nx = 1\ny = 2\nprint('c')\nout c"
    raw = console.plain_text(raw=True)
    assert "In [3]: print('c')" in raw and "   ...: y = 2" in raw


def test_clear_output_wait_clears_on_the_next_output_only(console):
    apply(console, EchoOp("a", "loop()", 1), StreamOp.of("a", "stdout", "0%\n"), ClearOp("a", wait=True))
    assert "0%" in console.plain_text()
    apply(console, StreamOp.of("a", "stdout", "50%\n"))
    assert console.plain_text() == "loop()\n50%\n"


def test_a_display_is_updated_in_place(console):
    apply(console, EchoOp("a", "show()", 1),
          BundleOp("a", {"text/plain": "version 1"}, {}, display_id="d1"),
          StreamOp.of("a", "stdout", "after\n"))
    apply(console, BundleOp("b", {"text/plain": "version 2\nwith two lines"}, {}, display_id="d1", update=True))
    assert console.plain_text() == "show()\nversion 2\nwith two lines\nafter\n"


def test_results_and_errors_and_notices_start_on_their_own_lines(console):
    apply(console, EchoOp("a", "f()", 4), StreamOp.of("a", "stdout", "no newline"),
          BundleOp("a", {"text/plain": "42"}, {}, count=4),
          ErrorOp("a", "ValueError", "bad", ["\x1b[31mValueError\x1b[0m: bad"]),
          NoticeOp("Kernel restarted"))
    assert console.plain_text(raw=True).endswith(
        "In [4]: f()\nno newline\nOut[4]: 42\nValueError: bad\nKernel restarted")


def test_streams_share_a_line_as_on_a_terminal(console):
    apply(console, StreamOp.of("a", "stdout", "abc"), StreamOp.of("a", "stderr", "def\n"),
          StreamOp.of("a", "stdout", "\rxyz\n"))
    assert console.plain_text() == "abcdef\nxyz\n"


def test_copying_a_partly_selected_folded_line_gives_its_full_text(console):
    long_line = "".join(chr(ord("a") + i % 26) for i in range(25_000))
    apply(console, StreamOp.of("a", "stdout", "before\n" + long_line + "\nafter\n"))
    doc = console.transcript.document
    marker = doc.find("more characters")
    assert not marker.isNull()
    assert "15,000 more characters" in marker.block().text()
    start = doc.find("before").selectionStart() + 3
    cursor = QTextCursor(doc)
    cursor.setPosition(start)
    cursor.setPosition(marker.selectionEnd(), QTextCursor.KeepAnchor)
    console.transcript.view.setTextCursor(cursor)
    assert console.transcript.selected_text() == "ore\n" + long_line
    console.transcript.view.copy()
    from PyQt5.QtWidgets import QApplication
    assert QApplication.clipboard().text() == "ore\n" + long_line


def test_scrollback_is_bounded_by_memory_and_marks_stay_right(qtbot):
    t = Transcript(scrollback_bytes=400_000)
    qtbot.addWidget(t.view)
    from qtapp.console.outputs import OutputAreas
    from qtapp.console.renderers import InlineObjectHost, default_registry
    from qtapp.console.theme import LIGHT, Formats
    from qtapp.console.writer import TranscriptWriter

    w = TranscriptWriter(t, Formats(LIGHT), default_registry(), InlineObjectHost(t.document), OutputAreas())
    removed = []
    t.removal_listeners.append(removed.append)
    for n in range(1, 300):
        w.apply(EchoOp(str(n), f"cell_{n}()", n))
        w.apply(StreamOp.of(str(n), "stdout", "".join(f"line {n}.{i}\n" for i in range(40))))
        while t.trim():
            pass
    assert t.memory_estimate() <= t.scrollback_bytes
    assert t.trimmed_blocks > 0 and removed and all(seg.removed for seg in removed)
    text = t.plain_text()
    assert "cell_299()\nline 299.0" in text and "cell_1()" not in text
    # every kept echo still has its prompt stripped on copy, and shown raw
    kept = re.findall(r"cell_(\d+)\(\)", text)
    raw = t.plain_text(raw=True)
    for n in kept[1:]:
        assert f"In [{n}]: cell_{n}()" in raw


class Swatch:
    """A minimal inline object: a coloured rectangle."""

    def __init__(self, colour: str):
        self.colour = QColor(colour)
        self.painted = 0

    def size(self, available_width, metrics):
        return QSizeF(120, 40)

    def paint(self, painter, rect: QRectF) -> None:
        self.painted += 1
        painter.fillRect(rect, self.colour)

    def to_html(self) -> str:
        return f'<div style="background:{self.colour.name()};width:120px;height:40px"></div>'


class SwatchRenderer:
    mime_types = ("application/x-swatch",)

    def render(self, cursor, mime, data, metadata, ctx):
        ctx.objects.insert(cursor, Swatch(data), owner=ctx.segment)

    def is_block(self, mime, data):
        return True


def test_registry_prefers_later_renderers_and_falls_back_to_text():
    reg = RendererRegistry()
    text = TextPlainRenderer()
    reg.register(text)
    reg.register(SwatchRenderer())
    assert reg.preference == ["application/x-swatch", "text/plain"]
    assert reg.choose({"text/plain": "x", "application/x-swatch": "#f00"})[0] == "application/x-swatch"
    assert reg.choose({"text/plain": "x", "image/png": "..."})[1] is text
    assert reg.choose({"image/png": "..."}) is None


def test_an_inline_object_is_drawn_in_the_transcript_and_forgotten_with_it(console, qtbot, tmp_path):
    console.registry.register(SwatchRenderer())
    apply(console, EchoOp("a", "swatch()", 1),
          BundleOp("a", {"text/plain": "<swatch>", "application/x-swatch": "#ff0000"}, {}, count=1))
    assert len(console.objects) == 1
    qtbot.waitUntil(lambda: _red_pixels(console) > 1000, timeout=10_000)
    # exported as its own HTML, and removed with its output area
    path = tmp_path / "t.html"
    console.export_html(path)
    assert 'background:#ff0000' in path.read_text()
    apply(console, ClearOp("a", wait=False))
    assert len(console.objects) == 0
    assert _red_pixels(console) == 0


def _red_pixels(console) -> int:
    img = console.transcript.view.viewport().grab().toImage()
    return sum(1 for x in range(0, img.width(), 2) for y in range(0, img.height(), 2)
               if img.pixelColor(x, y) == QColor("#ff0000"))


def test_html_export_keeps_colours_prompts_and_folded_text(console, tmp_path):
    long_line = "y" * 12_000
    apply(console, EchoOp("a", "print('hi')", 7), StreamOp.of("a", "stdout", "\x1b[32mgreen\x1b[0m\n"),
          StreamOp.of("a", "stderr", "oops\n" + long_line + "\n"))
    path = tmp_path / "out.html"
    console.export_html(path)
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert f'color:{QColor(console.theme.ansi[2]).name()}">green</span>' in html
    assert f'color:{QColor(console.theme.stderr).name()}">oops' in html
    assert "In [7]: </span>" in html
    assert long_line in html and "more characters" not in html


def test_switching_theme_recolours_existing_output(console):
    apply(console, EchoOp("a", "print(1)", 1), StreamOp.of("a", "stdout", "\x1b[31mred\x1b[0m\n"),
          StreamOp.of("a", "stderr", "err\n"))
    console.apply_theme("dark")
    doc = console.transcript.document

    def colour_of(needle):
        c = doc.find(needle, doc.characterCount() - 1, QTextDocument.FindBackward)
        probe = QTextCursor(doc)
        probe.setPosition(c.selectionStart() + 1)
        return probe.charFormat().foreground().color()

    from qtapp.console.theme import DARK
    assert colour_of("red") == QColor(DARK.ansi[1])
    assert colour_of("err") == QColor(DARK.stderr)
    assert colour_of("In [1]") == QColor(DARK.in_prompt)
    assert console.transcript.view.palette().base().color() == QColor(DARK.background)
    assert console.plain_text(raw=True).startswith("In [1]: print(1)\nred\nerr")
