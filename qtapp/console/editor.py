"""The input editor: a multi-line cell with its ``In [n]:`` prompt beside it.

It sits below the transcript, so output arriving while someone types always
lands above and never inside what they are writing. The editor grows with
its content up to a limit. Keys are not interpreted here: every key press is
first offered to ``key_handler`` (the console's command dispatch), and only
unhandled keys get the default editing behaviour.
"""

from __future__ import annotations

from typing import Optional

from PyQt5.QtCore import QEvent, QRect, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QFont, QPainter, QTextCursor
from PyQt5.QtWidgets import QFrame, QPlainTextEdit, QWidget

from .keyfirst import CtrlWheelZoom, KeysFirst
from .writer import continuation_prompt

#: The editor grows up to this many lines, then scrolls.
MAX_VISIBLE_LINES = 16
GUTTER_PADDING = 6


class PromptGutter(QWidget):
    """Paints ``In [n]:`` beside the first line and ``...:`` beside the others."""

    def __init__(self, editor: "InputEditor"):
        super().__init__(editor)
        self._editor = editor
        self.prompt = "In [ ]: "
        self.colour = QColor("#1a7f37")
        self.background = QColor("#ffffff")
        self.left = GUTTER_PADDING  # where the prompt starts
        self.code_margin = 0  # the editor document's own margin

    def width_for(self, prompt: str) -> int:
        # prompt and code line up with the transcript's (its margin is `left`)
        return self.left + self._editor.fontMetrics().horizontalAdvance(prompt) - self.code_margin

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.width_for(self.prompt), 0)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.background)
        ed = self._editor
        font = QFont(ed.font())
        painter.setPen(self.colour)
        block = ed.firstVisibleBlock()
        top = ed.blockBoundingGeometry(block).translated(ed.contentOffset()).top()
        bottom = self.height()
        line_height = ed.fontMetrics().height()
        cont = continuation_prompt(len(self.prompt))
        while block.isValid() and top <= bottom:
            font.setBold(block.blockNumber() == 0)
            painter.setFont(font)
            text = self.prompt if block.blockNumber() == 0 else cont
            painter.drawText(QRect(self.left, int(top), self.width(), line_height),
                             Qt.AlignLeft | Qt.AlignVCenter, text)
            top += ed.blockBoundingRect(block).height()
            block = block.next()


class InputEditor(KeysFirst, CtrlWheelZoom, QPlainTextEdit):
    """A cell editor whose keys go through the console's keymap first."""

    zoom_requested = pyqtSignal(int)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("input_editor")
        self.setFrameShape(QFrame.NoFrame)
        self.setTabChangesFocus(False)
        self.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.gutter = PromptGutter(self)
        self.blockCountChanged.connect(lambda _n: self._fit())
        self.updateRequest.connect(self._on_update_request)
        self.document().documentLayout().documentSizeChanged.connect(lambda _s: self._fit())
        self._update_margins()
        self._fit()

    # -- prompt -------------------------------------------------------------------
    def set_prompt(self, prompt: str, colour: Optional[QColor] = None, background: Optional[QColor] = None) -> None:
        self.gutter.prompt = prompt
        if colour is not None:
            self.gutter.colour = colour
        if background is not None:
            self.gutter.background = background
        self._update_margins()
        self.gutter.update()

    @property
    def prompt(self) -> str:
        return self.gutter.prompt

    def align_with(self, left: int) -> None:
        """Start prompts at ``left`` pixels, like the transcript's text."""
        self.gutter.left = left
        self._update_margins()

    def _update_margins(self) -> None:
        self.gutter.code_margin = int(self.document().documentMargin())
        self.setViewportMargins(self.gutter.width_for(self.gutter.prompt), 0, 0, 0)
        cr = self.contentsRect()
        self.gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter.width_for(self.gutter.prompt), cr.height()))

    def _on_update_request(self, rect, dy) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        cr = self.contentsRect()
        self.gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter.width_for(self.gutter.prompt), cr.height()))
        self._fit()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            self._update_margins()
            self._fit()

    # -- size ----------------------------------------------------------------------
    def _fit(self) -> None:
        """Grow with the content, between one line and MAX_VISIBLE_LINES."""
        lines = max(1, min(MAX_VISIBLE_LINES, int(self.document().size().height())))
        margins = self.contentsMargins()
        doc_margin = self.document().documentMargin()
        height = int(lines * self.fontMetrics().lineSpacing() + 2 * doc_margin + margins.top() + margins.bottom()) + 2
        if self.height() != height or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(super().sizeHint().width(), self.height())

    # -- text helpers ------------------------------------------------------------------
    @property
    def source(self) -> str:
        return self.toPlainText()

    def set_source(self, text: str, cursor_at: str = "end") -> None:
        """Replace the cell (one undo step); put the cursor at 'end' or the end of 'first' line."""
        cursor = self.textCursor()
        cursor.beginEditBlock()
        cursor.select(QTextCursor.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        if cursor_at == "first":
            cursor.movePosition(QTextCursor.Start)
            cursor.movePosition(QTextCursor.EndOfBlock)
        else:
            cursor.movePosition(QTextCursor.End)
        self.setTextCursor(cursor)

    def cursor_on_first_line(self) -> bool:
        return self.textCursor().blockNumber() == 0

    def cursor_on_last_line(self) -> bool:
        return self.textCursor().blockNumber() == self.document().blockCount() - 1

    def text_before_cursor(self) -> str:
        cursor = self.textCursor()
        return self.toPlainText()[:cursor.position()]

