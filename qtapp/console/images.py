"""Images in the transcript: ``image/svg+xml``, ``image/png`` and ``image/jpeg``.

Sizes are CSS pixels (the display protocol's unit), scaled by the console's
zoom and fitted into the view (a line taller than the view could never be
scrolled through). What reaches the screen is always drawn at the device's
own resolution:

- SVG is rendered again, by ``QSvgRenderer``, whenever its size in device
  pixels changes (zoom, a window moved to a HiDPI screen); on a printer it
  is drawn as vectors. matplotlib writes sizes in points, which Qt's SVG
  renderer would take for pixels, so sizes are read from the SVG here, with
  their units.
- PNG and JPEG are drawn pixel for pixel when the shown size in device pixels
  is the image's own (a ``retina`` PNG, twice the pixels with ``width`` and
  ``height`` metadata, on a 2x screen), otherwise resampled once, smoothly,
  to exactly the device size and kept.

Right-click on an image offers copying it and saving it as PNG, and for SVG
copying and saving the SVG itself.
"""

from __future__ import annotations

import base64
import binascii
import html
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

from PyQt5.QtCore import QByteArray, QMimeData, QRectF, QSize, QSizeF, Qt
from PyQt5.QtGui import QFontMetricsF, QImage, QPagedPaintDevice, QPainter, QPicture
from PyQt5.QtWidgets import QApplication, QFileDialog, QWidget

from .renderers import CannotRender, InlineStyle, RenderContext

if TYPE_CHECKING:
    from PyQt5.QtSvg import QSvgRenderer

log = logging.getLogger(__name__)

#: CSS pixels per unit of SVG lengths (96 px to the inch).
SVG_UNITS = {"": 1.0, "px": 1.0, "pt": 96 / 72, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}
_SVG_TAG = re.compile(rb"<svg\b[^>]*>", re.IGNORECASE | re.DOTALL)
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]*)\s*$")
#: Devices drawn as vectors or at full resolution (printers, PDF, recordings), not in screen pixels.
VECTOR_DEVICES = (QPagedPaintDevice, QPicture)
#: An SVG saved as PNG gets at least this many pixels per CSS pixel.
SVG_EXPORT_SCALE = 2.0

Action = Tuple[str, Callable[[], None]]


def plain_text_of(bundle: Optional[dict]) -> str:
    """The bundle's text/plain, what copying a rich output gives."""
    text = (bundle or {}).get("text/plain", "")
    if isinstance(text, list):
        text = "".join(text)
    return text if isinstance(text, str) else str(text)


def svg_length(value: Optional[str]) -> Optional[float]:
    """An SVG length in CSS pixels (None for percentages, unknown units, nonsense)."""
    if not value:
        return None
    m = _LENGTH.match(value)
    if m is None or m.group(2) not in SVG_UNITS:
        return None
    return float(m.group(1)) * SVG_UNITS[m.group(2)]


def svg_natural_size(svg: bytes, renderer: QSvgRenderer) -> QSizeF:
    """The size the SVG asks for, in CSS pixels: width/height with units, else
    its viewBox, else what Qt makes of it."""
    tag = _SVG_TAG.search(svg[:65536])
    attrs = {}
    if tag is not None:
        text = tag.group(0).decode("utf-8", "replace")
        attrs = dict(re.findall(r'\b(width|height)\s*=\s*["\']([^"\']*)["\']', text))
    width, height = svg_length(attrs.get("width")), svg_length(attrs.get("height"))
    box = renderer.viewBoxF()
    if width and height:
        return QSizeF(width, height)
    if box.width() > 0 and box.height() > 0:
        if width:
            return QSizeF(width, width * box.height() / box.width())
        if height:
            return QSizeF(height * box.width() / box.height(), height)
        return QSizeF(box.width(), box.height())
    size = renderer.defaultSize()
    return QSizeF(max(1, size.width()), max(1, size.height()))


def fit(natural: QSizeF, style: InlineStyle, available_width: float) -> QSizeF:
    """``natural`` zoomed, then shrunk (keeping its shape) to fit the room there is."""
    w, h = natural.width() * style.scale, natural.height() * style.scale
    k = 1.0
    if w > available_width > 0:
        k = available_width / w
    if style.max_height > 0 and h * k > style.max_height:
        k = style.max_height / h
    return QSizeF(max(1.0, w * k), max(1.0, h * k))


class ImageObject:
    """What SVG and raster images share: sizing, copying, saving, exporting."""

    mime = ""

    def __init__(self, natural: QSizeF, style: InlineStyle, text: str = ""):
        self.natural = natural
        self.style = style
        self._text = text
        #: the size last given to the layout (logical pixels)
        self.shown = QSizeF(natural)
        self._cache: Optional[QImage] = None
        self._cache_key: Optional[tuple] = None

    def size(self, available_width: float, metrics: QFontMetricsF) -> QSizeF:
        self.shown = fit(self.natural, self.style, available_width)
        return self.shown

    def text(self) -> str:
        return self._text

    def paint(self, painter: QPainter, rect: QRectF) -> None:
        device = painter.device()
        if device is None or isinstance(device, VECTOR_DEVICES):
            self.paint_vector(painter, rect)  # a printer or PDF: full resolution
            return
        dpr = device.devicePixelRatioF()
        pixels = QSize(max(1, round(rect.width() * dpr)), max(1, round(rect.height() * dpr)))
        key = (pixels.width(), pixels.height(), self.style.generation)
        if self._cache_key != key:
            self._cache = self.image_at(pixels)
            self._cache.setDevicePixelRatio(dpr)
            self._cache_key = key
        painter.drawImage(QRectF(rect.topLeft(), QSizeF(pixels.width() / dpr, pixels.height() / dpr)), self._cache)

    # subclasses ------------------------------------------------------------------
    def image_at(self, pixels: QSize) -> QImage:
        """The image drawn at exactly ``pixels``."""
        raise NotImplementedError

    def paint_vector(self, painter: QPainter, rect: QRectF) -> None:
        raise NotImplementedError

    def full_image(self) -> QImage:
        """The image at its best resolution (for copying and saving)."""
        raise NotImplementedError

    def data_uri(self) -> str:
        raise NotImplementedError

    # sharing ---------------------------------------------------------------------------
    def copy_image(self) -> None:
        QApplication.clipboard().setImage(self.full_image())

    def save_png(self, path: str) -> None:
        if not self.full_image().save(path, "PNG"):
            raise OSError(f"could not write {path}")

    def context_actions(self, parent: Optional[QWidget] = None) -> List[Action]:
        return [("Copy image", self.copy_image),
                ("Save image as PNG…", lambda: self._save_dialog(parent, "png"))]

    def _save_dialog(self, parent: Optional[QWidget], kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(parent, f"Save image as {kind.upper()}", f"figure.{kind}",
                                              f"{kind.upper()} images (*.{kind})")
        if not path:
            return
        try:
            (self.save_png if kind == "png" else self.save_svg)(path)  # type: ignore[attr-defined]
        except OSError as exc:
            log.warning("saving %s failed: %s", path, exc)
            from PyQt5.QtWidgets import QMessageBox
            QMessageBox.warning(parent, "Save image", f"Could not save {path}: {exc}")

    def to_html(self) -> str:
        w, h = round(self.natural.width()), round(self.natural.height())
        alt = html.escape(self._text, quote=True)
        return f'<img class="output" src="{self.data_uri()}" width="{w}" height="{h}" alt="{alt}">'


class SvgImage(ImageObject):
    mime = "image/svg+xml"

    def __init__(self, svg: bytes, style: InlineStyle, text: str = ""):
        from PyQt5.QtSvg import QSvgRenderer  # Qt's SVG module loads with the first SVG shown

        renderer = QSvgRenderer(QByteArray(svg))
        if not renderer.isValid():
            raise CannotRender("not a valid SVG image")
        super().__init__(svg_natural_size(svg, renderer), style, text)
        self.svg = svg
        self.renderer = renderer

    def image_at(self, pixels: QSize) -> QImage:
        image = QImage(pixels, QImage.Format_ARGB32_Premultiplied)
        image.fill(Qt.transparent)
        painter = QPainter(image)
        painter.setRenderHints(QPainter.Antialiasing | QPainter.SmoothPixmapTransform | QPainter.TextAntialiasing)
        self.renderer.render(painter, QRectF(0, 0, pixels.width(), pixels.height()))
        painter.end()
        return image

    def paint_vector(self, painter: QPainter, rect: QRectF) -> None:
        self.renderer.render(painter, rect)

    def full_image(self) -> QImage:
        w, h = self.natural.width() * SVG_EXPORT_SCALE, self.natural.height() * SVG_EXPORT_SCALE
        image = self.image_at(QSize(max(1, round(w)), max(1, round(h))))
        image.setDevicePixelRatio(SVG_EXPORT_SCALE)
        return image

    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg).decode("ascii")

    def copy_svg(self) -> None:
        data = QMimeData()
        data.setData("image/svg+xml", QByteArray(self.svg))
        data.setText(self.svg.decode("utf-8", "replace"))
        QApplication.clipboard().setMimeData(data)

    def save_svg(self, path: str) -> None:
        Path(path).write_bytes(self.svg)

    def context_actions(self, parent: Optional[QWidget] = None) -> List[Action]:
        return super().context_actions(parent) + [
            ("Copy SVG", self.copy_svg),
            ("Save image as SVG…", lambda: self._save_dialog(parent, "svg")),
        ]


class RasterImage(ImageObject):
    def __init__(self, encoded: bytes, mime: str, metadata: dict, style: InlineStyle, text: str = ""):
        image = QImage.fromData(encoded)
        if image.isNull():
            raise CannotRender(f"not a valid {mime} image")
        super().__init__(_raster_size(image, metadata), style, text)
        self.mime = mime
        self.encoded = encoded
        self.image = image

    def image_at(self, pixels: QSize) -> QImage:
        if pixels == self.image.size():
            return QImage(self.image)  # pixel for pixel: nothing resampled
        return self.image.scaled(pixels, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)

    def paint_vector(self, painter: QPainter, rect: QRectF) -> None:
        painter.setRenderHint(QPainter.SmoothPixmapTransform)
        painter.drawImage(rect, self.image)

    def full_image(self) -> QImage:
        return QImage(self.image)

    def save_png(self, path: str) -> None:
        if self.mime == "image/png":
            Path(path).write_bytes(self.encoded)  # the kernel's own bytes
        else:
            super().save_png(path)

    def data_uri(self) -> str:
        return f"data:{self.mime};base64," + base64.b64encode(self.encoded).decode("ascii")


def _raster_size(image: QImage, metadata: dict) -> QSizeF:
    """CSS size from ``width``/``height`` metadata (one of them keeps the aspect), else the pixels."""
    def number(key: str) -> Optional[float]:
        value = metadata.get(key)
        try:
            value = float(value)
        except (TypeError, ValueError):
            return None
        return value if value > 0 else None

    w, h = number("width"), number("height")
    iw, ih = image.width(), image.height()
    if w and h:
        return QSizeF(w, h)
    if w:
        return QSizeF(w, w * ih / iw)
    if h:
        return QSizeF(h * iw / ih, h)
    return QSizeF(iw, ih)


def decode_base64(data: Any, mime: str) -> bytes:
    if isinstance(data, list):
        data = "".join(data)
    if not isinstance(data, (str, bytes)):
        raise CannotRender(f"{mime} data is not base64 text")
    try:
        return base64.b64decode(data)
    except (binascii.Error, ValueError) as exc:
        raise CannotRender(f"{mime} data is not valid base64: {exc}") from None


class SvgRenderer:
    mime_types = ("image/svg+xml",)

    def render(self, cursor, mime: str, data: Any, metadata: dict, ctx: RenderContext) -> None:
        if isinstance(data, list):
            data = "".join(data)
        svg = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        image = SvgImage(svg, ctx.style, plain_text_of(ctx.bundle))
        ctx.objects.insert(cursor, image, owner=ctx.segment)

    def is_block(self, mime: str, data: Any) -> bool:
        return True


class RasterRenderer:
    mime_types = ("image/png", "image/jpeg")

    def render(self, cursor, mime: str, data: Any, metadata: dict, ctx: RenderContext) -> None:
        image = RasterImage(decode_base64(data, mime), mime, metadata or {}, ctx.style, plain_text_of(ctx.bundle))
        ctx.objects.insert(cursor, image, owner=ctx.segment)

    def is_block(self, mime: str, data: Any) -> bool:
        return True
