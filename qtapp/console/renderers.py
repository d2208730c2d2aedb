"""Rich output: a registry of renderers chosen by MIME type.

A display bundle (``execute_result``, ``display_data``) carries one object in
several representations; the registry picks the most preferred one it has a
renderer for. Renderers write at a transcript cursor: text renderers insert
text, others insert an *inline object* (one U+FFFC character whose format
names an item the :class:`InlineObjectHost` sizes and paints), so images and
HTML tables can sit in the same fast plain-text transcript.

Only ``text/plain`` is registered here; richer renderers register with a
higher preference.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple

from PyQt5.QtCore import QObject, QRectF, QSizeF
from PyQt5.QtGui import QFontMetricsF, QPainter, QTextCharFormat, QTextCursor, QTextDocument, QTextFormat, \
    QTextObjectInterface

from .streamtext import StreamDecoder
from .textops import insert_ops, insert_open_line
from .theme import Formats
from .transcript import Segment, Transcript

log = logging.getLogger(__name__)

#: The text object type our inline items use, and the property naming the item.
INLINE_OBJECT_TYPE = QTextFormat.UserObject + 1
ITEM_ID_PROPERTY = QTextFormat.UserProperty + 10


class InlineObject(Protocol):
    """Something drawn inside the transcript's text flow (an image, a table...)."""

    def size(self, available_width: float, metrics: QFontMetricsF) -> QSizeF: ...

    def paint(self, painter: QPainter, rect: QRectF) -> None: ...


@dataclass
class RenderContext:
    """What a renderer may use: the transcript, formats and the object host."""

    transcript: Transcript
    formats: Formats
    objects: "InlineObjectHost"
    stream: str = "stdout"
    segment: Optional[Segment] = None


class Renderer(Protocol):
    mime_types: Tuple[str, ...]

    def render(self, cursor: QTextCursor, mime: str, data: Any, metadata: dict, ctx: RenderContext) -> None: ...

    def is_block(self, mime: str, data: Any) -> bool:
        """True if the output should start on its own line after an ``Out[n]:`` prompt."""


class TextPlainRenderer:
    """Text with terminal semantics (ANSI colours, folding of very long lines)."""

    mime_types = ("text/plain",)

    def render(self, cursor: QTextCursor, mime: str, data: Any, metadata: dict, ctx: RenderContext) -> None:
        text = data if isinstance(data, str) else "".join(data) if isinstance(data, list) else str(data)
        decoder = StreamDecoder()
        insert_ops(ctx.transcript, cursor, decoder.feed(text), ctx.formats, ctx.stream)
        insert_open_line(ctx.transcript, cursor, decoder, ctx.formats, ctx.stream)

    def is_block(self, mime: str, data: Any) -> bool:
        text = data if isinstance(data, str) else str(data)
        return "\n" in text.rstrip("\n")


class RendererRegistry:
    """MIME type -> renderer, with an order of preference (first wins)."""

    def __init__(self) -> None:
        self._order: List[str] = []
        self._renderers: Dict[str, Renderer] = {}

    def register(self, renderer: Renderer, *, before: Optional[str] = None) -> None:
        """Add ``renderer`` for its MIME types, preferred over ``before`` (default:
        over everything registered so far, as richer renderers come later)."""
        for mime in renderer.mime_types:
            if mime in self._order:
                self._order.remove(mime)
            index = self._order.index(before) if before in self._order else 0
            self._order.insert(index, mime)
            self._renderers[mime] = renderer

    def unregister(self, mime: str) -> None:
        self._renderers.pop(mime, None)
        if mime in self._order:
            self._order.remove(mime)

    @property
    def preference(self) -> List[str]:
        return list(self._order)

    def choose(self, bundle: dict) -> Optional[Tuple[str, Renderer]]:
        for mime in self._order:
            if mime in bundle:
                return mime, self._renderers[mime]
        return None


def default_registry() -> RendererRegistry:
    registry = RendererRegistry()
    registry.register(TextPlainRenderer())
    return registry


class InlineObjectHost(QObject, QTextObjectInterface):
    """Sizes and paints inline objects for one transcript document."""

    def __init__(self, document: QTextDocument, width_hint: Optional[Callable[[], float]] = None,
                 parent: Optional[QObject] = None):
        super().__init__(parent)  # PyQt's cooperative init covers the interface mixin too
        self._document = document
        self._width_hint = width_hint
        self._objects: Dict[int, InlineObject] = {}
        self._ids = itertools.count(1)
        document.documentLayout().registerHandler(INLINE_OBJECT_TYPE, self)

    def insert(self, cursor: QTextCursor, obj: InlineObject, owner: Optional[Segment] = None) -> int:
        """Insert ``obj`` at ``cursor``; returns its id. The object is kept until
        :meth:`forget` (called for ``owner``'s objects when it leaves the transcript)."""
        item_id = next(self._ids)
        self._objects[item_id] = obj
        if owner is not None:
            owner.meta.setdefault("objects", []).append(item_id)
        fmt = QTextCharFormat()
        fmt.setObjectType(INLINE_OBJECT_TYPE)
        fmt.setProperty(ITEM_ID_PROPERTY, item_id)
        cursor.insertText("\ufffc", fmt)
        return item_id

    def get(self, item_id: int) -> Optional[InlineObject]:
        return self._objects.get(item_id)

    def forget(self, item_ids) -> None:
        for item_id in item_ids:
            self._objects.pop(item_id, None)

    def __len__(self) -> int:
        return len(self._objects)

    def _lookup(self, fmt: QTextFormat) -> Optional[InlineObject]:
        return self._objects.get(fmt.property(ITEM_ID_PROPERTY))

    # QTextObjectInterface
    def intrinsicSize(self, doc: QTextDocument, pos: int, fmt: QTextFormat) -> QSizeF:  # noqa: N802
        obj = self._lookup(fmt)
        if obj is None:
            return QSizeF(0, 0)
        width = self._width_hint() if self._width_hint is not None else doc.textWidth()
        return obj.size(max(1.0, width - 2 * doc.documentMargin()), QFontMetricsF(doc.defaultFont()))

    def drawObject(self, painter: QPainter, rect: QRectF, doc: QTextDocument, pos: int,  # noqa: N802
                   fmt: QTextFormat) -> None:
        obj = self._lookup(fmt)
        if obj is None:
            return
        try:
            obj.paint(painter, rect)
        except Exception:
            log.exception("an inline object failed to paint")
