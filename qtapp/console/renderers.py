"""Rich output: a registry of renderers chosen by MIME type.

A display bundle (``execute_result``, ``display_data``) carries one object in
several representations; the registry picks the most preferred one it has a
renderer for. Renderers write at a transcript cursor: text renderers insert
text, others insert an *inline object* (one U+FFFC character whose format
names an item the :class:`InlineObjectHost` sizes and paints), so images and
HTML tables can sit in the same fast plain-text transcript.

Only ``text/plain`` is registered here; richer renderers (images, HTML,
Markdown, LaTeX) live in their own modules and are gathered, in a
configurable order of preference, by :func:`qtapp.console.rich.rich_registry`.
A renderer that finds it cannot show its representation after all (a
formula mathtext cannot parse, an HTML page taller than the view) raises
:class:`CannotRender` before inserting anything, and the next representation
in order is used.

Inline objects read :class:`InlineStyle` (zoom, room, colours) from the host,
so they can size and paint themselves for the view as it is now.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Protocol, Tuple

from PyQt5.QtCore import QObject, QRectF, QSizeF
from PyQt5.QtGui import QColor, QFont, QFontMetricsF, QPainter, QTextCharFormat, QTextCursor, QTextDocument, \
    QTextFormat, QTextObjectInterface

from .streamtext import StreamDecoder
from .textops import insert_ops, insert_open_line
from .theme import Formats
from .transcript import Segment, Transcript

log = logging.getLogger(__name__)

#: The text object type our inline items use, and the property naming the item.
INLINE_OBJECT_TYPE = QTextFormat.UserObject + 1
ITEM_ID_PROPERTY = QTextFormat.UserProperty + 10


class InlineObject(Protocol):
    """Something drawn inside the transcript's text flow (an image, a table...).

    Optional extras: ``text()`` (what copying gives), ``to_html()`` (for Save
    as HTML) and ``context_actions()`` (entries for the right-click menu).
    """

    def size(self, available_width: float, metrics: QFontMetricsF) -> QSizeF: ...

    def paint(self, painter: QPainter, rect: QRectF) -> None: ...


class CannotRender(Exception):
    """Raised by a renderer, before it inserts anything, to let the next
    representation of the bundle be shown instead."""


@dataclass
class InlineStyle:
    """How inline objects are shown right now, shared by all of one transcript's objects."""

    #: zoom factor: the console's font size over its base size
    scale: float = 1.0
    #: the tallest an object may be (the view's height: taller lines cannot be
    #: scrolled through); 0 means no limit
    max_height: float = 0.0
    foreground: QColor = field(default_factory=lambda: QColor("#1f2328"))
    background: QColor = field(default_factory=lambda: QColor("#ffffff"))
    #: a quiet colour for rules and table grids
    rule: QColor = field(default_factory=lambda: QColor("#d0d7de"))
    #: the console's monospace font at the current zoom
    font: QFont = field(default_factory=QFont)
    #: changes whenever colours or fonts change, so objects know to redo cached renderings
    generation: int = 0

    def tint(self, amount: float) -> QColor:
        """The background moved ``amount`` (0 to 1) of the way to the foreground:
        quiet colours (grids, header rows) that suit any theme."""
        fg, bg = self.foreground, self.background
        return QColor(*(round(b + (f - b) * amount) for f, b in ((fg.red(), bg.red()), (fg.green(), bg.green()),
                                                               (fg.blue(), bg.blue()))))


@dataclass
class RenderContext:
    """What a renderer may use: the transcript, formats and the object host."""

    transcript: Transcript
    formats: Formats
    objects: "InlineObjectHost"
    stream: str = "stdout"
    segment: Optional[Segment] = None
    #: the whole MIME bundle being shown (to know which fallbacks exist)
    bundle: Optional[dict] = None

    @property
    def style(self) -> InlineStyle:
        return self.objects.style


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

    def set_preference(self, order: List[str]) -> None:
        """Put the registered MIME types in this order (types not named keep
        their relative order, after the named ones)."""
        named = [m for m in order if m in self._renderers]
        self._order = named + [m for m in self._order if m not in named]

    def choose(self, bundle: dict) -> Optional[Tuple[str, Renderer]]:
        for choice in self.candidates(bundle):
            return choice
        return None

    def candidates(self, bundle: dict) -> Iterator[Tuple[str, Renderer]]:
        """Every representation of ``bundle`` this registry can show, preferred first."""
        for mime in self._order:
            if mime in bundle:
                yield mime, self._renderers[mime]


def default_registry() -> RendererRegistry:
    registry = RendererRegistry()
    registry.register(TextPlainRenderer())
    return registry


class InlineObjectHost(QObject, QTextObjectInterface):
    """Sizes and paints inline objects for one transcript document (and for
    the copies Qt makes of it to print)."""

    def __init__(self, document: QTextDocument, width_hint: Optional[Callable[[], float]] = None,
                 parent: Optional[QObject] = None):
        super().__init__(parent)  # PyQt's cooperative init covers the interface mixin too
        self._document = document
        self._width_hint = width_hint
        self._objects: Dict[int, InlineObject] = {}
        self._anchors: Dict[int, QTextCursor] = {}
        self._ids = itertools.count(1)
        self.style = InlineStyle(font=QFont(document.defaultFont()))
        #: logical dots per inch of the screen the transcript is shown on (for printing to scale)
        self.screen_dpi = 96.0
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
        position = cursor.position()
        cursor.insertText("\ufffc", fmt)
        anchor = QTextCursor(self._document)
        anchor.setPosition(position)  # moves along with text inserted before the object
        self._anchors[item_id] = anchor
        return item_id

    def get(self, item_id: int) -> Optional[InlineObject]:
        return self._objects.get(item_id)

    def forget(self, item_ids) -> None:
        for item_id in item_ids:
            self._objects.pop(item_id, None)
            self._anchors.pop(item_id, None)

    def __len__(self) -> int:
        return len(self._objects)

    def _lookup(self, fmt: QTextFormat) -> Optional[InlineObject]:
        return self._objects.get(fmt.property(ITEM_ID_PROPERTY))

    def at(self, position: int) -> Optional[InlineObject]:
        """The object at document ``position`` (None if that character is not one)."""
        if self._document.characterAt(position) != "\ufffc":
            return None
        cursor = QTextCursor(self._document)
        cursor.setPosition(position + 1)
        return self._lookup(cursor.charFormat())

    def text_at(self, position: int) -> Optional[str]:
        """What copying the object at ``position`` gives (None: no text of its own)."""
        text = getattr(self.at(position), "text", None)
        return text() if callable(text) else None

    def position_of(self, obj: InlineObject) -> Optional[int]:
        for item_id, candidate in self._objects.items():
            if candidate is obj and item_id in self._anchors:
                return self._anchors[item_id].position()
        return None

    def available_width(self) -> float:
        """The width an object may take in the transcript now."""
        width = self._width_hint() if self._width_hint is not None else self._document.textWidth()
        return max(1.0, width - 2 * self._document.documentMargin())

    def relayout(self) -> None:
        """Lay out again the lines holding objects (their room or zoom changed)."""
        for anchor in self._anchors.values():
            self._document.markContentsDirty(anchor.position(), 1)

    def set_style(self, **changes: Any) -> None:
        """Change how objects are shown; cached renderings are redone when next painted."""
        for name, value in changes.items():
            setattr(self.style, name, value)
        self.style.generation += 1

    # QTextObjectInterface
    def intrinsicSize(self, doc: QTextDocument, pos: int, fmt: QTextFormat) -> QSizeF:  # noqa: N802
        obj = self._lookup(fmt)
        if obj is None:
            return QSizeF(0, 0)
        metrics = QFontMetricsF(doc.defaultFont())
        try:
            if doc is self._document:
                width = self._width_hint() if self._width_hint is not None else doc.textWidth()
                return obj.size(max(1.0, width - 2 * doc.documentMargin()), metrics)
            return self._size_for_copy(obj, doc, metrics)
        except RuntimeError as exc:  # its Qt half is gone: the application is shutting down
            log.debug("an inline object could not size itself: %s", exc)
            return QSizeF(0, 0)
        except Exception:  # an object must never break the layout of the whole transcript
            log.exception("an inline object failed to size itself")
            return QSizeF(0, 0)

    def _size_for_copy(self, obj: InlineObject, doc: QTextDocument, metrics: QFontMetricsF) -> QSizeF:
        """A copy laid out for a printer: the same size on paper as on screen,
        within the page."""
        device = doc.documentLayout().paintDevice()
        k = device.logicalDpiX() / self.screen_dpi if device is not None else 1.0
        page = doc.pageSize()
        saved = self.style.max_height
        self.style.max_height = page.height() / k * 0.9 if page.height() > 0 else 0.0
        try:
            width = doc.textWidth() if doc.textWidth() > 0 else self._document.textWidth()
            size = obj.size(max(1.0, width / k), metrics)
        finally:
            self.style.max_height = saved
        return QSizeF(size.width() * k, size.height() * k)

    def drawObject(self, painter: QPainter, rect: QRectF, doc: QTextDocument, pos: int,  # noqa: N802
                   fmt: QTextFormat) -> None:
        obj = self._lookup(fmt)
        if obj is None:
            return
        try:
            obj.paint(painter, rect)
        except Exception:
            log.exception("an inline object failed to paint")
