"""Help pages: ``obj?``, ``obj??``, ``%pdoc``, ``%psource`` (``page`` payloads).

Where a page goes depends on the paging mode (a setting):

- ``inline``: in the transcript, as coloured text, like any output;
- ``pager``: in the pager, a pane below the transcript (the input stays
  where it is, so typing goes on while reading);
- ``auto`` (default): short pages inline, long ones in the pager.

The pager shows the page's HTML when it has some (headings toned down to
fit a console, backgrounds left to the theme), else its text with its ANSI
colours. In the pager, ``q`` or Esc closes it and Ctrl+F finds (Enter: next
match, Shift+Enter: previous).
"""

from __future__ import annotations

import logging
import re
from typing import Optional

from PyQt5.QtCore import QEvent, QObject, Qt, pyqtSignal
from PyQt5.QtGui import QFont, QKeyEvent, QKeySequence, QTextCursor, QTextDocument
from PyQt5.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from ..config import PAGING_MODES
from .streamtext import StreamDecoder
from .textops import insert_open_line, insert_ops
from .theme import Formats, Theme, apply_palette

log = logging.getLogger(__name__)

DEFAULT_PAGING = "auto"
#: In "auto" mode, pages of at most this many lines (or half the view, if more) go inline.
INLINE_MAX_LINES = 12
_BACKGROUND = re.compile(r"background(?:-color)?\s*:\s*#[0-9a-fA-F]{3,8}\s*;?")


def page_text(data: dict) -> str:
    text = data.get("text/plain", "")
    if isinstance(text, list):
        text = "".join(text)
    return text if isinstance(text, str) else str(text)


def goes_inline(mode: str, data: dict, visible_lines: int) -> bool:
    """Whether a page is shown in the transcript rather than in the pager."""
    if mode not in PAGING_MODES:
        raise ValueError(f"unknown paging mode {mode!r} (choose from {', '.join(PAGING_MODES)})")
    if mode != "auto":
        return mode == "inline"
    if not page_text(data).strip():
        return False  # HTML only: the pager renders it best
    lines = page_text(data).rstrip("\n").count("\n") + 1
    return lines <= max(INLINE_MAX_LINES, visible_lines // 2)


def pager_css(theme: Theme, font: QFont) -> str:
    """IPython's page HTML has a large ``<h1>`` per section: make them headings
    the size of the text, in the prompt colour, as in the terminal; code in
    the console's own monospace font."""
    return (f"body {{ color: {theme.foreground}; }}"
            f"h1 {{ font-size: medium; font-weight: bold; color: {theme.out_prompt}; "
            "margin-top: 10px; margin-bottom: 2px; }"
            f"pre, code, tt {{ font-family: '{font.family()}'; margin-top: 0px; margin-bottom: 4px; }}")


class PagerPane(QFrame):
    """The pager: a read-only browser with a title bar and a find line."""

    closed = pyqtSignal()

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("pager")
        self.setFrameShape(QFrame.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        bar = QWidget(self)
        bar.setObjectName("pager_bar")
        bar_layout = QHBoxLayout(bar)
        bar_layout.setContentsMargins(8, 2, 4, 2)
        self.title = QLabel("Help", bar)
        self.title.setObjectName("pager_title")
        bar_layout.addWidget(self.title, 1)
        self.hint = QLabel("q or Esc: close · Ctrl+F: find", bar)
        self.hint.setObjectName("pager_hint")
        bar_layout.addWidget(self.hint)
        close = QToolButton(bar)
        close.setObjectName("pager_close")
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.close_pager)
        bar_layout.addWidget(close)
        layout.addWidget(bar)
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("pager_browser")
        self.browser.setOpenLinks(False)
        self.browser.setFrameShape(QFrame.NoFrame)
        self.browser.document().setDocumentMargin(8)  # text lines up with the transcript's
        layout.addWidget(self.browser, 1)
        self.find_line = QLineEdit(self)
        self.find_line.setObjectName("pager_find")
        self.find_line.setPlaceholderText("Find in help (Enter: next, Shift+Enter: previous, Esc: done)")
        self.find_line.hide()
        layout.addWidget(self.find_line)
        self.find_line.textEdited.connect(lambda _t: self.find(from_start=True))
        for widget in (self.browser, self.find_line):
            widget.installEventFilter(self)
        self._theme: Optional[Theme] = None
        self._formats: Optional[Formats] = None
        self.has_html = False
        self._page: Optional[tuple] = None
        self.hide()

    # -- content -------------------------------------------------------------------------------
    def set_theme(self, theme: Theme, font: QFont) -> None:
        self._theme = theme
        self._formats = Formats(theme)
        apply_palette(self.browser, theme)
        apply_palette(self.find_line, theme)
        apply_palette(self, theme)
        self.setAutoFillBackground(True)
        self.setStyleSheet(f"#pager_bar {{ background: {theme.gutter}; border-top: 1px solid {theme.selection}; }}"
                           f"#pager_title {{ color: {theme.foreground}; font-weight: bold; }}"
                           f"#pager_hint {{ color: {theme.notice}; }}")
        self.set_font(font)

    def set_font(self, font: QFont) -> None:
        self.browser.setFont(font)
        self.browser.document().setDefaultFont(font)
        if self._theme is not None:
            self.browser.document().setDefaultStyleSheet(pager_css(self._theme, font))
        if self._page is not None and self.isVisible():
            self.show_page(*self._page)  # style sheets apply when HTML is read: read it again

    def show_page(self, data: dict, start: int = 0, title: str = "Help") -> None:
        """Show a page payload's data (HTML if it has some), scrolled to line ``start``."""
        self._page = (data, start, title)
        html = data.get("text/html")
        if isinstance(html, list):
            html = "".join(html)
        self.title.setText(title)
        if isinstance(html, str) and html.strip():
            self.has_html = True
            self.browser.setHtml(_BACKGROUND.sub("", html))
        else:
            self.has_html = False
            self._show_text(page_text(data))
        # Shown first: a browser that appears scrolls its cursor into a view
        # not yet given any height, which would hide the page's first lines.
        self.show()
        self._scroll_to_line(start)

    def _show_text(self, text: str) -> None:
        """Plain text with its ANSI colours, drawn with the transcript's formats."""
        doc = self.browser.document()
        doc.clear()
        cursor = QTextCursor(doc)
        if self._formats is None:
            cursor.insertText(text)
            return
        decoder = StreamDecoder(fold_limit=1 << 62)  # a help page is never folded
        insert_ops(None, cursor, decoder.feed(text), self._formats, "stdout")  # type: ignore[arg-type]
        insert_open_line(None, cursor, decoder, self._formats, "stdout")  # type: ignore[arg-type]

    def _scroll_to_line(self, line: int) -> None:
        block = self.browser.document().findBlockByNumber(max(0, int(line or 0)))
        cursor = QTextCursor(block if block.isValid() else self.browser.document().begin())
        self.browser.setTextCursor(cursor)
        bar = self.browser.verticalScrollBar()
        if not line:
            bar.setValue(0)
        else:
            self.browser.ensureCursorVisible()

    @property
    def text(self) -> str:
        return self.browser.toPlainText()

    # -- closing and finding -----------------------------------------------------------------------
    def close_pager(self) -> None:
        was_open = self.isVisible()
        self.find_line.hide()
        self.hide()
        if was_open:
            self.closed.emit()

    def open_find(self) -> None:
        self.find_line.show()
        self.find_line.setFocus()
        self.find_line.selectAll()

    def has_focus(self) -> bool:
        return self.isVisible() and (self.browser.hasFocus() or self.find_line.hasFocus())

    def find(self, backward: bool = False, from_start: bool = False) -> bool:
        """Select the next match of the find line's text (wrapping around once)."""
        needle = self.find_line.text()
        if not needle:
            return False
        flags = QTextDocument.FindBackward if backward else QTextDocument.FindFlags()
        if from_start:
            cursor = self.browser.textCursor()
            cursor.movePosition(QTextCursor.Start)
            self.browser.setTextCursor(cursor)
        found = self.browser.find(needle, flags)
        if not found:
            cursor = self.browser.textCursor()
            cursor.movePosition(QTextCursor.End if backward else QTextCursor.Start)
            self.browser.setTextCursor(cursor)
            found = self.browser.find(needle, flags)
        self.find_line.setStyleSheet("" if found else "color: #b31d28;")
        return found

    # -- keys ----------------------------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind not in (QEvent.ShortcutOverride, QEvent.KeyPress):
            return False
        handler = self._browser_key if obj is self.browser else self._find_key
        handled = handler(event)
        if handled and kind == QEvent.ShortcutOverride:
            event.accept()  # ours, not the window's (Ctrl+F, Esc)
            return True
        if handled:
            handler(event, act=True)
            return True
        return False

    def _browser_key(self, event: QKeyEvent, act: bool = False) -> bool:
        key, mods = event.key(), event.modifiers() & ~Qt.KeypadModifier
        if event.matches(QKeySequence.Find):
            if act:
                self.open_find()
            return True
        if key == Qt.Key_Escape or (key == Qt.Key_Q and not mods):
            if act:
                self.close_pager()
            return True
        return False

    def _find_key(self, event: QKeyEvent, act: bool = False) -> bool:
        key = event.key()
        if key in (Qt.Key_Return, Qt.Key_Enter):
            if act:
                self.find(backward=bool(event.modifiers() & Qt.ShiftModifier))
            return True
        if key == Qt.Key_Escape:
            if act:
                self.find_line.hide()
                self.browser.setFocus()
            return True
        if event.matches(QKeySequence.Find):
            if act:
                self.find_line.selectAll()
            return True
        return False
