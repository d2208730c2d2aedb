"""The output model: view operations, and which execution owns which output.

The controller turns kernel messages into the operations below and queues
them; the writer applies them to the transcript in order. Each execution
(keyed by its request's msg_id, the ``parent_header`` of its output) has an
:class:`OutputArea` listing the transcript segments it produced, so
``clear_output`` can remove exactly that run's output, and a display id can
be found again by ``update_display_data``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .streamtext import StreamDecoder
from .transcript import Segment

#: Output areas remembered (older executions can no longer be cleared or updated).
MAX_AREAS = 2000


# -- operations -------------------------------------------------------------------

@dataclass
class EchoOp:
    """A cell as it was run, with its prompt number (None: not yet known)."""

    area: Optional[str]
    code: str
    count: Optional[int]
    label: str = ""  # who ran it, when it was not this console


@dataclass
class StreamOp:
    area: Optional[str]
    name: str
    parts: List[str]
    size: int = 0
    offset: int = 0  # characters of parts[0] already applied
    #: a slice of a longer text whose next slice is applied right after it
    more: bool = False

    @classmethod
    def of(cls, area: Optional[str], name: str, text: str, more: bool = False) -> "StreamOp":
        return cls(area, name, [text], len(text), more=more)

    def take(self, limit: int) -> str:
        """Remove and return up to ``limit`` characters from the front."""
        out: List[str] = []
        want = limit
        while want > 0 and self.parts:
            head = self.parts[0]
            piece = head[self.offset:self.offset + want]
            out.append(piece)
            want -= len(piece)
            self.offset += len(piece)
            if self.offset >= len(head):
                self.parts.pop(0)
                self.offset = 0
        text = "".join(out)
        self.size -= len(text)
        return text


@dataclass
class BundleOp:
    """A MIME bundle: an execute_result (``count`` set) or display_data."""

    area: Optional[str]
    data: dict
    metadata: dict
    count: Optional[int] = None
    display_id: Optional[str] = None
    update: bool = False


@dataclass
class ErrorOp:
    area: Optional[str]
    ename: str
    evalue: str
    traceback: List[str]


@dataclass
class ClearOp:
    area: Optional[str]
    wait: bool


@dataclass
class ClearScreenOp:
    """Everything in the transcript goes, as a terminal's screen does on an
    erase-display sequence (what ``%clear`` prints) or on Ctrl+L."""


@dataclass
class NoticeOp:
    """A line from the console itself (kernel restarted, died...)."""

    text: str
    level: str = "info"  # or "error"


@dataclass
class InputEchoOp:
    """What the user answered to an input() prompt (nothing shown for passwords)."""

    area: Optional[str]
    value: str
    password: bool


# -- ownership -----------------------------------------------------------------------

@dataclass(eq=False)
class OutputArea:
    """Everything one execution put in the transcript."""

    parent_id: Optional[str]
    segments: List[Segment] = field(default_factory=list)
    clear_on_next_output: bool = False
    decoders: Dict[str, StreamDecoder] = field(default_factory=dict)
    #: cleared at least once: a display redrawn where it was, not at the end
    in_place: bool = False
    #: the segment that followed the area's output when it was cleared
    successor: Optional[Segment] = None

    def live_segments(self) -> List[Segment]:
        self.segments = [s for s in self.segments if not s.removed]
        return self.segments

    def decoder(self, name: str) -> StreamDecoder:
        dec = self.decoders.get(name)
        if dec is None:
            dec = self.decoders[name] = StreamDecoder()
        return dec


class OutputAreas:
    """Areas by parent msg_id (bounded), and segments by display id."""

    def __init__(self, limit: int = MAX_AREAS):
        self.limit = limit
        self._areas: "OrderedDict[Optional[str], OutputArea]" = OrderedDict()
        self._displays: Dict[str, List[Segment]] = {}

    def get(self, parent_id: Optional[str]) -> OutputArea:
        area = self._areas.get(parent_id)
        if area is None:
            area = self._areas[parent_id] = OutputArea(parent_id)
            while len(self._areas) > self.limit:
                self._areas.popitem(last=False)
        else:
            self._areas.move_to_end(parent_id)
        return area

    def find(self, parent_id: Optional[str]) -> Optional[OutputArea]:
        return self._areas.get(parent_id)

    def add_display(self, display_id: str, seg: Segment) -> None:
        self._displays.setdefault(display_id, []).append(seg)

    def displays(self, display_id: str) -> List[Segment]:
        live = [s for s in self._displays.get(display_id, ()) if not s.removed]
        if live:
            self._displays[display_id] = live
        else:
            self._displays.pop(display_id, None)
        return live

    def clear(self) -> None:
        self._areas.clear()
        self._displays.clear()
