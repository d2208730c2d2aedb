"""Small bars around the input editor: input() prompts, history search,
find in the transcript, kernel notices, and cells waiting to run."""

from __future__ import annotations

from typing import Callable, List, Optional, Tuple

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QKeyEvent, QTextDocument
from PyQt5.QtWidgets import (QFrame, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QToolButton,
                             QWidget)

from .keyfirst import KeysFirst


class KeyLineEdit(KeysFirst, QLineEdit):
    """A line edit that offers its keys to a handler first (like the editor)."""


def _bar(parent: Optional[QWidget], name: str) -> Tuple[QFrame, QHBoxLayout]:
    frame = QFrame(parent)
    frame.setObjectName(name)
    layout = QHBoxLayout(frame)
    layout.setContentsMargins(6, 3, 6, 3)
    layout.setSpacing(6)
    return frame, layout


class StdinBar(QFrame):
    """The line the user types an ``input()`` answer into; masked for passwords."""

    submitted = pyqtSignal(str)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("stdin_bar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 6, 2)
        self.prompt_label = QLabel(self)
        self.prompt_label.setObjectName("stdin_prompt")
        self.line = KeyLineEdit(self)
        self.line.setObjectName("stdin_line")
        self.line.setFrame(False)
        layout.addWidget(self.prompt_label)
        layout.addWidget(self.line, 1)
        self.password = False
        self.line.returnPressed.connect(self._submit)
        self.hide()

    def ask(self, prompt: str, password: bool) -> None:
        self.password = password
        self.prompt_label.setText(prompt.replace("\n", " ").strip() or "input:")
        self.line.clear()
        self.line.setEchoMode(QLineEdit.Password if password else QLineEdit.Normal)
        self.show()
        self.line.setFocus()

    def _submit(self) -> None:
        value = self.line.text()
        self.line.clear()
        self.submitted.emit(value)


class ReverseSearchBar(QFrame):
    """``reverse-i-search``: the newest history entry containing the typed text."""

    changed = pyqtSignal(str)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("reverse_search_bar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        self.label = QLabel("reverse-i-search:", self)
        self.line = KeyLineEdit(self)
        self.line.setObjectName("reverse_search_line")
        self.status = QLabel(self)
        layout.addWidget(self.label)
        layout.addWidget(self.line, 1)
        layout.addWidget(self.status)
        self.line.textEdited.connect(self.changed)
        self.hide()

    def set_found(self, found: bool) -> None:
        self.label.setText("reverse-i-search:" if found else "failing reverse-i-search:")


class FindBar(QFrame):
    """Find in the transcript (Enter: next older match, Shift+Enter: newer)."""

    closed = pyqtSignal()

    def __init__(self, view: QPlainTextEdit, parent: Optional[QWidget] = None,
                 before_search: Optional[Callable[[], None]] = None):
        super().__init__(parent)
        self.setObjectName("find_bar")
        self._view = view
        self._before_search = before_search  # brings the view up to date first
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(QLabel("Find:", self))
        self.line = KeyLineEdit(self)
        self.line.setObjectName("find_line")
        self.line.key_handler = self._keys
        layout.addWidget(self.line, 1)
        self.status = QLabel(self)
        layout.addWidget(self.status)
        for text, backward in (("▲", True), ("▼", False)):
            button = QToolButton(self)
            button.setText(text)
            button.clicked.connect(lambda _c=False, b=backward: self.find(backward=b))
            layout.addWidget(button)
        close = QToolButton(self)
        close.setText("✕")
        close.clicked.connect(self.close_bar)
        layout.addWidget(close)
        self.line.textEdited.connect(lambda _t: self.find(backward=True, from_end=True))
        self.hide()

    def open(self) -> None:
        self.show()
        self.line.setFocus()
        self.line.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self.closed.emit()

    def _keys(self, event: QKeyEvent) -> bool:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self.find(backward=not event.modifiers() & Qt.ShiftModifier)
            return True
        if event.key() == Qt.Key_Escape:
            self.close_bar()
            return True
        return False

    def find(self, backward: bool = True, from_end: bool = False) -> bool:
        """Select the next match; searching starts over at the other end once."""
        text = self.line.text()
        if not text:
            self.status.setText("")
            return False
        if self._before_search is not None:
            self._before_search()
        flags = QTextDocument.FindBackward if backward else QTextDocument.FindFlags()
        view = self._view
        if from_end:
            cursor = view.textCursor()
            cursor.movePosition(cursor.End)
            view.setTextCursor(cursor)
        found = view.find(text, flags)
        if not found:
            cursor = view.textCursor()
            cursor.movePosition(cursor.End if backward else cursor.Start)
            view.setTextCursor(cursor)
            found = view.find(text, flags)
        self.status.setText("" if found else "not found")
        return found


class NoticeBar(QFrame):
    """A message about the kernel with buttons (restart...), above the input."""

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("notice_bar")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel(self)
        self.label.setObjectName("notice_text")
        self.label.setWordWrap(True)
        self._layout.addWidget(self.label, 1)
        self.buttons: List[QPushButton] = []
        self.hide()

    def show_notice(self, text: str, actions: Optional[List[Tuple[str, Callable[[], None]]]] = None) -> None:
        self.label.setText(text)
        for button in self.buttons:
            button.deleteLater()
        self.buttons = []
        for label, callback in actions or ():
            button = QPushButton(label, self)
            button.setObjectName("notice_" + label.lower().replace(" ", "_"))
            button.clicked.connect(lambda _c=False, cb=callback: cb())
            self._layout.addWidget(button)
            self.buttons.append(button)
        self.show()

    def clear(self) -> None:
        self.hide()
        self.label.clear()
        for button in self.buttons:
            button.deleteLater()
        self.buttons = []


class QueuedCells(QLabel):
    """Cells sent while the kernel was busy, shown until they start running."""

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("queued_cells")
        self.setTextFormat(Qt.PlainText)
        self.setContentsMargins(8, 2, 8, 2)
        self._cells: List[Tuple[str, str]] = []
        self.hide()

    def add(self, msg_id: str, code: str) -> None:
        self._cells.append((msg_id, code))
        self._refresh()

    def remove(self, msg_id: str) -> None:
        self._cells = [c for c in self._cells if c[0] != msg_id]
        self._refresh()

    def clear_all(self) -> None:
        self._cells = []
        self._refresh()

    def __len__(self) -> int:
        return len(self._cells)

    def _refresh(self) -> None:
        if not self._cells:
            self.hide()
            return
        lines = []
        for _, code in self._cells[-5:]:
            first = code.strip().split("\n", 1)[0]
            more = " …" if "\n" in code.strip() else ""
            lines.append(f"In [*]: {first[:120]}{more}")
        if len(self._cells) > 5:
            lines.insert(0, f"(+{len(self._cells) - 5} more waiting)")
        self.setText("\n".join(lines))
        self.show()
