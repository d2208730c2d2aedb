"""``text/html`` and ``text/markdown`` outputs, laid out by Qt's rich text engine.

Each output gets a ``QTextDocument`` of its own, drawn as one inline object
in the transcript. Qt renders a subset of HTML (no scripts, no external
resources): enough for what kernels send most, tables above all, such as a
pandas DataFrame's, which a style sheet of our own turns into a table with a
grid, a header row and padded cells in the theme's colours. Markdown goes
through ``QTextDocument.setMarkdown``.

A document taller than the view is shown as its ``text/plain`` instead when
the bundle has one: the transcript scrolls line by line, so a single object
taller than the view could not be read to its end.
"""

from __future__ import annotations

import logging
from typing import Any, List, Optional

from PyQt5.QtCore import QRectF, QSizeF
from PyQt5.QtGui import QAbstractTextDocumentLayout, QBrush, QFont, QFontMetricsF, QPainter, QPalette, \
    QTextCursor, QTextDocument, QTextFormat, QTextFrame, QTextFrameFormat, QTextTable
from PyQt5.QtWidgets import QApplication

from .images import plain_text_of
from .renderers import CannotRender, InlineStyle, RenderContext

log = logging.getLogger(__name__)

#: Space kept around a rich text output, in pixels.
DOCUMENT_MARGIN = 2.0
#: How far from the background toward the text a table's header row is shaded.
HEADER_TINT = 0.07


def document_css(style: InlineStyle) -> str:
    """The default style sheet for HTML outputs, in the theme's colours."""
    fg, rule = style.foreground.name(), style.rule.name()
    header = style.tint(HEADER_TINT).name()
    return (
        f"body {{ color: {fg}; }}"
        f"table {{ border-collapse: collapse; border-style: solid; border-color: {rule}; "
        "margin-top: 2px; margin-bottom: 2px; }"
        "th, td { padding: 3px 8px 3px 8px; }"
        f"th {{ background-color: {header}; font-weight: bold; }}"
        f"a {{ color: {fg}; text-decoration: underline; }}"
        "h1 { font-size: x-large; } h2 { font-size: large; } h3 { font-size: medium; }"
        "pre, code, tt { font-family: monospace; }"
    )


def text_font(style: InlineStyle) -> QFont:
    """Prose and tables read best in the desktop's proportional font, at the console's size."""
    font = QFont(QApplication.font())
    font.setPointSizeF(style.font.pointSizeF() if style.font.pointSizeF() > 0 else font.pointSizeF())
    return font


def style_tables(doc: QTextDocument, style: InlineStyle) -> None:
    """Give every table a thin grid in the theme's rule colour.

    HTML's ``border="1"`` (pandas writes it) would otherwise draw heavy black
    borders, whatever the style sheet says."""
    for table in _tables(doc.rootFrame()):
        fmt = table.format()
        fmt.setBorder(1)
        fmt.setBorderBrush(QBrush(style.rule))
        fmt.setBorderStyle(QTextFrameFormat.BorderStyle_Solid)
        fmt.setBorderCollapse(True)
        fmt.setCellSpacing(0)
        fmt.setCellPadding(max(fmt.cellPadding(), 3))
        table.setFormat(fmt)


def _tables(frame: QTextFrame) -> List[QTextTable]:
    found: List[QTextTable] = []
    for child in frame.childFrames():
        if isinstance(child, QTextTable):
            found.append(child)
        found.extend(_tables(child))
    return found


#: Block properties Qt's Markdown import gives code blocks (QTextFormat.BlockCodeFence/Language).
_CODE_FENCE = getattr(QTextFormat, "BlockCodeFence", 0x1091)
_CODE_LANGUAGE = getattr(QTextFormat, "BlockCodeLanguage", 0x1090)
#: Heading sizes relative to the text (Qt's own are much larger).
HEADING_SCALE = {1: 1.5, 2: 1.3, 3: 1.15, 4: 1.05, 5: 1.0, 6: 1.0}


def tidy_markdown(doc: QTextDocument, style: InlineStyle) -> None:
    """Markdown as Qt imports it, with headings sized for a console and code in
    the console's monospace font (a fixed-pitch hint alone does not change
    the family)."""
    base = doc.defaultFont().pointSizeF()
    cursor = QTextCursor(doc)
    block = doc.begin()
    while block.isValid():
        level = block.blockFormat().headingLevel()
        code_block = block.blockFormat().hasProperty(_CODE_FENCE) or block.blockFormat().hasProperty(_CODE_LANGUAGE)
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            it += 1
            fmt = frag.charFormat()
            code = code_block or fmt.fontFixedPitch()
            if not (level or code):
                continue
            if level:
                fmt.clearProperty(QTextFormat.FontSizeAdjustment)
                fmt.setFontPointSize(base * HEADING_SCALE.get(level, 1.0))
            if code:
                fmt.setFontFamily(style.font.family())
                fmt.setFontFixedPitch(True)
            cursor.setPosition(frag.position())
            cursor.setPosition(frag.position() + frag.length(), QTextCursor.KeepAnchor)
            cursor.setCharFormat(fmt)
        block = block.next()


class DocumentObject:
    """An HTML or Markdown output: its own QTextDocument, drawn in the transcript."""

    def __init__(self, source: str, kind: str, style: InlineStyle, text: str = ""):
        if kind not in ("html", "markdown"):
            raise ValueError(f"unknown document kind {kind!r}")
        self.source = source
        self.kind = kind
        self.style = style
        self._text = text
        self.document = QTextDocument()
        self.document.setUndoRedoEnabled(False)
        self.document.setDocumentMargin(DOCUMENT_MARGIN)
        self._built: Optional[int] = None
        self.shown = QSizeF()

    def _ensure_built(self) -> None:
        """(Re)build the document for the current colours and font."""
        if self._built == self.style.generation:
            return
        doc = self.document
        doc.setDefaultFont(text_font(self.style))
        doc.setDefaultStyleSheet(document_css(self.style))
        if self.kind == "html":
            doc.setHtml(self.source)
        else:
            doc.setMarkdown(self.source)
            tidy_markdown(doc, self.style)
        style_tables(doc, self.style)
        self._built = self.style.generation

    def size(self, available_width: float, metrics: QFontMetricsF) -> QSizeF:
        self._ensure_built()
        doc = self.document
        doc.setTextWidth(max(1.0, available_width))
        ideal = min(available_width, doc.idealWidth() + 2 * DOCUMENT_MARGIN)
        doc.setTextWidth(max(1.0, ideal))
        self.shown = QSizeF(ideal, doc.size().height())
        return self.shown

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        self._ensure_built()
        painter.save()
        painter.translate(rect.topLeft())
        painter.setClipRect(QRectF(0, 0, rect.width(), rect.height()))
        context = QAbstractTextDocumentLayout.PaintContext()
        palette = QPalette(context.palette)
        palette.setColor(QPalette.Text, self.style.foreground)
        context.palette = palette
        context.clip = QRectF(0, 0, rect.width(), rect.height())
        self.document.documentLayout().draw(painter, context)
        painter.restore()

    def text(self) -> str:
        return self._text or self.document.toPlainText()

    def to_html(self) -> str:
        """What was shown, as Qt's own HTML (the subset it understood: no scripts)."""
        self._ensure_built()
        body = self.document.toHtml()
        start, end = body.find("<body"), body.rfind("</body>")
        if start >= 0 and end > start:
            body = body[body.index(">", start) + 1:end]
        return f'<div class="rich-output" style="white-space:normal">{body}</div>'


class _DocumentRenderer:
    kind = "html"

    def render(self, cursor, mime: str, data: Any, metadata: dict, ctx: RenderContext) -> None:
        if isinstance(data, list):
            data = "".join(data)
        if not isinstance(data, str):
            raise CannotRender(f"{mime} data is not text")
        obj = DocumentObject(data, self.kind, ctx.style, plain_text_of(ctx.bundle))
        room = ctx.objects.available_width()
        height = obj.size(room, QFontMetricsF(ctx.style.font)).height()
        if ctx.style.max_height > 0 and height > ctx.style.max_height and "text/plain" in (ctx.bundle or {}):
            raise CannotRender(f"{mime} output is taller than the view")
        ctx.objects.insert(cursor, obj, owner=ctx.segment)

    def is_block(self, mime: str, data: Any) -> bool:
        return True


class HtmlRenderer(_DocumentRenderer):
    mime_types = ("text/html",)
    kind = "html"


class MarkdownRenderer(_DocumentRenderer):
    mime_types = ("text/markdown",)
    kind = "markdown"
