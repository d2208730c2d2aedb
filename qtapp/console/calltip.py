"""Call tips: the signature and the start of the docstring of the function
being called, shown while its arguments are typed.

Typing ``(`` after a name sends an ``inspect_request`` (detail level 0, the
kernel's short form); the reply is shown in a small panel above the line,
kept inside the console and on screen. The tip goes away when the ``)``
that closes the call is typed, on Esc, when the cursor leaves the call
(moving before its ``(``), or when the editor loses focus. The
``show_calltip`` command asks for the tip of the call around the cursor at
any time.

A reply is used only if the cell and the cursor are still exactly as they
were when it was asked for: a reply that arrives after more typing is stale.
"""

from __future__ import annotations

import html
import logging
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional, Tuple

from PyQt5.QtCore import QEvent, QObject, QRect, Qt
from PyQt5.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QTextCursor
from PyQt5.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from .completion import codepoint_offset

if TYPE_CHECKING:
    from .controller import ConsoleController
    from .editor import InputEditor

log = logging.getLogger(__name__)

#: Docstring lines shown under the signature.
MAX_DOC_LINES = 12
#: The widest a tip gets, in characters of the console font.
MAX_TIP_COLUMNS = 88
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_IDENTIFIER_BEFORE = re.compile(r"[A-Za-z_][\w.]*\s*$")
#: Section headings of IPython's inspect text (``Signature:``, ``Docstring:``...).
SIGNATURE_HEADINGS = ("Signature", "Init signature", "Call signature", "Class signature")
DOC_HEADINGS = ("Docstring", "Init docstring", "Class docstring", "Call docstring")
_HEADING = re.compile(r"^([A-Z][A-Za-z ]{1,20}):(?:\s(.*))?$")


@dataclass
class CallTip:
    signature: str
    doc: str
    truncated: bool = False

    @property
    def empty(self) -> bool:
        return not (self.signature or self.doc)


def parse_inspect_text(text: str, max_doc_lines: int = MAX_DOC_LINES) -> CallTip:
    """Signature and docstring from the kernel's inspect text (IPython's layout:
    ``Heading:`` lines with their value beside or below; other kernels' plain
    text is taken as the docstring)."""
    text = _ANSI.sub("", text)
    sections: dict = {}
    current: Optional[str] = None
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m and m.group(1) in SIGNATURE_HEADINGS + DOC_HEADINGS + (
                "Type", "String form", "File", "Source", "Namespace", "Length", "Subclasses", "Call def",
                "Definition", "Base Class", "Init definition", "Docstring [default]"):
            current = m.group(1)
            sections[current] = [m.group(2).strip()] if m.group(2) and m.group(2).strip() else []
        elif current is not None:
            sections[current].append(line)
    if not sections:
        sections = {"Docstring": text.splitlines()}
    signature = next((" ".join(sections[h]).strip() for h in SIGNATURE_HEADINGS if sections.get(h)), "")
    doc_lines = next((sections[h] for h in DOC_HEADINGS if sections.get(h)), [])
    doc = textwrap.dedent("\n".join(doc_lines)).strip("\n")
    if doc.strip() == "<no docstring>":
        doc = ""
    lines = doc.splitlines()
    truncated = len(lines) > max_doc_lines
    if truncated:
        lines = lines[:max_doc_lines]
        while lines and not lines[-1].strip():
            lines.pop()
    return CallTip(signature, "\n".join(lines), truncated)


def open_call_paren(text: str) -> Optional[int]:
    """Index of the ``(`` of the innermost call still open at the end of
    ``text`` (brackets inside strings and comments are skipped), or None."""
    parens = open_parens(text)
    return parens[-1] if parens else None


def open_parens(text: str) -> List[int]:
    """Indexes of the ``(`` still open at the end of ``text``, outermost first
    (empty inside an unfinished string or a comment)."""
    stack: List[Tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else c
            end = text.find(quote, i + len(quote))
            while end != -1 and len(quote) == 1 and _escaped(text, end):
                end = text.find(quote, end + 1)
            if end == -1:
                return []  # inside an unfinished string
            i = end + len(quote)
            continue
        if c == "#":
            newline = text.find("\n", i)
            if newline == -1:
                return []
            i = newline
        elif c in "([{":
            stack.append((c, i))
        elif c in ")]}" and stack:
            stack.pop()
        i += 1
    return [index for c, index in stack if c == "("]


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index > 0 and text[index - 1] == "\\":
        backslashes += 1
        index -= 1
    return backslashes % 2 == 1


class CallTipWidget(QFrame):
    """The panel: the signature in bold, then the docstring, in the console font."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("calltip")
        self.setFocusPolicy(Qt.NoFocus)
        self.setFrameShape(QFrame.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 5, 8, 5)
        self.label = QLabel(self)
        self.label.setObjectName("calltip_text")
        self.label.setTextFormat(Qt.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.NoTextInteraction)
        layout.addWidget(self.label)
        self.tip: Optional[CallTip] = None
        self.text = ""
        self.hide()

    def set_colours(self, background: QColor, foreground: QColor, border: QColor) -> None:
        self.setStyleSheet(f"#calltip {{ background: {background.name()}; border: 1px solid {border.name()}; "
                           f"border-radius: 4px; }} #calltip_text {{ color: {foreground.name()}; }}")

    def set_tip(self, tip: CallTip) -> None:
        self.tip = tip
        #: what the tip shows, as plain text
        self.text = "\n\n".join(p for p in (tip.signature, tip.doc + (" …" if tip.truncated else "")) if p.strip())
        parts = []
        if tip.signature:
            parts.append(f"<b>{html.escape(tip.signature)}</b>")
        if tip.doc:
            parts.append(html.escape(tip.doc) + (" …" if tip.truncated else ""))
        body = "<br><br>".join(p.replace("\n", "<br>") for p in parts)
        self.label.setText(f"<div style='white-space:pre-wrap'>{body}</div>")

    def place(self, anchor: QRect, bounds: QRect) -> None:
        """Above ``anchor`` (the call's ``(`` on the line being typed) if it fits,
        else below; as wide as its longest line allows; within ``bounds``."""
        plain, bold = self.label.fontMetrics(), QFont(self.label.font())
        bold.setBold(True)
        lines = self.text.splitlines() or [""]
        longest = max([QFontMetrics(bold).horizontalAdvance(lines[0])]
                      + [plain.horizontalAdvance(line) for line in lines[1:]])
        limit = min(bounds.width() - 24, plain.horizontalAdvance("m") * MAX_TIP_COLUMNS)
        self.label.setFixedWidth(max(60, min(longest + 4, limit)))
        self.adjustSize()
        w, h = self.width(), self.height()
        room_above = anchor.top() - bounds.top()
        room_below = bounds.bottom() - anchor.bottom()
        if h <= room_above - 2 or room_above >= room_below:
            y = max(bounds.top(), anchor.top() - h - 2)
        else:
            y = min(anchor.bottom() + 2, bounds.bottom() - h)
        x = max(bounds.left() + 2, min(anchor.left() - 8, bounds.right() - w - 2))
        self.move(x, y)


class CallTips(QObject):
    """When to ask for a tip, which replies to use, when to hide it."""

    def __init__(self, editor: "InputEditor", controller: "ConsoleController", host: QWidget):
        super().__init__(host)
        self.editor = editor
        self.controller = controller
        self.host = host
        self.widget = CallTipWidget(host)
        self._pending: Optional[Tuple[str, str, int]] = None  # msg_id, cell, cursor (Qt position)
        self._paren: Optional[QTextCursor] = None  # just before the call's "(" (moves with edits)
        self._last_text = editor.toPlainText()
        controller.shell_handlers["inspect_reply"] = self._on_reply
        editor.textChanged.connect(self._on_text_changed)
        editor.cursorPositionChanged.connect(self._follow_cursor)
        editor.installEventFilter(self)

    @property
    def visible(self) -> bool:
        return self.widget.isVisible()

    # -- asking ----------------------------------------------------------------------------
    def _on_text_changed(self) -> None:
        text = self.editor.toPlainText()
        before, self._last_text = self._last_text, text
        pos = self.editor.textCursor().position()
        typed_paren = (len(text) == len(before) + 1 and pos >= 1 and text[pos - 1] == "("
                       and text[:pos - 1] + text[pos:] == before)
        if typed_paren and _IDENTIFIER_BEFORE.search(text[:pos - 1]) and open_call_paren(text[:pos]) == pos - 1:
            self.request(pos - 1)
        else:
            self._follow_cursor()

    def show_now(self) -> bool:
        """The ``show_calltip`` command: the tip for the call around the cursor."""
        pos = self.editor.textCursor().position()
        paren = open_call_paren(self.editor.toPlainText()[:pos])
        self.request(paren if paren is not None else None)
        return True

    def request(self, paren: Optional[int]) -> None:
        """Ask the kernel about the call whose ``(`` is at Qt position ``paren``
        (None: the name at the cursor)."""
        text = self.editor.toPlainText()
        pos = self.editor.textCursor().position()
        msg_id = self.controller.request("inspect", text, codepoint_offset(text, pos), 0)
        if msg_id is None:
            return
        self._pending = (msg_id, text, pos)
        if paren is not None:
            anchor = QTextCursor(self.editor.document())
            anchor.setPosition(paren)
            self._paren = anchor
        else:
            self._paren = None

    def _on_reply(self, msg: dict) -> None:
        pending = self._pending
        if pending is None or msg.get("parent_header", {}).get("msg_id") != pending[0]:
            return
        self._pending = None
        if self.editor.toPlainText() != pending[1] or self.editor.textCursor().position() != pending[2]:
            log.debug("ignoring a stale inspect_reply")
            return
        content = msg.get("content", {})
        data = content.get("data") or {}
        text = data.get("text/plain") if isinstance(data, dict) else None
        if content.get("status") != "ok" or not content.get("found") or not isinstance(text, str):
            return
        tip = parse_inspect_text(text)
        if tip.empty:
            return
        self.show_tip(tip)

    # -- showing ------------------------------------------------------------------------------
    def show_tip(self, tip: CallTip) -> None:
        self.widget.set_tip(tip)
        self.widget.label.setFont(QFont(self.editor.font()))
        cursor_rect = self.editor.cursorRect()
        if self._paren is not None:
            at_paren = QTextCursor(self._paren)
            cursor_rect = self.editor.cursorRect(at_paren)
        top_left = self.editor.viewport().mapTo(self.host, cursor_rect.topLeft())
        anchor = QRect(top_left, cursor_rect.size())
        self.widget.place(anchor, self._bounds())
        self.widget.show()
        self.widget.raise_()

    def _bounds(self) -> QRect:
        """Where the tip may go: the console, and of that only what is on screen."""
        bounds = self.host.rect()
        screen = self.host.screen() if hasattr(self.host, "screen") else QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            on_screen = QRect(self.host.mapFromGlobal(area.topLeft()), area.size())
            clipped = bounds.intersected(on_screen)
            if clipped.width() > 100 and clipped.height() > 40:
                bounds = clipped
        return bounds

    def hide(self) -> bool:
        """Hide the tip; True if it was shown (so Esc did something)."""
        shown = self.widget.isVisible()
        self.widget.hide()
        self._pending = None
        self._paren = None
        return shown

    def _follow_cursor(self) -> None:
        """Hide once the cursor has left the call: before its ``(``, or after the ``)`` closing it."""
        if not self.widget.isVisible() and self._pending is None:
            return
        if self._paren is None:
            if self.widget.isVisible() and self._pending is None:
                self.hide()  # an on-demand tip for a name: any move ends it
            return
        text = self.editor.toPlainText()
        paren = self._paren.position()
        pos = self.editor.textCursor().position()
        if paren >= len(text) or text[paren] != "(" or pos <= paren or paren not in open_parens(text[:pos]):
            self.hide()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.editor and event.type() == QEvent.FocusOut and self.widget.isVisible():
            reason = event.reason()
            if reason not in (Qt.PopupFocusReason, Qt.ActiveWindowFocusReason):
                self.hide()
        return False
