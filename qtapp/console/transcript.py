"""The transcript: a read-only record of cells and their output.

It is a ``QPlainTextEdit``: its plain layout only lays out the blocks on
screen, so a million lines cost memory but not time. The document is a
sequence of :class:`Segment` objects (an echoed cell, a run of one stream's
output, a result, a notice...); each remembers where it starts, and ends
where the next one starts, so an output area can later remove or replace
exactly its own segments.

Two kinds of blocks are *marked* (by a cursor kept in :attr:`Transcript._marks`):
blocks that start with a prompt (``In [3]:``), which copying strips, and
folded lines, which show only their head while the full text is kept for
copying and saving. Everything else is copied as Qt stores it, so copying a
huge transcript stays a C++ operation plus a few fix-ups.

Scrollback is bounded by an estimate of memory (characters and blocks), and
trimmed from the top a bounded number of blocks at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Optional, Tuple, Union

from PyQt5.QtCore import QMimeData, QPoint, Qt, pyqtSignal
from PyQt5.QtGui import QTextBlock, QTextBlockUserData, QTextCharFormat, QTextCursor, QTextDocument
from PyQt5.QtWidgets import QFileDialog, QMenu, QPlainTextEdit, QWidget

from .keyfirst import CtrlWheelZoom

log = logging.getLogger(__name__)

#: Estimated bytes a QTextBlock costs beyond its characters (measured: ~130).
BLOCK_COST = 160
#: Default scrollback: an estimate of the memory the transcript may use.
DEFAULT_SCROLLBACK_BYTES = 128 * 1024 * 1024
#: Trimming stops at this fraction of the limit, so it does not run every frame.
TRIM_TO = 0.9
#: Most blocks removed per trim call (a few ms of work).
TRIM_STEP = 8_000

PROMPT_FLAG = 0x1
FOLD_FLAG = 0x2
#: the block has a cursor in Transcript._marks (set once, so marks are unique)
MARKED_FLAG = 0x4

Spans = Iterable[Tuple[str, QTextCharFormat]]


class FoldData(QTextBlockUserData):
    """The full text of a folded line; ``offset`` is where its head starts in the block."""

    def __init__(self, offset: int, head_len: int, full: Union[str, Callable[[], str]]):
        super().__init__()
        self.offset = offset
        self.head_len = head_len
        self._full = full

    @property
    def full_text(self) -> str:
        return self._full() if callable(self._full) else self._full


@dataclass(eq=False)
class Segment:
    """One contiguous piece of the transcript owned by one thing."""

    kind: str
    area: Optional[str]
    start: QTextCursor
    meta: dict = field(default_factory=dict)
    removed: bool = False


class TranscriptEdit(CtrlWheelZoom, QPlainTextEdit):
    """The widget: read-only, copies without prompts, offers folded lines' full text."""

    zoom_requested = pyqtSignal(int)

    def __init__(self, transcript: "Transcript", parent: Optional[QWidget] = None):
        super().__init__(parent)
        self._transcript = transcript
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.TextSelectableByKeyboard)
        self.setObjectName("transcript")

    def createMimeDataFromSelection(self) -> QMimeData:  # noqa: N802 (Qt override)
        data = QMimeData()
        data.setText(self._transcript.selected_text(raw=False))
        return data

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        self.context_menu(event.pos()).exec_(event.globalPos())

    def context_menu(self, pos: QPoint) -> QMenu:
        """The right-click menu for viewport position ``pos``."""
        menu: QMenu = self.createStandardContextMenu(pos)
        menu.addAction("Copy with prompts", lambda: self._transcript.copy(raw=True))
        fold = self._transcript.fold_at(self.cursorForPosition(pos).block())
        if fold is not None:
            menu.addSeparator()
            menu.addAction(f"Copy full line ({len(fold.full_text):,} characters)",
                           lambda: self._transcript.copy_text(fold.full_text))
            menu.addAction("Save full line as…", lambda: self._transcript.save_text_dialog(fold.full_text))
        for extend in self._transcript.menu_extenders:
            extend(menu, pos)
        return menu


class Transcript:
    """Segments, marks and bounded scrollback over one TranscriptEdit."""

    def __init__(self, scrollback_bytes: int = DEFAULT_SCROLLBACK_BYTES, parent: Optional[QWidget] = None):
        self.view = TranscriptEdit(self, parent)
        self.document: QTextDocument = self.view.document()
        self.document.setUndoRedoEnabled(False)
        self.scrollback_bytes = scrollback_bytes
        self.segments: List[Segment] = []
        self._marks: List[QTextCursor] = []
        self._fold_bytes = 0
        self._folds: List[Tuple[QTextCursor, int]] = []
        self.trimmed_blocks = 0
        #: called with each segment that leaves the document (trimmed, removed, cleared)
        self.removal_listeners: List[Callable[[Segment], None]] = []
        #: add entries to the right-click menu for a viewport position
        self.menu_extenders: List[Callable[[QMenu, QPoint], None]] = []
        #: the text an inline object (U+FFFC) at a position copies as; None keeps the character
        self.object_text: Optional[Callable[[int], Optional[str]]] = None

    # -- positions ------------------------------------------------------------
    def end_position(self) -> int:
        return self.document.characterCount() - 1

    def cursor_at(self, position: int) -> QTextCursor:
        cursor = QTextCursor(self.document)
        cursor.setPosition(position)
        return cursor

    def end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document)
        cursor.movePosition(QTextCursor.End)
        return cursor

    def _anchor(self, position: int) -> QTextCursor:
        """A cursor that stays put when text is inserted at its position."""
        cursor = self.cursor_at(position)
        cursor.setKeepPositionOnInsert(True)
        return cursor

    anchor = _anchor

    def at_block_start(self) -> bool:
        return self.document.lastBlock().length() == 1

    def ensure_block_start(self) -> None:
        if not self.at_block_start():
            self.end_cursor().insertText("\n")

    # -- segments -------------------------------------------------------------
    @property
    def last_segment(self) -> Optional[Segment]:
        return self.segments[-1] if self.segments else None

    def new_segment(self, kind: str, area: Optional[str] = None, *, own_line: bool = True,
                    **meta) -> Segment:
        """Start a segment at the end (on a fresh line unless ``own_line`` is False)."""
        if own_line:
            self.ensure_block_start()
        seg = Segment(kind, area, self._anchor(self.end_position()), meta)
        self.segments.append(seg)
        return seg

    def segment_range(self, seg: Segment) -> Tuple[int, int]:
        index = self.segments.index(seg)
        end = self.segments[index + 1].start.position() if index + 1 < len(self.segments) else self.end_position()
        return seg.start.position(), end

    def segment_text(self, seg: Segment) -> str:
        start, end = self.segment_range(seg)
        return self.text_between(start, end, raw=True)

    def remove_segment(self, seg: Segment) -> None:
        """Delete a segment's text, line ending included (unless it shares its
        first line with what came before: then that line keeps its ending).

        Qt keeps the state of the block *after* a deleted block separator, so
        deleting whole lines [start, next line) leaves both neighbours' marks
        intact.
        """
        if seg.removed:
            return
        start, end = self.segment_range(seg)
        self.forget_marks(start, end)
        at_line_start = self.document.findBlock(start).position() == start
        ends_line = end > start and self._is_separator(end - 1)
        if ends_line and not at_line_start:
            end -= 1
        self._delete(start, end)
        if at_line_start and not ends_line and end > start:
            self._reset_block(start)  # the segment was last: its emptied line stays, unmarked
        self.segments.remove(seg)
        self._removed([seg])

    def empty_segment(self, seg: Segment) -> QTextCursor:
        """Delete a segment's content but keep its line ending; returns a cursor
        where new content for it goes (for redrawing in place)."""
        start, end = self.segment_range(seg)
        self.forget_marks(start, end)
        if end > start and self._is_separator(end - 1):
            end -= 1
        self._delete(start, end)
        self._reset_block(start)
        return self.cursor_at(start)

    def _is_separator(self, position: int) -> bool:
        return self.document.characterAt(position) == "\u2029"

    def _reset_block(self, position: int) -> None:
        """Clear the state of the block starting at ``position`` (its content was removed)."""
        block = self.document.findBlock(position)
        if block.position() == position and block.userState() != -1:
            block.setUserState(-1)
            block.setUserData(None)

    def _delete(self, start: int, end: int) -> None:
        if end > start:
            cursor = self.cursor_at(start)
            cursor.setPosition(end, QTextCursor.KeepAnchor)
            cursor.removeSelectedText()

    def clear(self) -> None:
        self.document.clear()
        gone, self.segments = self.segments, []
        self._removed(gone)
        self._marks.clear()
        self._folds.clear()
        self._fold_bytes = 0

    # -- writing ----------------------------------------------------------------
    @staticmethod
    def insert_spans(cursor: QTextCursor, spans: Spans) -> None:
        for text, fmt in spans:
            if text:
                cursor.insertText(text, fmt)

    def _register(self, block: QTextBlock) -> int:
        """The block's state, with a mark registered for it (once)."""
        state = max(block.userState(), 0)
        if not state & MARKED_FLAG:
            self._marks.append(self._anchor(block.position()))
            state |= MARKED_FLAG
        return state

    def mark_prompt(self, block: QTextBlock, prompt_len: int) -> None:
        state = self._register(block)
        block.setUserState((state & 0xFF) | PROMPT_FLAG | (prompt_len << 8))

    def mark_fold(self, block: QTextBlock, offset: int, head_len: int,
                  full: Union[str, Callable[[], str]], size: int) -> None:
        state = self._register(block)
        block.setUserState(state | FOLD_FLAG)
        block.setUserData(FoldData(offset, head_len, full))
        if size:
            self._folds.append((self._anchor(block.position()), size))
            self._fold_bytes += 2 * size

    def fold_at(self, block: QTextBlock) -> Optional[FoldData]:
        if block.isValid() and max(block.userState(), 0) & FOLD_FLAG:
            return block.userData()
        return None

    # -- scrollback ----------------------------------------------------------------
    def memory_estimate(self) -> int:
        return 2 * self.document.characterCount() + BLOCK_COST * self.document.blockCount() + self._fold_bytes

    def trim(self) -> bool:
        """Drop the oldest blocks while over the limit; True if more remains to drop."""
        used = self.memory_estimate()
        if used <= self.scrollback_bytes:
            return False
        blocks = self.document.blockCount()
        per_block = used / max(1, blocks)
        want = int((used - self.scrollback_bytes * TRIM_TO) / per_block) + 1
        drop = min(want, TRIM_STEP, blocks - 1)
        if drop <= 0:
            return False
        cut = self.document.findBlockByNumber(drop).position()
        self.forget_marks(0, cut)
        kept = []
        for anchor, size in self._folds:
            if anchor.position() < cut:
                self._fold_bytes -= 2 * size
            else:
                kept.append((anchor, size))
        self._folds = kept
        gone = 0
        while gone < len(self.segments):
            nxt = self.segments[gone + 1].start.position() if gone + 1 < len(self.segments) else self.end_position()
            if nxt > cut:
                break
            gone += 1
        self._removed(self.segments[:gone])
        del self.segments[:gone]
        self._delete(0, cut)  # the first kept block keeps its state (see remove_segment)
        self.trimmed_blocks += drop
        return drop < want

    def _removed(self, segments: List[Segment]) -> None:
        for seg in segments:
            seg.removed = True
            for listener in self.removal_listeners:
                listener(seg)

    def forget_marks(self, start: int, end: int) -> None:
        self._marks = [m for m in self._marks if not start <= m.position() < end]

    # -- reading ----------------------------------------------------------------------
    def plain_text(self, raw: bool = False) -> str:
        return self.text_between(0, self.end_position(), raw=raw)

    def selected_text(self, raw: bool = False) -> str:
        cursor = self.view.textCursor()
        return self.text_between(cursor.selectionStart(), cursor.selectionEnd(), raw=raw)

    def text_between(self, start: int, end: int, raw: bool = False) -> str:
        """The text of [start, end) as a user would copy it: prompts stripped
        unless ``raw``, folded lines in full, inline objects as their text."""
        if start >= end:
            return ""
        whole = self.document.toPlainText()
        sub = self._object_substitution(whole, start, end)
        out: List[str] = []
        pos = start
        for mark in sorted(self._marks, key=QTextCursor.position):
            block = mark.block()
            b_start = block.position()
            b_end = b_start + block.length() - 1
            if b_end < start or b_start >= end:
                continue
            s, e = max(start, b_start), min(end, b_end)
            out.append(sub(whole[pos:s], pos))
            out.append(self._block_text(block, whole[b_start:b_end], s - b_start, e - b_start, raw,
                                        lambda text, offset, b=b_start: sub(text, b + offset)))
            pos = e
        out.append(sub(whole[pos:end], pos))
        return "".join(out)

    def _object_substitution(self, whole: str, start: int, end: int) -> Callable[[str, int], str]:
        """A function giving a piece of text (at an absolute offset) with its inline
        objects replaced by their text; the identity when there are none."""
        if self.object_text is None or "\ufffc" not in whole[start:end]:
            return lambda text, offset: text
        lookup = self.object_text

        def sub(text: str, offset: int) -> str:
            if "\ufffc" not in text:
                return text
            parts = []
            for i, c in enumerate(text):
                replacement = lookup(offset + i) if c == "\ufffc" else None
                parts.append(c if replacement is None else replacement)
            return "".join(parts)

        return sub

    @staticmethod
    def _block_text(block: QTextBlock, text: str, s: int, e: int, raw: bool,
                    sub: Callable[[str, int], str] = lambda text, offset: text) -> str:
        state = max(block.userState(), 0)
        if state & PROMPT_FLAG and not raw:
            s = max(s, min(state >> 8, len(text)))
        fold = block.userData() if state & FOLD_FLAG else None
        if isinstance(fold, FoldData) and e > fold.offset + fold.head_len:
            # the selection reaches the marker: the whole rest of the line
            return sub(text[s:fold.offset], s) + fold.full_text[max(0, s - fold.offset):]
        return sub(text[s:e], s)

    # -- clipboard and files ------------------------------------------------------------
    def copy(self, raw: bool = False) -> None:
        self.copy_text(self.selected_text(raw=raw))

    @staticmethod
    def copy_text(text: str) -> None:
        from PyQt5.QtWidgets import QApplication
        QApplication.clipboard().setText(text)

    def save_text_dialog(self, text: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self.view, "Save full line", "output.txt")
        if path:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)

    # -- scrolling -----------------------------------------------------------------------
    def is_scrolled_to_bottom(self) -> bool:
        bar = self.view.verticalScrollBar()
        return bar.value() >= bar.maximum() - 1

    def scroll_to_bottom(self) -> None:
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.maximum())
