"""Input history: Up/Down with prefix matching and reverse incremental search.

Pure Python, so its rules are testable without a window. Entries are loaded
from the kernel's history when the console connects, and each cell this
console runs is added. Browsing remembers edits made to recalled entries
until the next run, as readline and qtconsole do.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

MAX_ENTRIES = 10_000


class History:
    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self.entries: List[str] = []
        self._index = 0          # len(entries) means "the text being written"
        self._prefix: Optional[str] = None
        self._edits: Dict[int, str] = {}

    # -- content --------------------------------------------------------------------
    def load(self, sources: Iterable[str]) -> None:
        """Older entries from the kernel go before what this session added."""
        loaded: List[str] = []
        for src in sources:
            src = src.rstrip("\n")
            if src.strip() and (not loaded or loaded[-1] != src):
                loaded.append(src)
        mine = self.entries
        self.entries = (loaded + [e for e in mine if not loaded or e != loaded[-1]])[-self.max_entries:]
        self.reset()

    def add(self, source: str) -> None:
        source = source.rstrip("\n")
        if source.strip() and (not self.entries or self.entries[-1] != source):
            self.entries.append(source)
            del self.entries[:-self.max_entries]
        self.reset()

    def reset(self) -> None:
        """Leave browsing mode (after a run)."""
        self._index = len(self.entries)
        self._prefix = None
        self._edits.clear()

    @property
    def browsing(self) -> bool:
        return self._index < len(self.entries)

    # -- Up / Down ---------------------------------------------------------------------
    def previous(self, current: str, prefix: str) -> Optional[str]:
        """The previous entry starting with the prefix fixed when browsing
        began; None when there is none (the input stays as it is)."""
        if self._prefix is None:
            self._prefix = prefix
        self._edits[self._index] = current
        for i in range(self._index - 1, -1, -1):
            if self._text(i).startswith(self._prefix):
                self._index = i
                return self._text(i)
        return None

    def next(self, current: str) -> Optional[str]:
        """The next matching entry, or the text being written at the end."""
        if self._prefix is None:
            return None
        self._edits[self._index] = current
        for i in range(self._index + 1, len(self.entries)):
            if self._text(i).startswith(self._prefix):
                self._index = i
                return self._text(i)
        if self._index == len(self.entries):
            return None
        self._index = len(self.entries)
        text = self._edits.get(self._index, self._prefix)
        self._prefix = None
        return text

    def _text(self, i: int) -> str:
        return self._edits.get(i, self.entries[i])

    # -- reverse search ----------------------------------------------------------------------
    def search(self, needle: str, before: Optional[int] = None) -> Optional[Tuple[int, str]]:
        """The newest entry containing ``needle`` older than index ``before``."""
        start = len(self.entries) if before is None else before
        for i in range(min(start, len(self.entries)) - 1, -1, -1):
            if needle in self.entries[i]:
                return i, self.entries[i]
        return None
