"""Named console commands and the keys bound to them.

Every key the console handles itself is looked up here by name, so a
configuration file can rebind any of them (``Keymap.bind``). The defaults
follow what qtconsole and readline users expect. A command added to
``DEFAULT_BINDINGS`` (with a line in ``DESCRIPTIONS``) is at once rebindable
from the config file's ``[keys]`` table and listed in Help > Keyboard
shortcuts (see :mod:`qtapp.shortcuts`).
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeyEvent, QKeySequence

#: command name -> default key sequences (QKeySequence portable text)
DEFAULT_BINDINGS: Dict[str, List[str]] = {
    "run_or_newline": ["Return", "Enter"],
    "force_run": ["Shift+Return", "Shift+Enter"],
    "force_newline": ["Ctrl+Return", "Ctrl+Enter"],
    "complete_or_indent": ["Tab"],
    "dedent": ["Shift+Tab"],
    "history_previous": ["Up"],
    "history_next": ["Down"],
    "reverse_search": ["Ctrl+R"],
    "line_start": ["Ctrl+A"],
    "line_end": ["Ctrl+E"],
    "kill_line": ["Ctrl+K"],
    "kill_line_backward": ["Ctrl+U"],
    "yank": ["Ctrl+Y"],
    "interrupt_or_copy": ["Ctrl+C"],
    "restart_kernel": ["Ctrl+."],
    "send_eof": ["Ctrl+D"],
    "clear_transcript": ["Ctrl+L"],
    "cancel": ["Escape"],
    "show_calltip": ["Ctrl+Space", "Ctrl+Shift+Space"],
}

DESCRIPTIONS: Dict[str, str] = {
    "run_or_newline": "Run the cell if it is complete, else start a new line",
    "force_run": "Run the cell as it is",
    "force_newline": "Insert a new line without running",
    "complete_or_indent": "Complete the name at the cursor, or indent",
    "dedent": "Remove one level of indentation",
    "history_previous": "Previous history entry starting with the typed text",
    "history_next": "Next history entry starting with the typed text",
    "reverse_search": "Search history backwards",
    "line_start": "Move to the start of the line",
    "line_end": "Move to the end of the line",
    "kill_line": "Cut to the end of the line",
    "kill_line_backward": "Cut to the start of the line",
    "yank": "Paste the last cut text",
    "interrupt_or_copy": "Interrupt the kernel while it runs; copy the selection otherwise",
    "restart_kernel": "Restart the kernel",
    "send_eof": "At an input() prompt: end of input",
    "clear_transcript": "Clear the transcript",
    "cancel": "Close the find bar, the call tip or the pager",
    "show_calltip": "Show the signature and documentation of the call at the cursor",
}


def event_sequence(event: QKeyEvent) -> QKeySequence:
    """The key sequence of a key press, modifiers included."""
    key = event.key()
    mods = int(event.modifiers()) & int(Qt.ShiftModifier | Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier)
    if key == Qt.Key_Backtab:  # Shift+Tab arrives as Backtab (with Shift)
        key = Qt.Key_Tab
        mods |= int(Qt.ShiftModifier)
    if key in (Qt.Key_Shift, Qt.Key_Control, Qt.Key_Alt, Qt.Key_Meta):
        return QKeySequence()
    return QKeySequence(key | mods)


class Keymap:
    """Command name <-> key sequences."""

    def __init__(self, bindings: Optional[Dict[str, Iterable[str]]] = None):
        self._by_name: Dict[str, List[QKeySequence]] = {}
        self._by_key: Dict[str, str] = {}
        for name, keys in (bindings or DEFAULT_BINDINGS).items():
            self.bind(name, keys)

    def bind(self, name: str, keys: Iterable[str]) -> None:
        """Bind ``name`` to ``keys`` (replacing its old keys); a key already
        bound to another command moves to this one."""
        if name not in DEFAULT_BINDINGS:
            raise KeyError(f"unknown console command {name!r} (known: {', '.join(sorted(DEFAULT_BINDINGS))})")
        for old in self._by_name.get(name, []):
            self._by_key.pop(old.toString(), None)
        seqs = []
        for text in keys:
            seq = QKeySequence(text)
            if seq.isEmpty() or (seq.toString() == "" and text):
                raise ValueError(f"{name}: {text!r} is not a key sequence")
            other = self._by_key.get(seq.toString())
            if other is not None and other != name:
                self._by_name[other] = [s for s in self._by_name[other] if s.toString() != seq.toString()]
            self._by_key[seq.toString()] = name
            seqs.append(seq)
        self._by_name[name] = seqs

    def unbind_key(self, text: str) -> Optional[str]:
        """Take a key away from whichever command has it; returns that command's name."""
        key = QKeySequence(text, QKeySequence.PortableText).toString()
        name = self._by_key.pop(key, None)
        if name is not None:
            self._by_name[name] = [s for s in self._by_name[name] if s.toString() != key]
        return name

    def keys(self, name: str) -> List[QKeySequence]:
        return list(self._by_name.get(name, []))

    def names(self) -> List[str]:
        return list(self._by_name)

    def match(self, event: QKeyEvent) -> Optional[str]:
        seq = event_sequence(event)
        if seq.isEmpty():
            return None
        return self._by_key.get(seq.toString())

    def shortcut_text(self, name: str) -> str:
        keys = self._by_name.get(name, [])
        return keys[0].toString(QKeySequence.NativeText) if keys else ""
