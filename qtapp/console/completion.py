"""Tab completion: the popup list and the text logic around it.

The kernel answers a ``complete_request`` with matches for the range
``[cursor_start, cursor_end)``; positions count Unicode code points, while
Qt counts UTF-16 units, so they are converted at this boundary. The common
prefix of all matches is inserted at once; if several remain, a list appears
above the cursor and narrows as the user keeps typing.
"""

from __future__ import annotations

import os
from typing import List, Optional

from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtWidgets import QAbstractItemView, QListWidget, QWidget

MAX_VISIBLE_ITEMS = 12


def utf16_offset(text: str, codepoints: int) -> int:
    """Qt position of code point offset ``codepoints`` in ``text``."""
    head = text[:codepoints]
    return len(head) + sum(1 for c in head if ord(c) > 0xFFFF)


def codepoint_offset(text: str, utf16: int) -> int:
    """Code point offset of Qt position ``utf16`` in ``text``."""
    units = 0
    for i, c in enumerate(text):
        if units >= utf16:
            return i
        units += 2 if ord(c) > 0xFFFF else 1
    return len(text)


def common_prefix(matches: List[str]) -> str:
    return os.path.commonprefix(matches) if matches else ""


class CompletionPopup(QListWidget):
    """The list of matches; the editor keeps the keyboard focus."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("completion_popup")
        self.setFocusPolicy(Qt.NoFocus)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setUniformItemSizes(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.matches: List[str] = []
        self.start = 0  # where the replaced text starts in the editor (Qt position)
        self.hide()

    def show_matches(self, matches: List[str], start: int, anchor: QPoint, typed: str) -> None:
        """Show ``matches`` with its bottom-left corner at ``anchor`` (parent coords)."""
        self.matches = matches
        self.start = start
        self._anchor = anchor
        self.narrow(typed)

    def narrow(self, typed: str) -> bool:
        """Keep the matches that start with ``typed``; False (and hidden) if none do."""
        shown = [m for m in self.matches if m.startswith(typed)] or \
                [m for m in self.matches if m.lower().startswith(typed.lower())]
        if not shown:
            self.hide()
            return False
        self.clear()
        self.addItems(shown)
        self.setCurrentRow(0)
        self._place(len(shown))
        self.show()
        self.raise_()
        return True

    def _place(self, count: int) -> None:
        fm = self.fontMetrics()
        rows = min(count, MAX_VISIBLE_ITEMS)
        width = min(max(fm.horizontalAdvance(m) for m in self.matches[:500]) + 40, 600)
        height = rows * self.sizeHintForRow(0) + 2 * self.frameWidth() + 2
        parent = self.parentWidget()
        x = max(0, min(self._anchor.x(), parent.width() - width))
        y = max(0, self._anchor.y() - height)
        self.setGeometry(x, y, width, height)

    def move_selection(self, delta: int) -> None:
        if self.count():
            self.setCurrentRow(max(0, min(self.count() - 1, self.currentRow() + delta)))

    def current(self) -> Optional[str]:
        item = self.currentItem()
        return item.text() if item is not None else None
