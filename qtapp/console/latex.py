"""``text/latex`` outputs: math drawn by matplotlib's mathtext, in this process.

mathtext understands a large part of TeX's math (fractions, roots, sums,
integrals, Greek, accents...) but not every LaTeX environment; what it cannot
parse falls back to the next representation (``text/plain``). matplotlib is
imported when the first formula arrives, not when the console starts.

A formula is rendered again at the device's resolution and in the theme's
text colour whenever either changes, so it stays crisp and readable.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

from PyQt5.QtCore import QRectF, QSize, QSizeF, Qt
from PyQt5.QtGui import QImage, QPainter

from .images import ImageObject, plain_text_of
from .renderers import CannotRender, InlineStyle, RenderContext

log = logging.getLogger(__name__)

#: Formulas are set a little larger than the text around them, as TeX does.
MATH_SIZE_FACTOR = 1.25
#: Resolution at which the natural (1x) size is measured.
BASE_DPI = 96.0

_WRAPPERS = (
    re.compile(r"^\$\$(.*)\$\$$", re.DOTALL),
    re.compile(r"^\\\[(.*)\\\]$", re.DOTALL),
    re.compile(r"^\\\((.*)\\\)$", re.DOTALL),
    re.compile(r"^\\begin\{(?:equation|displaymath|math)\*?\}(.*)\\end\{(?:equation|displaymath|math)\*?\}$",
               re.DOTALL),
)
#: Size and style switches mathtext does not know; dropping them changes nothing essential.
_IGNORED = re.compile(r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)\b\s*")


def to_mathtext(latex: str) -> str:
    """LaTeX as IPython and sympy send it, as a mathtext string (``$...$`` for math)."""
    s = latex.strip()
    for wrapper in _WRAPPERS:
        m = wrapper.match(s)
        if m:
            s = "$" + m.group(1).strip() + "$"
            break
    else:
        if "$" not in s:
            s = "$" + s + "$"
    s = s.replace("$$", "$")
    s = _IGNORED.sub("", s)
    if "\n" in s.strip():
        s = " ".join(part.strip() for part in s.split("\n"))
    return s


def render_math(source: str, point_size: float, dpi: float, colour: str) -> QImage:
    """The formula as an image; ValueError if mathtext cannot parse it."""
    from matplotlib import mathtext, rc_context
    from matplotlib.font_manager import FontProperties

    buffer = io.BytesIO()
    with rc_context({"savefig.transparent": True}):  # the theme's background shows through
        mathtext.math_to_image(source, buffer, prop=FontProperties(size=point_size), dpi=dpi, format="png",
                               color=colour)
    image = QImage.fromData(buffer.getvalue(), "PNG")
    if image.isNull():
        raise ValueError("mathtext produced no image")
    return image


class MathImage(ImageObject):
    """A formula, rendered for the pixels it is shown at."""

    mime = "image/png"

    def __init__(self, latex: str, style: InlineStyle, text: str = ""):
        self.latex = latex
        self.source = to_mathtext(latex)
        scale = style.scale if style.scale > 0 else 1.0
        self.point_size = (style.font.pointSizeF() / scale if style.font.pointSizeF() > 0 else 10.0) \
            * MATH_SIZE_FACTOR
        try:
            first = render_math(self.source, self.point_size, BASE_DPI, style.foreground.name())
        except ValueError as exc:
            raise CannotRender(f"mathtext cannot show this formula: {str(exc).strip().splitlines()[0]}") from None
        super().__init__(QSizeF(first.width(), first.height()), style, text or latex)

    def image_at(self, pixels: QSize) -> QImage:
        dpi = BASE_DPI * pixels.width() / self.natural.width()
        try:
            image = render_math(self.source, self.point_size, dpi, self.style.foreground.name())
        except ValueError:
            log.exception("re-rendering a formula failed")
            image = QImage(pixels, QImage.Format_ARGB32_Premultiplied)
            image.fill(Qt.transparent)
        if image.size() != pixels:  # mathtext rounds its bounding box: align to the layout's size
            image = image.scaled(pixels, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
        return image

    def paint_vector(self, painter: QPainter, rect: QRectF) -> None:
        painter.setRenderHint(QPainter.SmoothPixmapTransform)
        painter.drawImage(rect, self.full_image())

    def full_image(self) -> QImage:
        return self.image_at(QSize(round(self.natural.width() * 3), round(self.natural.height() * 3)))

    def data_uri(self) -> str:
        import base64

        from PyQt5.QtCore import QBuffer, QByteArray, QIODevice

        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.WriteOnly)
        self.image_at(QSize(round(self.natural.width() * 2), round(self.natural.height() * 2))).save(buffer, "PNG")
        return "data:image/png;base64," + base64.b64encode(bytes(data)).decode("ascii")


class LatexRenderer:
    mime_types = ("text/latex",)

    def render(self, cursor, mime: str, data: Any, metadata: dict, ctx: RenderContext) -> None:
        if isinstance(data, list):
            data = "".join(data)
        if not isinstance(data, str) or not data.strip():
            raise CannotRender("empty LaTeX")
        obj = MathImage(data, ctx.style, plain_text_of(ctx.bundle))
        ctx.objects.insert(cursor, obj, owner=ctx.segment)

    def is_block(self, mime: str, data: Any) -> bool:
        return True
