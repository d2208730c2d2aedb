"""Where an output area's next output goes: the end, or back in its place.

Output normally goes at the end of the transcript, as on a terminal. An area
whose output was cleared (``clear_output``) is a display being redrawn, such
as a progress bar: its new output goes where the old output was, right after
the area's last remaining segment (its echoed cell), even when later cells
have been written since.

A :class:`Place` offers the writer the few operations it uses at the end of
the transcript (end position, a fresh line, a new segment) for an arbitrary
spot: *before* the segment that follows the area. Writing there never touches
that following segment's first line: text goes in just before the line break
that precedes it, which Qt treats as appending to the previous line, so the
next segment's prompt mark and block state stay where they are.

At the very end of a transcript, the last line is empty after output that
ends with a newline; in the middle, that empty line would show as a gap. So
after writing, a trailing empty line is folded into the following segment's
line break ("collapsed", remembered in that segment's ``meta``) and restored
before the next write, which then sees exactly what it would see at the end.
"""

from __future__ import annotations

from typing import Optional

from PyQt5.QtGui import QTextCursor

from .transcript import Segment, Transcript

#: Key in the following segment's meta: the line break before it also ends an empty line.
COLLAPSED = "collapsed_newline"


class Place:
    """The end of the transcript (``before`` None), or the spot just before ``before``."""

    def __init__(self, transcript: Transcript, before: Optional[Segment] = None):
        self.transcript = transcript
        self.before = before if before is not None and not before.removed else None

    @property
    def at_end(self) -> bool:
        return self.before is None

    # -- positions ---------------------------------------------------------------
    def end_position(self) -> int:
        """Where the next text goes (the line break before ``before``, in the middle)."""
        if self.before is None:
            return self.transcript.end_position()
        return self.before.start.position() - 1

    def end_cursor(self) -> QTextCursor:
        return self.transcript.cursor_at(self.end_position())

    def at_block_start(self) -> bool:
        if self.before is None:
            return self.transcript.at_block_start()
        block = self.transcript.document.findBlock(self.end_position())
        return block.position() == self.end_position()

    def ensure_block_start(self) -> None:
        if not self.at_block_start():
            self.end_cursor().insertText("\n")

    # -- segments -------------------------------------------------------------------
    @property
    def last_segment(self) -> Optional[Segment]:
        if self.before is None:
            return self.transcript.last_segment
        index = self.transcript.segments.index(self.before)
        return self.transcript.segments[index - 1] if index else None

    def new_segment(self, kind: str, area: Optional[str] = None, *, own_line: bool = True, **meta) -> Segment:
        if self.before is None:
            return self.transcript.new_segment(kind, area, own_line=own_line, **meta)
        if own_line:
            self.ensure_block_start()
        seg = Segment(kind, area, self.transcript.anchor(self.end_position()), meta)
        segments = self.transcript.segments
        segments.insert(segments.index(self.before), seg)
        return seg

    # -- the empty last line --------------------------------------------------------------
    def open(self) -> None:
        """Restore the empty line a previous write folded away."""
        if self.before is not None and self.before.meta.pop(COLLAPSED, False):
            self.end_cursor().insertText("\n")

    def close(self) -> None:
        """Fold a trailing empty line into the following segment's line break.

        Deleting the line break that ends the empty line keeps the block
        state of the line after it (Qt keeps the state of the block after a
        deleted separator), so the following segment's marks survive.
        """
        if self.before is None:
            return
        end = self.end_position()
        doc = self.transcript.document
        block = doc.findBlock(end)
        if block.position() != end or end == 0 or block.length() != 1:
            return  # the line before `before` has text: nothing to fold
        cursor = self.transcript.cursor_at(end)
        cursor.setPosition(end + 1, QTextCursor.KeepAnchor)
        cursor.removeSelectedText()
        self.before.meta[COLLAPSED] = True
