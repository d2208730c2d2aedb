"""Editing commands of the input editor: indentation, emacs line keys,
history browsing, reverse search and the completion list.

Each public method is a console command (see :mod:`qtapp.console.keymap`)
taking the widget the key was pressed in and returning True when it handled
the key (False lets the widget's default behaviour run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtGui import QKeyEvent, QTextCursor

from .completion import CompletionPopup, codepoint_offset, common_prefix, utf16_offset
from .editor import InputEditor
from .history import History

if TYPE_CHECKING:
    from .bars import ReverseSearchBar
    from .controller import ConsoleController

INDENT_WIDTH = 4
_WORD_BREAKS = set(" \t\n()[]{},;:=+-*/%<>!&|^~\"'")


class InputActions:
    def __init__(self, editor: InputEditor, history: History, popup: CompletionPopup,
                 search_bar: "ReverseSearchBar", controller: "ConsoleController"):
        self.editor = editor
        self.history = history
        self.popup = popup
        self.search_bar = search_bar
        self.controller = controller
        self.kill_ring: List[str] = []
        self._search_saved: Optional[str] = None
        self._search_index: Optional[int] = None
        editor.cursorPositionChanged.connect(self._follow_popup)
        editor.textChanged.connect(self._follow_popup)
        search_bar.changed.connect(lambda needle: self._search(needle, older=False))

    # -- indentation -------------------------------------------------------------------
    def complete_or_indent(self, source=None) -> bool:
        ed = self.editor
        cursor = ed.textCursor()
        if cursor.hasSelection() and "\u2029" in cursor.selectedText():
            self._shift_lines(+1)
            return True
        line_head = cursor.block().text()[:cursor.positionInBlock()]
        if not line_head.strip():
            spaces = INDENT_WIDTH - len(line_head.expandtabs(INDENT_WIDTH)) % INDENT_WIDTH
            cursor.insertText(" " * spaces)
            return True
        text = ed.source
        self.controller.request_completion(text, codepoint_offset(text, cursor.position()))
        return True

    def dedent(self, source=None) -> bool:
        self._shift_lines(-1)
        return True

    def _shift_lines(self, direction: int) -> None:
        ed = self.editor
        cursor = ed.textCursor()
        doc = ed.document()
        first = doc.findBlock(cursor.selectionStart())
        last = doc.findBlock(cursor.selectionEnd())
        edit = QTextCursor(doc)
        edit.beginEditBlock()
        block = first
        while block.isValid():
            text = block.text()
            edit.setPosition(block.position())
            if direction > 0:
                edit.insertText(" " * INDENT_WIDTH)
            else:
                strip = len(text) - len(text.lstrip(" "))
                strip = min(strip, INDENT_WIDTH) or (1 if text.startswith("\t") else 0)
                edit.setPosition(block.position() + strip, QTextCursor.KeepAnchor)
                edit.removeSelectedText()
            if block == last:
                break
            block = block.next()
        edit.endEditBlock()

    def newline(self, indent: Optional[str] = None) -> None:
        """A new line with ``indent`` (default: the current line's indentation)."""
        cursor = self.editor.textCursor()
        if indent is None:
            line = cursor.block().text()
            indent = line[:len(line) - len(line.lstrip(" \t"))]
        cursor.insertText("\n" + indent)
        self.editor.setTextCursor(cursor)
        self.editor.ensureCursorVisible()

    def force_newline(self, source=None) -> bool:
        self.newline()
        return True

    # -- emacs keys --------------------------------------------------------------------------
    def line_start(self, source=None) -> bool:
        self._move(QTextCursor.StartOfBlock)
        return True

    def line_end(self, source=None) -> bool:
        self._move(QTextCursor.EndOfBlock)
        return True

    def _move(self, op: int) -> None:
        cursor = self.editor.textCursor()
        cursor.movePosition(op)
        self.editor.setTextCursor(cursor)

    def kill_line(self, source=None) -> bool:
        cursor = self.editor.textCursor()
        cursor.clearSelection()
        cursor.movePosition(QTextCursor.EndOfBlock, QTextCursor.KeepAnchor)
        if not cursor.hasSelection():  # at the end of a line: join the next one
            cursor.movePosition(QTextCursor.NextCharacter, QTextCursor.KeepAnchor)
        self._kill(cursor)
        return True

    def kill_line_backward(self, source=None) -> bool:
        cursor = self.editor.textCursor()
        cursor.clearSelection()
        cursor.movePosition(QTextCursor.StartOfBlock, QTextCursor.KeepAnchor)
        self._kill(cursor)
        return True

    def _kill(self, cursor: QTextCursor) -> None:
        text = cursor.selectedText().replace("\u2029", "\n")
        if text:
            self.kill_ring = (self.kill_ring + [text])[-20:]
            cursor.removeSelectedText()
            self.editor.setTextCursor(cursor)

    def yank(self, source=None) -> bool:
        if self.kill_ring:
            self.editor.textCursor().insertText(self.kill_ring[-1])
        return True

    # -- history -------------------------------------------------------------------------------
    def history_previous(self, source=None) -> bool:
        ed = self.editor
        if not ed.cursor_on_first_line():
            return False
        entry = self.history.previous(ed.source, ed.text_before_cursor())
        if entry is not None:
            ed.set_source(entry, cursor_at="first")
        return True

    def history_next(self, source=None) -> bool:
        ed = self.editor
        if not ed.cursor_on_last_line():
            return False
        entry = self.history.next(ed.source)
        if entry is not None:
            ed.set_source(entry, cursor_at="end")
        return True

    # -- reverse incremental search --------------------------------------------------------------
    def reverse_search(self, source=None) -> bool:
        bar = self.search_bar
        if not bar.isVisible():
            self._search_saved = self.editor.source
            self._search_index = None
            bar.line.clear()
            bar.set_found(True)
            bar.show()
            bar.line.setFocus()
            return True
        self._search(bar.line.text(), older=True)
        return True

    def _search(self, needle: str, older: bool) -> None:
        if not needle:
            self._search_index = None
            return
        before = self._search_index if older else None
        found = self.history.search(needle, before)
        if found is None and not older:
            found = None
        self.search_bar.set_found(found is not None)
        if found is not None:
            self._search_index, text = found
            self.editor.set_source(text)

    def accept_search(self) -> None:
        self.search_bar.hide()
        self._search_saved = None
        self.editor.setFocus()

    def cancel_search(self) -> None:
        if self._search_saved is not None:
            self.editor.set_source(self._search_saved)
        self._search_saved = None
        self.search_bar.hide()
        self.editor.setFocus()

    def search_keys(self, event: QKeyEvent, command: Optional[str]) -> bool:
        """Keys typed in the search bar."""
        if command == "reverse_search":
            return self.reverse_search()
        if command == "cancel" or (event.key() == Qt.Key_G and event.modifiers() & Qt.ControlModifier):
            self.cancel_search()
            return True
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self.accept_search()
            return True
        return False

    # -- completion list ------------------------------------------------------------------------------
    def show_completions(self, matches: List[str], start: int, end: int) -> None:
        """Apply a complete_reply (positions in code points)."""
        ed = self.editor
        if not matches:
            self.popup.hide()
            return
        text = ed.source
        start16, end16 = utf16_offset(text, start), utf16_offset(text, end)
        prefix = common_prefix(matches)
        current = text[start:end]
        cursor = ed.textCursor()
        if len(matches) == 1 or len(prefix) > len(current):
            cursor.setPosition(start16)
            cursor.setPosition(end16, QTextCursor.KeepAnchor)
            cursor.insertText(matches[0] if len(matches) == 1 else prefix)
            ed.setTextCursor(cursor)
        if len(matches) == 1:
            self.popup.hide()
            return
        rect = ed.cursorRect()
        anchor = ed.viewport().mapTo(self.popup.parentWidget(), QPoint(rect.left(), rect.top()))
        self.popup.show_matches(matches, start16, anchor, self._typed_since(start16) or "")

    def popup_keys(self, event: QKeyEvent) -> bool:
        """Keys while the completion list is open; False lets the editor type."""
        key = event.key()
        moves = {Qt.Key_Up: -1, Qt.Key_Down: 1, Qt.Key_PageUp: -10, Qt.Key_PageDown: 10}
        if key in moves:
            self.popup.move_selection(moves[key])
            return True
        if key in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Tab):
            self.accept_completion()
            return True
        if key == Qt.Key_Escape:
            self.popup.hide()
            return True
        return False

    def accept_completion(self) -> None:
        choice = self.popup.current()
        self.popup.hide()
        if choice is None:
            return
        cursor = self.editor.textCursor()
        cursor.setPosition(self.popup.start)
        cursor.setPosition(self.editor.textCursor().position(), QTextCursor.KeepAnchor)
        cursor.insertText(choice)
        self.editor.setTextCursor(cursor)

    def _follow_popup(self) -> None:
        if not self.popup.isVisible():
            return
        typed = self._typed_since(self.popup.start)
        if typed is None or any(c in _WORD_BREAKS and c not in "." for c in typed):
            self.popup.hide()
            return
        self.popup.narrow(typed)

    def _typed_since(self, start16: int) -> Optional[str]:
        """Text between Qt position ``start16`` and the cursor (None if the cursor is before it)."""
        pos = self.editor.textCursor().position()
        if pos < start16:
            return None
        text = self.editor.toPlainText()
        return text[codepoint_offset(text, start16):codepoint_offset(text, pos)]
