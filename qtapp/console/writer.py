"""Applies output operations to the transcript, in order.

Layout rules, as in a terminal session:

- echoed cells, results, errors and notices start on a line of their own;
- stream text continues the current line when the last thing written was
  stream text (stdout and stderr share a line as they would on a tty);
- a stream's open line (after its last newline) is redrawn in place while it
  is the last thing in the transcript, so ``\\r`` progress bars update in
  place; once anything else follows, new text for that stream starts after it.
"""

from __future__ import annotations

import logging
from typing import Callable, Dict, Optional

from pygments.lexer import Lexer
from PyQt5.QtGui import QTextCursor

from .highlight import TokenFormats, highlight_spans
from .outputs import (BundleOp, ClearOp, ClearScreenOp, EchoOp, ErrorOp, InputEchoOp, NoticeOp, OutputArea,
                      OutputAreas, StreamOp)
from .placement import Place
from .renderers import CannotRender, InlineObjectHost, RenderContext, RendererRegistry
from .streamtext import StreamDecoder
from .textops import drop_open_line, insert_open_line, insert_ops, marker_text, replace_marker
from .theme import Formats
from .transcript import Segment, Transcript

log = logging.getLogger(__name__)

IN_PROMPT = "In [{}]: "
OUT_PROMPT = "Out[{}]: "


def in_prompt(count: Optional[int]) -> str:
    return IN_PROMPT.format(count if count is not None else " ")


def continuation_prompt(width: int) -> str:
    return " " * max(0, width - 5) + "...: "


class TranscriptWriter:
    """The one place that changes the transcript's text."""

    def __init__(self, transcript: Transcript, formats: Formats, registry: RendererRegistry,
                 objects: InlineObjectHost, areas: OutputAreas):
        self.transcript = transcript
        self.formats = formats
        self.registry = registry
        self.objects = objects
        self.areas = areas
        self.lexer: Optional[Lexer] = None  # the kernel's language is known once it answers
        self.token_formats = TokenFormats(formats.theme.pygments_style)
        self._apply: Dict[type, Callable] = {
            EchoOp: self._echo,
            StreamOp: self._stream,
            BundleOp: self._bundle,
            ErrorOp: self._error,
            ClearOp: self._clear,
            ClearScreenOp: self._clear_screen,
            NoticeOp: self._notice,
            InputEchoOp: self._input_echo,
        }

    def apply(self, op: object) -> None:
        handler = self._apply.get(type(op))
        if handler is None:
            log.debug("no writer for %s", type(op).__name__)
            return
        handler(op)

    def context(self, stream: str = "stdout", segment: Optional[Segment] = None) -> RenderContext:
        return RenderContext(self.transcript, self.formats, self.objects, stream, segment)

    # -- helpers ------------------------------------------------------------------
    def _area(self, parent_id: Optional[str]) -> OutputArea:
        area = self.areas.get(parent_id)
        if area.clear_on_next_output:
            area.clear_on_next_output = False
            self._clear_area(area)
        return area

    def _clear_area(self, area: OutputArea) -> None:
        segments = area.live_segments()
        if segments:
            area.successor = self._following(segments[-1])
        for seg in list(segments):
            if seg.kind != "echo":
                self.transcript.remove_segment(seg)
        area.decoders.clear()
        area.in_place = True

    def _following(self, seg: Segment) -> Optional[Segment]:
        segments = self.transcript.segments
        index = segments.index(seg) + 1
        return segments[index] if index < len(segments) else None

    def _place(self, area: Optional[OutputArea]) -> Place:
        """The end of the transcript, or for a redrawn area, the spot its output had."""
        if area is None or not area.in_place:
            return Place(self.transcript)
        live = area.live_segments()
        before = self._following(live[-1]) if live else area.successor
        return Place(self.transcript, before)

    def _segment(self, kind: str, area: Optional[OutputArea], place: Optional[Place] = None,
                 own_line: bool = True, **meta) -> Segment:
        place = place or Place(self.transcript)
        seg = place.new_segment(kind, area.parent_id if area else None, own_line=own_line, **meta)
        if area is not None:
            area.segments.append(seg)
        return seg

    # -- operations -----------------------------------------------------------------
    def _echo(self, op: EchoOp) -> None:
        self._segment("echo", self.areas.get(op.area), count=op.count, code=op.code, label=op.label)
        self._write_echo(self.transcript.end_cursor(), op.code, op.count, op.label)

    def rewrite_echo(self, seg: Segment) -> None:
        """Draw an echoed cell again (after the syntax style changed)."""
        cursor = self.transcript.empty_segment(seg)
        self._write_echo(cursor, seg.meta.get("code", ""), seg.meta.get("count"), seg.meta.get("label", ""))

    def _write_echo(self, cursor: QTextCursor, code: str, count: Optional[int], label: str = "") -> None:
        t = self.transcript
        f = self.formats
        prompt = (label + " " if label else "") + in_prompt(count)
        cont = continuation_prompt(len(prompt))
        lines = code.rstrip("\n").split("\n") if code.strip() else [""]
        spans = highlight_spans("\n".join(lines), self.lexer, self.token_formats)
        # split highlighted spans into lines so each line gets its prompt
        per_line: list = [[]]
        for text, fmt in spans:
            for i, part in enumerate(text.split("\n")):
                if i:
                    per_line.append([])
                if part:
                    per_line[-1].append((part, fmt))
        for i, line_spans in enumerate(per_line):
            if i:
                cursor.insertText("\n", f.plain)
            p = prompt if i == 0 else cont
            cursor.insertText(p, f.in_prompt if i == 0 else f.continuation)
            t.mark_prompt(cursor.block(), len(p))
            t.insert_spans(cursor, line_spans)

    def _stream(self, op: StreamOp) -> None:
        area = self._area(op.area)
        place = self._place(area)
        place.open()
        try:
            self._write_stream(op, area, place)
        finally:
            place.close()

    def _write_stream(self, op: StreamOp, area: OutputArea, place: Place) -> None:
        t = self.transcript
        decoder = area.decoder(op.name)
        seg = place.last_segment
        if seg is None or seg.kind != "stream" or seg.area != op.area or seg.meta.get("name") != op.name:
            continues_line = seg is not None and seg.kind == "stream"
            decoder.detach_line()
            seg = self._segment("stream", area, place, own_line=not continues_line, name=op.name, open_len=0)
        text = op.take(op.size)
        ops = decoder.feed(text)
        if not ops and not decoder.open_changed:
            return
        meta = seg.meta
        end = None if place.at_end else place.end_position()
        if not ops and meta.get("marker_len") and decoder.only_hidden_part_grew:
            # a huge line still growing: only the "… N more characters" count
            # changes. Rewriting it relays out the shown part of the line, so
            # a text applied in slices updates it once, with its last slice.
            if op.more:
                return
            new_len = replace_marker(t, meta["marker_len"], decoder.line.length - decoder.fold_limit, self.formats,
                                     end)
            meta["open_len"] += new_len - meta["marker_len"]
            meta["marker_len"] = new_len
        else:
            cursor = drop_open_line(t, meta["open_len"], end)
            insert_ops(t, cursor, ops, self.formats, op.name)
            meta["open_len"] = insert_open_line(t, cursor, decoder, self.formats, op.name)
            hidden = decoder.open_display[1]
            meta["marker_len"] = len(marker_text(hidden)) if hidden else 0
        decoder.mark_drawn()

    def _bundle(self, op: BundleOp) -> None:
        if op.update:
            targets = self.areas.displays(op.display_id) if op.display_id else []
            for seg in targets:
                self._rerender(seg, op)
            return
        area = self._area(op.area)
        kind = "result" if op.count is not None else "display"
        place = self._place(area)
        place.open()
        seg = self._segment(kind, area, place, count=op.count, display_id=op.display_id)
        if op.display_id:
            self.areas.add_display(op.display_id, seg)
        self._render_bundle(place.end_cursor(), seg, op)
        place.close()

    def _render_bundle(self, cursor: QTextCursor, seg: Segment, op: BundleOp) -> None:
        if op.count is not None:
            prompt = OUT_PROMPT.format(op.count)
            cursor.insertText(prompt, self.formats.out_prompt)
            self.transcript.mark_prompt(cursor.block(), len(prompt))
        for mime, renderer in self.registry.candidates(op.data):
            data = op.data[mime]
            block = op.count is not None and renderer.is_block(mime, data)
            if block:
                cursor.insertText("\n", self.formats.plain)
            ctx = self.context(segment=seg)
            ctx.bundle = op.data
            try:
                renderer.render(cursor, mime, data, op.metadata.get(mime, {}), ctx)
            except CannotRender as exc:
                log.debug("not showing %s: %s", mime, exc)
                if block:
                    cursor.deletePreviousChar()
                continue
            except Exception as exc:
                log.exception("the %s renderer failed", mime)
                cursor.insertText(f"[could not show {mime} output: {exc}]", self.formats.error_notice)
            return
        kinds = ", ".join(sorted(op.data)) or "nothing"
        cursor.insertText(f"[output with no viewable representation: {kinds}]", self.formats.notice)

    def _rerender(self, seg: Segment, op: BundleOp) -> None:
        cursor = self.transcript.empty_segment(seg)
        self.objects.forget(seg.meta.pop("objects", ()))
        self._render_bundle(cursor, seg, BundleOp(seg.area, op.data, op.metadata, seg.meta.get("count"),
                                                   op.display_id))

    def _error(self, op: ErrorOp) -> None:
        area = self._area(op.area)
        place = self._place(area)
        place.open()
        self._segment("error", area, place)
        text = "\n".join(op.traceback) if op.traceback else f"{op.ename}: {op.evalue}"
        decoder = StreamDecoder()
        cursor = place.end_cursor()
        insert_ops(self.transcript, cursor, decoder.feed(text), self.formats, "stderr")
        insert_open_line(self.transcript, cursor, decoder, self.formats, "stderr")
        place.close()

    def _clear(self, op: ClearOp) -> None:
        area = self.areas.find(op.area)
        if area is None:
            return
        if op.wait:
            area.clear_on_next_output = True
        else:
            self._clear_area(area)

    def _clear_screen(self, op: ClearScreenOp) -> None:
        self.transcript.clear()
        self.areas.clear()

    def _notice(self, op: NoticeOp) -> None:
        self._segment("notice", None)
        fmt = {"error": self.formats.error_notice, "plain": self.formats.plain}.get(op.level, self.formats.notice)
        self.transcript.end_cursor().insertText(op.text, fmt)

    def _input_echo(self, op: InputEchoOp) -> None:
        text = "\n" if op.password else op.value + "\n"
        self._stream(StreamOp.of(op.area, "stdout", text))
