"""Rich outputs as the console draws them: sizes and units, sharp drawing at
the device's pixel ratio, zoom, fallbacks to text, tables, Markdown and
formulas, copying and the image menu. Driven with the bundles the kernel
sends (kernel-side tests prove the kernel sends them), on real widgets."""

from __future__ import annotations

import base64

import pytest
from PyQt5.QtCore import QRectF, QSizeF
from PyQt5.QtGui import QColor, QFontMetricsF, QImage, QPainter, QTextTable
from PyQt5.QtWidgets import QApplication

from console_helpers import view_console
from qtapp.console.images import RasterImage, SvgImage, svg_length
from qtapp.console.latex import MathImage, to_mathtext
from qtapp.console.outputs import BundleOp, EchoOp
from qtapp.console.renderers import InlineStyle
from qtapp.console.rich import DEFAULT_PREFERENCE, rich_registry
from qtapp.console.richtext import DocumentObject
from rich_fixtures import PANDAS_HTML, PANDAS_TEXT, SVG, object_pixels, png_base64, stripes


@pytest.fixture
def console(qtbot):
    widget = view_console(qtbot, 800, 600)
    qtbot.waitExposed(widget)
    return widget


def show(console, data: dict, metadata: dict = None, count=None):
    console.present(EchoOp("a", "show()", 1))
    console.present(BundleOp("a", data, metadata or {}, count=count))
    console.queue.flush()
    return [console.objects.get(i) for i in console.transcript.last_segment.meta.get("objects", [])]


def paint_at(obj, size: QSizeF, dpr: float) -> QImage:
    """Paint ``obj`` into an image with device pixel ratio ``dpr``, as a HiDPI screen would."""
    image = QImage(round(size.width() * dpr), round(size.height() * dpr), QImage.Format_ARGB32)
    image.setDevicePixelRatio(dpr)
    image.fill(QColor("#00ff00"))
    painter = QPainter(image)
    obj.paint(painter, QRectF(0, 0, size.width(), size.height()))
    painter.end()
    return image


def colour(image: QImage, x: int, y: int) -> str:
    return image.pixelColor(x, y).name()


def non_background(image: QImage, background: str) -> int:
    bg = QColor(background)
    return sum(1 for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)
               if image.pixelColor(x, y) != bg)


# -- units and sizes ------------------------------------------------------------------------

def test_svg_lengths_are_read_with_their_units():
    assert svg_length("72pt") == pytest.approx(96)
    assert svg_length("1in") == 96 and svg_length("10") == 10 and svg_length("2.54cm") == pytest.approx(96)
    assert svg_length("50%") is None and svg_length("wide") is None


def test_matplotlib_points_become_css_pixels():
    obj = SvgImage(SVG.encode(), InlineStyle())
    assert obj.natural == QSizeF(200, 100)  # 150 x 75 pt, not Qt's 150 x 75 "px"


def test_objects_scale_with_zoom_and_fit_the_room():
    style = InlineStyle()
    obj = SvgImage(SVG.encode(), style)
    metrics = QFontMetricsF(style.font)
    assert obj.size(1000, metrics) == QSizeF(200, 100)
    style.scale = 1.5
    assert obj.size(1000, metrics) == QSizeF(300, 150)
    assert obj.size(150, metrics) == QSizeF(150, 75)  # narrower view: shrunk, same shape
    style.max_height = 60
    assert obj.size(1000, metrics) == QSizeF(120, 60)  # never taller than the view


# -- sharpness --------------------------------------------------------------------------------------

def test_a_retina_png_is_drawn_pixel_for_pixel_on_a_2x_screen():
    png = base64.b64decode(png_base64(stripes(400, 200)))
    obj = RasterImage(png, "image/png", {"width": 200, "height": 100}, InlineStyle())
    assert obj.natural == QSizeF(200, 100)  # the metadata's CSS size, not the pixels
    shown = paint_at(obj, QSizeF(200, 100), dpr=2.0)
    row = [colour(shown, x, 50) for x in range(0, 40)]
    assert row == ["#000000", "#ffffff"] * 20  # every stripe intact: nothing resampled
    # on a 1x screen the same image must be reduced: its stripes blend
    reduced = paint_at(obj, QSizeF(200, 100), dpr=1.0)
    assert colour(reduced, 10, 50) not in ("#000000", "#ffffff")


def test_svg_is_rendered_again_for_the_device_pixel_ratio():
    obj = SvgImage(SVG.encode(), InlineStyle())
    sharp = paint_at(obj, QSizeF(200, 100), dpr=2.0)
    assert obj._cache.size().width() == 400  # rendered at 2x, not scaled up from 1x
    # the blue/red edge at 100 CSS px falls exactly between device pixels 199 and 200
    assert colour(sharp, 199, 100) == "#0000ff" and colour(sharp, 200, 100) == "#ff0000"
    obj.style.scale = 2.0
    paint_at(obj, QSizeF(400, 200), dpr=1.0)
    assert obj._cache.size().width() == 400  # zoom re-renders too


# -- in the transcript ----------------------------------------------------------------------------

def test_an_svg_bundle_is_shown_as_an_image_and_copies_as_its_text(console):
    [obj] = show(console, {"text/plain": "<Figure size 200x100>", "image/svg+xml": SVG})
    assert isinstance(obj, SvgImage)
    pixels = object_pixels(console, obj)
    assert (pixels.width(), pixels.height()) == (200, 100)
    assert colour(pixels, 50, 50) == "#0000ff" and colour(pixels, 150, 50) == "#ff0000"
    assert console.plain_text() == "show()\n<Figure size 200x100>"


def test_bad_representations_fall_back_to_the_next_one(console):
    [] = show(console, {"text/plain": "plain fallback", "image/svg+xml": "<not svg"})
    assert console.plain_text().endswith("plain fallback")
    show(console, {"text/plain": "png fallback", "image/png": "!!not base64!!"})
    assert console.plain_text().endswith("png fallback")
    show(console, {"text/plain": "latex fallback", "text/latex": r"$\begin{matrix}a\end{matrix}$"})
    assert console.plain_text().endswith("latex fallback")


def test_preference_order_is_configurable():
    assert DEFAULT_PREFERENCE[-1] == "text/plain"
    registry = rich_registry(["text/plain", "image/svg+xml"])
    assert registry.choose({"text/plain": "x", "image/svg+xml": SVG})[0] == "text/plain"
    assert rich_registry().choose({"text/plain": "x", "image/svg+xml": SVG})[0] == "image/svg+xml"
    with pytest.raises(ValueError, match="no renderer for application/pdf"):
        rich_registry(["application/pdf"])


def test_a_dataframe_html_table_is_drawn_as_a_table(console):
    [obj] = show(console, {"text/plain": PANDAS_TEXT, "text/html": PANDAS_HTML}, count=1)
    assert isinstance(obj, DocumentObject)
    [table] = [f for f in obj.document.rootFrame().childFrames() if isinstance(f, QTextTable)]
    assert (table.rows(), table.columns()) == (4, 4)
    cells = [[table.cellAt(r, c).firstCursorPosition().block().text() for c in range(4)] for r in range(4)]
    assert cells[0] == ["", "city", "population", "area_km2"] and cells[2] == ["1", "Lyon", "513000", "47.9"]
    assert table.format().borderBrush().color() == console.objects.style.rule  # a thin grid, not black
    pixels = object_pixels(console, obj)
    grid = QColor(console.objects.style.rule)
    rule_rows = [y for y in range(pixels.height()) if pixels.pixelColor(pixels.width() // 2, y) == grid]
    assert len(rule_rows) >= 5  # the grid's horizontal lines: top, under the header, between rows, bottom
    assert console.plain_text().endswith(PANDAS_TEXT)


def test_html_taller_than_the_view_is_shown_as_text(console):
    rows = "".join(f"<tr><td>{i}</td></tr>" for i in range(200))
    show(console, {"text/plain": "tall table as text", "text/html": f"<table>{rows}</table>"})
    assert console.plain_text().endswith("tall table as text")
    assert len(console.objects) == 0


def test_markdown_renders_headings_emphasis_and_lists(console):
    [obj] = show(console, {"text/plain": "md", "text/markdown": "# Results\n\nSome *emphasis*.\n\n- one\n- two\n"})
    doc = obj.document
    assert doc.begin().text() == "Results" and doc.begin().blockFormat().headingLevel() == 1
    assert "emphasis" in doc.toPlainText() and doc.toPlainText().count("\n") >= 3
    assert non_background(object_pixels(console, obj), console.theme.background) > 50


def test_latex_is_rendered_as_a_formula_in_the_text_colour(console):
    assert to_mathtext(r"$$\frac{a}{b}$$") == r"$\frac{a}{b}$"
    assert to_mathtext(r"\displaystyle x^2") == "$x^2$"
    [obj] = show(console, {"text/plain": "Integral", "text/latex": r"$$\int_0^1 x^2\,dx = \frac{1}{3}$$"})
    assert isinstance(obj, MathImage)
    pixels = object_pixels(console, obj)
    fg = QColor(console.theme.foreground)
    inked = [pixels.pixelColor(x, y) for x in range(pixels.width()) for y in range(pixels.height())
             if pixels.pixelColor(x, y) != QColor(console.theme.background)]
    assert len(inked) > 100
    assert any(abs(c.red() - fg.red()) + abs(c.green() - fg.green()) + abs(c.blue() - fg.blue()) < 40 for c in inked)
    console.apply_theme("dark")
    dark = object_pixels(console, obj)
    assert any(dark.pixelColor(x, y).lightness() > 150 for x in range(dark.width()) for y in range(dark.height()))


# -- the image menu ---------------------------------------------------------------------------------

def test_right_click_on_an_svg_offers_copy_and_save_as_png_and_svg(console, tmp_path):
    [obj] = show(console, {"text/plain": "<Figure>", "image/svg+xml": SVG})
    position = console.objects.position_of(obj)
    centre = console.object_view._rect_of(position, obj).center().toPoint()
    menu = console.transcript.view.context_menu(centre)
    actions = {a.text(): a for a in menu.actions()}
    assert {"Copy image", "Save image as PNG…", "Copy SVG", "Save image as SVG…"} <= set(actions)
    actions["Copy SVG"].trigger()
    assert bytes(QApplication.clipboard().mimeData().data("image/svg+xml")) == SVG.encode()
    actions["Copy image"].trigger()
    copied = QApplication.clipboard().image()
    assert copied.width() == 400 and copied.height() == 200  # 2x the CSS size, crisp for pasting
    obj.save_png(str(tmp_path / "f.png"))
    obj.save_svg(str(tmp_path / "f.svg"))
    assert QImage(str(tmp_path / "f.png")).width() == 400
    assert (tmp_path / "f.svg").read_bytes() == SVG.encode()
    # beside the image (or on text) there is no image entry
    menu = console.transcript.view.context_menu(centre + type(centre)(400, 0))
    assert "Copy image" not in {a.text() for a in menu.actions()}


def test_a_png_offers_copy_and_save_and_keeps_its_bytes(console, tmp_path):
    data = png_base64(stripes(60, 40))
    [obj] = show(console, {"text/plain": "<png>", "image/png": data})
    position = console.objects.position_of(obj)
    menu = console.transcript.view.context_menu(console.object_view._rect_of(position, obj).center().toPoint())
    texts = {a.text() for a in menu.actions()}
    assert {"Copy image", "Save image as PNG…"} <= texts and "Copy SVG" not in texts
    obj.save_png(str(tmp_path / "p.png"))
    assert (tmp_path / "p.png").read_bytes() == base64.b64decode(data)


def test_objects_are_relaid_out_when_the_view_gets_smaller(console, qtbot):
    tall = SVG.replace('height="75pt"', 'height="600pt"').replace("0 0 150 75", "0 0 150 600")
    [obj] = show(console, {"text/plain": "tall", "image/svg+xml": tall})
    first = obj.shown.height()
    assert first <= console.transcript.view.viewport().height()
    console.resize(800, 400)
    qtbot.waitUntil(lambda: obj.shown.height() < first - 100, timeout=10_000)
    assert obj.shown.height() <= console.transcript.view.viewport().height()


def test_markdown_code_is_set_in_the_console_font(console):
    [obj] = show(console, {"text/plain": "md", "text/markdown": "Call `run()` now.\n\n```\nblock = 1\n```\n"})
    doc = obj.document
    mono = console.objects.style.font.family()
    inline = doc.find("run()")
    block = doc.find("block = 1")
    assert inline.charFormat().font().family() == mono and block.charFormat().font().family() == mono
    assert doc.find("now").charFormat().font().family() != mono


def test_zooming_scales_images_and_renders_them_again(console, qtbot):
    [obj] = show(console, {"text/plain": "<Figure>", "image/svg+xml": SVG})
    assert object_pixels(console, obj).width() == 200
    base = console.base_font.pointSizeF()
    console.set_zoom(base / 2)  # one and a half times the base size
    qtbot.waitUntil(lambda: abs(obj.shown.width() - 300) < 1, timeout=10_000)
    pixels = object_pixels(console, obj)
    assert pixels.width() == 300 and obj._cache.width() == 300  # rendered anew at the new size, not stretched
    assert colour(pixels, 148, 75) == "#0000ff" and colour(pixels, 152, 75) == "#ff0000"


def test_matplotlib_is_imported_by_the_console_only_for_the_first_formula(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "lazy.py"
    script.write_text(
        "import sys\n"
        "from PyQt5.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from kernel.manager import KernelManager\n"
        "from qtapp import ConsoleWidget\n"
        "from qtapp.console.outputs import BundleOp\n"
        "c = ConsoleWidget(KernelManager(), start=False)\n"
        f"c.present(BundleOp(None, {{'text/plain': 'x', 'image/svg+xml': {SVG!r}}}, {{}}))\n"
        "c.queue.flush()\n"
        "print('before', 'matplotlib' in sys.modules)\n"
        "c.present(BundleOp(None, {'text/plain': 'x', 'text/latex': '$x^2$'}, {}))\n"
        "c.queue.flush()\n"
        "print('after', 'matplotlib' in sys.modules, len(c.objects))\n")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=root,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["before False", "after True 2"]
