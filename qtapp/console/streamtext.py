"""Terminal-style decoding of one output stream, independent of Qt.

A program's stdout is a byte stream meant for a terminal: ``\\r`` returns to
the start of the line so a progress bar can redraw itself, ``\\b`` steps back
one column, and escape sequences change colours. The decoder keeps that line
state per stream and turns text into *operations* a view can apply cheaply:

- :class:`TextRun`: finished lines (each ending in ``\\n``) in one style;
- :class:`FoldedLine`: a finished line too long to lay out (Qt needs seconds
  for a wrapped line of a million characters), shown as its head plus a
  marker while its full text is kept for copying and saving;
- the *open line* (after the last ``\\n``), which may still be rewritten and
  is redrawn by the view whenever it changes.

Text may arrive split anywhere, even inside an escape sequence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Tuple, Union

from .ansi import PLAIN, SgrState, Style, parse_params

#: Lines longer than this many characters are folded for display.
FOLD_LIMIT = 10_000

Span = Tuple[str, Style]

# One control token: CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), a
# two-character escape, a newline pair or a single control character.
_TOKEN = re.compile(
    r"\x1b\[([0-?]*)([ -/]*)([@-~])"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[@-Z\\-_]"
    r"|\r\n|[\r\n\b]"
    r"|[\x00-\x07\x0b-\x0c\x0e-\x1f\x7f]"
)
_NEEDS_SLOW_PATH = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# An escape sequence cut off at the end of a chunk: keep it for the next one.
_PARTIAL_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*)?$")
#: An unterminated OSC longer than this is treated as garbage, not carried.
_MAX_CARRY = 4096


@dataclass
class TextRun:
    """Finished lines in one style; ``text`` ends with a newline."""

    text: str
    style: Style


@dataclass
class FoldedLine:
    """A finished line longer than the fold limit."""

    head: List[Span]
    full_text: str

    @property
    def hidden(self) -> int:
        return len(self.full_text) - sum(len(t) for t, _ in self.head)


Op = Union[TextRun, FoldedLine]


class OpenLine:
    """The unfinished last line of a stream, as styled spans with overwrite."""

    def __init__(self) -> None:
        self.spans: List[list] = []
        self.length = 0
        #: the first column changed since the view last drew this line
        self.dirty_from = 0

    def write(self, text: str, style: Style, col: int) -> int:
        """Put ``text`` at ``col`` (overwriting, as a terminal does); returns the new column."""
        if not text:
            return col
        self.dirty_from = min(self.dirty_from, col, self.length)
        if col > self.length:  # after \b then text past the end: pad
            self._append(" " * (col - self.length), PLAIN)
        if col == self.length:
            self._append(text, style)
            return self.length
        end = col + len(text)
        before = self._slice(0, col)
        after = self._slice(end, self.length) if end < self.length else []
        self.spans, self.length = [], 0
        for t, s in before:
            self._append(t, s)
        self._append(text, style)
        for t, s in after:
            self._append(t, s)
        return end

    def erase(self, start: int, end: int) -> None:
        """Blank [start, end) (ESC [ K semantics: the columns stay, as spaces)."""
        end = min(end, self.length)
        if start >= end:
            return
        self.dirty_from = min(self.dirty_from, start)
        if end == self.length:
            kept = self._slice(0, start)
            self.spans, self.length = [], 0
            for t, s in kept:
                self._append(t, s)
            return
        self.write(" " * (end - start), PLAIN, start)

    def _append(self, text: str, style: Style) -> None:
        last = self.spans[-1] if self.spans else None
        if last is not None and last[1] == style and len(last[0]) < FOLD_LIMIT:
            last[0] += text  # short runs merge; long ones stay separate (no quadratic copying)
        else:
            self.spans.append([text, style])
        self.length += len(text)

    def _slice(self, start: int, end: int) -> List[Span]:
        out: List[Span] = []
        pos = 0
        for text, style in self.spans:
            nxt = pos + len(text)
            if nxt > start and pos < end:
                out.append((text[max(0, start - pos):min(len(text), end - pos)], style))
            if nxt >= end:
                break
            pos = nxt
        return out

    def head(self, limit: int) -> List[Span]:
        return self._slice(0, min(limit, self.length))

    def plain(self) -> str:
        return "".join(t for t, _ in self.spans)

    def styled(self) -> List[Span]:
        return [(t, s) for t, s in self.spans]


class StreamDecoder:
    """Line and colour state of one stream; :meth:`feed` returns view operations."""

    def __init__(self, fold_limit: int = FOLD_LIMIT):
        self.fold_limit = fold_limit
        self.sgr = SgrState()
        self.line = OpenLine()
        self.col = 0
        self.open_changed = False
        self._carry = ""
        self._ops: List[Op] = []
        self._run_parts: List[str] = []
        self._run_style: Style = PLAIN

    # -- public ---------------------------------------------------------------
    def feed(self, text: str) -> List[Op]:
        """Decode ``text``; the finished lines it completes, in order."""
        if self._carry:
            text, self._carry = self._carry + text, ""
        partial = _PARTIAL_ESCAPE.search(text, max(0, len(text) - _MAX_CARRY))
        if partial is not None:
            text, self._carry = text[:partial.start()], text[partial.start():]
        if _NEEDS_SLOW_PATH.search(text) is None:
            self._write_plain(text)
        else:
            self._write_controlled(text)
        return self._take_ops()

    def finish_line(self) -> List[Op]:
        """End the open line as if a newline came (the stream's segment is over)."""
        if self.line.length:
            self._newline()
        return self._take_ops()

    def mark_drawn(self) -> None:
        """The view shows the open line as it is now."""
        self.open_changed = False
        self.line.dirty_from = self.line.length

    @property
    def only_hidden_part_grew(self) -> bool:
        """The open line changed only beyond the fold: the view need only
        update the count in its marker."""
        return self.line.length > self.fold_limit and self.line.dirty_from >= self.fold_limit

    def detach_line(self) -> None:
        """Start a new open line, leaving the current one as it was shown
        (something else was written after it)."""
        self.line = OpenLine()
        self.col = 0

    @property
    def open_display(self) -> Tuple[List[Span], int]:
        """The open line as shown: its spans (folded if long) and the hidden count."""
        if self.line.length > self.fold_limit:
            return self.line.head(self.fold_limit), self.line.length - self.fold_limit
        return self.line.styled(), 0

    @property
    def open_text(self) -> str:
        return self.line.plain()

    # -- decoding -------------------------------------------------------------
    def _write_controlled(self, text: str) -> None:
        pos = 0
        for m in _TOKEN.finditer(text):
            if m.start() > pos:
                self._write_plain(text[pos:m.start()])
            pos = m.end()
            token = m.group(0)
            if token in ("\n", "\r\n"):
                self._newline()
            elif token == "\r":
                self.col = 0
            elif token == "\b":
                self.col = max(0, self.col - 1)
            elif m.group(3) is not None:
                self._csi(m.group(1), m.group(2), m.group(3))
            # other escapes and control characters are dropped
        if pos < len(text):
            self._write_plain(text[pos:])

    def _csi(self, params: str, intermediate: str, final: str) -> None:
        if intermediate:
            return
        if final == "m":
            self.sgr.apply(parse_params(params))
        elif final == "K":  # erase in line: 0 to end, 1 to start, 2 all
            mode = params or "0"
            if mode == "0":
                self.line.erase(self.col, self.line.length)
            elif mode == "1":
                self.line.erase(0, self.col + 1)
            elif mode == "2":
                self.line.erase(0, self.line.length)
            self.open_changed = True
        elif final == "G":  # cursor to column n (1-based), used by some progress bars
            self.col = max(0, int(params) - 1) if params.isdigit() else 0
        # cursor movement between lines and screen control have no meaning here

    def _write_plain(self, text: str) -> None:
        if not text:
            return
        style = self.sgr.style
        pieces = text.split("\n")
        self.col = self.line.write(pieces[0], style, self.col)
        self.open_changed = True
        if len(pieces) == 1:
            return
        self._newline()
        middle = pieces[1:-1]
        if middle:
            if max(map(len, middle)) <= self.fold_limit:
                self._emit_text("\n".join(middle) + "\n", style)
            else:
                for piece in middle:
                    self.col = self.line.write(piece, style, 0)
                    self._newline()
        self.col = self.line.write(pieces[-1], style, 0)

    def _newline(self) -> None:
        line = self.line
        if line.length > self.fold_limit:
            self._close_run()
            self._ops.append(FoldedLine(line.head(self.fold_limit), line.plain()))
        else:
            for text, style in line.spans:
                self._emit_text(text, style)
            self._emit_text("\n", line.spans[-1][1] if line.spans else self.sgr.style)
        self.line = OpenLine()
        self.col = 0
        self.open_changed = True

    # -- operations -----------------------------------------------------------
    def _emit_text(self, text: str, style: Style) -> None:
        if self._run_parts and style != self._run_style:
            self._close_run()
        self._run_style = style
        self._run_parts.append(text)

    def _close_run(self) -> None:
        if self._run_parts:
            self._ops.append(TextRun("".join(self._run_parts), self._run_style))
            self._run_parts = []

    def _take_ops(self) -> List[Op]:
        self._close_run()
        ops, self._ops = self._ops, []
        return ops
