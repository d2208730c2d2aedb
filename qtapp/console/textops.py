"""Putting decoded terminal text into the transcript.

Shared by the stream writer and the text/plain renderer: both decode text
with a :class:`~qtapp.console.streamtext.StreamDecoder` and insert the
resulting operations with these helpers, so ANSI colours, folding and
``\\r`` behave the same in ``print`` output and in an ``Out[n]`` repr.
"""

from __future__ import annotations

from typing import Iterable, List, Optional, Tuple

from PyQt5.QtGui import QTextCursor

from .ansi import PLAIN
from .streamtext import FoldedLine, Op, StreamDecoder, TextRun
from .theme import Formats
from .transcript import FOLD_FLAG, Transcript


def marker_text(hidden: int) -> str:
    return f" … {hidden:,} more characters"


def insert_ops(transcript: Transcript, cursor: QTextCursor, ops: Iterable[Op], formats: Formats,
               stream: str) -> None:
    """Insert finished lines at ``cursor``."""
    for op in ops:
        if isinstance(op, TextRun):
            cursor.insertText(op.text, formats.for_style(op.style, stream))
        else:
            _insert_folded(transcript, cursor, op, formats, stream)


def _insert_folded(transcript: Transcript, cursor: QTextCursor, op: FoldedLine, formats: Formats,
                   stream: str) -> None:
    block = cursor.block()
    offset = cursor.positionInBlock()
    head_len = 0
    for text, style in op.head:
        cursor.insertText(text, formats.for_style(style, stream))
        head_len += len(text)
    cursor.insertText(marker_text(op.hidden), formats.fold_marker)
    transcript.mark_fold(block, offset, head_len, op.full_text, len(op.full_text))
    cursor.insertText("\n", formats.for_style(op.head[-1][1] if op.head else PLAIN, stream))


def replace_marker(transcript: Transcript, old_len: int, hidden: int, formats: Formats,
                   end: Optional[int] = None) -> int:
    """Rewrite the fold marker that ends at ``end`` (default: the very end);
    returns the new marker's length."""
    cursor = transcript.end_cursor() if end is None else transcript.cursor_at(end)
    cursor.setPosition(cursor.position() - old_len, QTextCursor.KeepAnchor)
    text = marker_text(hidden)
    cursor.insertText(text, formats.fold_marker)
    return len(text)


def insert_open_line(transcript: Transcript, cursor: QTextCursor, decoder: StreamDecoder, formats: Formats,
                     stream: str) -> int:
    """Draw the decoder's open line at ``cursor``; returns how many characters it took."""
    spans, hidden = decoder.open_display
    start = cursor.position()
    block = cursor.block()
    offset = cursor.positionInBlock()
    head_len = 0
    for text, style in spans:
        if text:
            cursor.insertText(text, formats.for_style(style, stream))
            head_len += len(text)
    if hidden:
        cursor.insertText(marker_text(hidden), formats.fold_marker)
        line = decoder.line  # later writes go to a new OpenLine; this one stays as shown
        transcript.mark_fold(block, offset, head_len, line.plain, 0)
    return cursor.position() - start


def drop_open_line(transcript: Transcript, length: int, end: Optional[int] = None) -> QTextCursor:
    """Remove the ``length`` characters before ``end`` (default: the very end), a
    stream's open line; returns a cursor there."""
    cursor = transcript.end_cursor() if end is None else transcript.cursor_at(end)
    if length:
        end = cursor.position()
        cursor.setPosition(end - length, QTextCursor.KeepAnchor)
        block = cursor.block()
        fold = transcript.fold_at(block)
        if fold is not None and fold.offset >= cursor.positionInBlock():
            block.setUserState(block.userState() & ~FOLD_FLAG)  # the fold was this open line's
            block.setUserData(None)
        cursor.removeSelectedText()
    return cursor


def styled(spans: Iterable[Tuple[str, object]], formats: Formats, stream: str) -> List[tuple]:
    return [(text, formats.for_style(style, stream)) for text, style in spans]
