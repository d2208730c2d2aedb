"""Inline figures from one draw instead of two.

``savefig(bbox_inches="tight")``, which IPython's ``print_figure`` uses for
every inline figure, lays the figure out once to measure its artists and then
draws it again, cropped; on a small plot that first pass is a quarter to a
third of the cost, and a cell that draws two hundred figures feels it. Here
the figure is drawn once, at its own size, and then cropped:

- PNG (:func:`tight_png`): the crop is measured on the pixels, as the box of
  everything that differs from the figure's background, grown by
  ``savefig.pad_inches``. The picture is what ``bbox_inches="tight"`` gives,
  give or take a pixel or two of margin (savefig's box holds whole text boxes,
  descenders' room included; this one holds the ink).
- SVG (:func:`tight_svg`): vector output keeps what lies outside its view, so
  only the document's size and ``viewBox`` change (plus, under everything, a
  rectangle of the figure's colour, which shows where the pad reaches past
  the figure's edge). The crop is measured by the renderer as it draws
  (:mod:`kernel.svgextent`): the box ``bbox_inches="tight"`` gives, to within
  a point or two, without asking every artist for its extent afterwards.

When one draw at the figure's own size cannot show everything, these decline
(return None) and the caller falls back to ``savefig``: ink touching an edge
of the PNG canvas or artists reaching past the SVG figure (a tight box would
include what lies beyond), nothing drawn at all, subfigures, an SVG image
drawn through a transform the renderer cannot measure, or settings a plain
draw does not honour (a transparent save, a non-numeric pad).
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from typing import Any, Iterator, Optional

#: The root ``<svg ...>`` element matplotlib writes; group 1 is its size.
_SVG_ROOT = re.compile(r'<svg\b[^>]*?(width="[^"]*" height="[^"]*" viewBox="[^"]*")[^>]*>')


def tight_png(figure: Any, dpi: float) -> Optional[bytes]:
    """``figure`` as PNG bytes at ``dpi``, cropped as ``bbox_inches="tight"``
    would; None when only ``savefig`` can do it faithfully."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import to_rgba
    from PIL import Image

    pad = _pad()
    canvas = figure.canvas
    if pad is None or not isinstance(canvas, FigureCanvasAgg):
        return None
    pixels = _draw_agg(figure, canvas, dpi)
    height, width = pixels.shape[:2]
    background = np.array([round(c * 255) for c in to_rgba(figure.get_facecolor())], np.uint8)
    if background[3] == 0:
        ink = pixels[..., 3] != 0  # a transparent figure: anything opaque at all
    else:  # one 32-bit compare per pixel: a hundred times faster than four bytes
        ink = pixels.view(np.uint32)[..., 0] != background.view(np.uint32)[0]
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if not rows.size or rows[0] == 0 or cols[0] == 0 or rows[-1] == height - 1 or cols[-1] == width - 1:
        return None
    margin = round(pad * dpi)
    top, bottom = rows[0] - margin, rows[-1] + 1 + margin
    left, right = cols[0] - margin, cols[-1] + 1 + margin
    # The pad may reach past the canvas: there it is background, as in savefig.
    out = np.empty((bottom - top, right - left, 4), np.uint8)
    out[...] = background
    y0, y1, x0, x1 = max(top, 0), min(bottom, height), max(left, 0), min(right, width)
    out[y0 - top:y1 - top, x0 - left:x1 - left] = pixels[y0:y1, x0:x1]
    buffer = io.BytesIO()
    # zlib's fastest level: a third less encoding time for a fifth more bytes
    Image.fromarray(out, "RGBA").save(buffer, format="png", dpi=(dpi, dpi), compress_level=1)
    return buffer.getvalue()


def tight_svg(figure: Any) -> Optional[str]:
    """``figure`` as an SVG document cropped as ``bbox_inches="tight"``
    would; None when only ``savefig`` can do it faithfully."""
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.colors import to_hex, to_rgba

    from .svgextent import MeasuringRendererSVG

    pad = _pad()
    if pad is None or getattr(figure, "subfigs", None):
        return None  # a subfigure's background would count as drawn
    out = io.StringIO()
    dpi = figure.dpi  # what raster parts are drawn at; the SVG itself is in points
    figure.dpi = 72  # as savefig does for the length of the save
    try:
        width, height = figure.get_size_inches() * 72
        svg = MeasuringRendererSVG(width, height, out, image_dpi=dpi)
        renderer = MixedModeRenderer(figure, width / 72, height / 72, dpi, svg)
        svg.measure_text_as(renderer, 72)
        with _drawn_unmeasured(figure.patch, svg):
            figure.draw(renderer)
        renderer.finalize()
        for ax in figure.axes:  # matplotlib's tight box always holds the axes' own box
            if ax.get_visible() and ax.get_in_layout():
                svg.add_box(*ax.bbox.extents)
        box = svg.drawn_box()
    finally:
        figure.dpi = dpi
    if svg.uncertain or box is None or box[0] < 0 or box[1] < 0 or box[2] > width or box[3] > height:
        return None
    margin = pad * 72
    x0, y0, x1, y1 = box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin
    x, y, w, h = x0, height - y1, x1 - x0, y1 - y0  # SVG coordinates run downwards
    svg_text = out.getvalue()
    root = _SVG_ROOT.search(svg_text)
    if root is None:
        return None
    size = f'width="{w:.6g}pt" height="{h:.6g}pt" viewBox="{x:.6g} {y:.6g} {w:.6g} {h:.6g}"'
    # Where the pad reaches past the figure its background continues, as in
    # savefig: a rectangle of that colour under everything else.
    red, green, blue, alpha = to_rgba(figure.get_facecolor())
    under = (f'\n <rect x="{x:.6g}" y="{y:.6g}" width="{w:.6g}" height="{h:.6g}" '
             f'fill="{to_hex((red, green, blue))}" fill-opacity="{alpha:.6g}"/>') if alpha else ""
    return svg_text[:root.start(1)] + size + svg_text[root.end(1):root.end()] + under + svg_text[root.end():]


@contextmanager
def _drawn_unmeasured(patch: Any, svg: Any) -> Iterator[None]:
    """While the figure draws, its background ``patch`` (which fills the
    whole figure) is drawn but not counted in the crop."""
    draw = patch.draw
    own = "draw" in vars(patch)  # somebody already replaced it on this instance

    def draw_unmeasured(renderer):
        with svg.unmeasured():
            draw(renderer)

    patch.draw = draw_unmeasured  # shadows the class's method on this one instance
    try:
        yield
    finally:
        if own:
            patch.draw = draw
        else:
            del patch.draw


def _pad() -> Optional[float]:
    """``savefig.pad_inches``; None when the settings ask for what a plain
    draw does not do."""
    import matplotlib

    pad = matplotlib.rcParams["savefig.pad_inches"]
    if matplotlib.rcParams["savefig.transparent"] or not isinstance(pad, (int, float)):
        return None
    return pad


def _draw_agg(figure: Any, canvas: Any, dpi: float) -> Any:
    """The figure's RGBA pixels drawn at ``dpi`` (a copy: the canvas is reused)."""
    import numpy as np

    own = figure.dpi
    if dpi != own:
        figure.dpi = dpi  # as savefig does for the length of the save
    try:
        canvas.draw()
        return np.array(canvas.buffer_rgba())
    finally:
        if dpi != own:
            figure.dpi = own
