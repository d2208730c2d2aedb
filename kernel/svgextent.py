"""An SVG renderer that also measures what it draws.

``savefig(bbox_inches="tight")`` finds its crop by asking every artist for its
extent after a layout pass, and that walk repeats much of the drawing's own
work: tick placement and formatting, every tick label's text layout, the
title's position. For the small figures people draw inline it is a fifth of
the time of an SVG. :class:`MeasuringRendererSVG` instead keeps the union of
everything it is asked to draw, clipped as the drawing is, so the crop costs
a few array operations per draw call.

The box agrees with ``Figure.get_tightbbox`` to within a point or two. A line
of text counts at least as tall as "lp" in its font (matplotlib's layout
uses the font's ascent and descent, a fraction of a point more); a text of
several lines, drawn line by line, lacks the half line gap matplotlib adds
above and below it. The caller adds each axes' own box, which matplotlib
always counts even where nothing is drawn (a pie's square axes). What it cannot
measure faithfully (an image drawn through an arbitrary transform) makes
:attr:`MeasuringRendererSVG.uncertain` true, and the caller uses ``savefig``.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional

import numpy as np
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.path import get_path_collection_extents

#: (text, font properties, ismath) -> (width, height, descent) in points.
TextMetrics = Callable[[str, Any, Any], tuple]


class MeasuringRendererSVG(RendererSVG):
    """``RendererSVG`` plus :meth:`drawn_box`, the box of everything drawn."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._box = [math.inf, math.inf, -math.inf, -math.inf]  # x0, y0, x1, y1
        self._paused = False
        #: Something was drawn whose extent this renderer cannot tell.
        self.uncertain = False
        self._text_metrics: TextMetrics = self.get_text_width_height_descent

    def measure_text_as(self, layout_renderer: Any, dpi: float) -> None:
        """Artists are handed ``layout_renderer`` (a ``MixedModeRenderer``
        around this one) at ``dpi``: text is measured through it, so a line's
        metrics come from the cache its layout filled moments before."""
        try:
            from matplotlib.text import _get_text_metrics_with_cache as cached
        except ImportError:  # not in this matplotlib: measure afresh
            return
        self._text_metrics = lambda s, prop, ismath: cached(layout_renderer, s, prop, ismath, dpi)

    def drawn_box(self) -> Optional[tuple]:
        """(x0, y0, x1, y1) in points, y upwards; None if nothing was drawn."""
        x0, y0, x1, y1 = self._box
        return None if x0 > x1 else (x0, y0, x1, y1)

    def add_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        b = self._box
        b[0], b[1], b[2], b[3] = min(b[0], x0), min(b[1], y0), max(b[2], x1), max(b[3], y1)

    @contextmanager
    def unmeasured(self) -> Iterator[None]:
        """Draw without measuring (the figure's own background, say)."""
        paused, self._paused = self._paused, True
        try:
            yield
        finally:
            self._paused = paused

    # -- measuring (the drawing methods below skip it while paused) -------------------
    def _add(self, gc: Any, x0: float, y0: float, x1: float, y1: float) -> None:
        clip = gc.get_clip_rectangle()
        if clip is not None:
            x0, y0, x1, y1 = max(x0, clip.x0), max(y0, clip.y0), min(x1, clip.x1), min(y1, clip.y1)
        path, transform = gc.get_clip_path()
        if path is not None:
            e = path.get_extents(transform)
            x0, y0, x1, y1 = max(x0, e.x0), max(y0, e.y0), min(x1, e.x1), min(y1, e.y1)
        if x0 <= x1 and y0 <= y1:  # else clipped away entirely (or NaN)
            self.add_box(x0, y0, x1, y1)

    def _add_points(self, gc: Any, points: np.ndarray, grow: Any = None) -> None:
        points = points[np.isfinite(points).all(axis=1)]
        if len(points):
            (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
            if grow is not None:  # a marker's own extent around each point
                x0, y0, x1, y1 = x0 + grow.x0, y0 + grow.y0, x1 + grow.x1, y1 + grow.y1
            self._add(gc, x0, y0, x1, y1)

    def _add_text(self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float, ismath: Any) -> None:
        width, height, descent = self._text_metrics(s, prop, ismath)
        # Text._get_layout makes every line at least as tall as the font.
        _, lp_height, lp_descent = self._text_metrics("lp", prop, "TeX" if ismath == "TeX" else False)
        ascent = max(height - descent, lp_height - lp_descent)
        descent = max(descent, lp_descent)
        y = self.height - y  # text arrives in the SVG's y-down coordinates
        if angle % 360 == 0:
            self._add(gc, x, y - descent, x + width, y + ascent)
            return
        c, s_ = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        corners = ((0, -descent), (width, -descent), (0, ascent), (width, ascent))
        self._add_points(gc, np.array([(x + u * c - v * s_, y + u * s_ + v * c) for u, v in corners]))

    # -- RendererSVG's drawing methods, measured ------------------------------------------
    def draw_path(self, gc, path, transform, rgbFace=None):
        if not self._paused:
            e = path.get_extents(transform)
            self._add(gc, e.x0, e.y0, e.x1, e.y1)
        super().draw_path(gc, path, transform, rgbFace)

    def draw_markers(self, gc, marker_path, marker_trans, path, trans, rgbFace=None):
        if not self._paused and len(path.vertices):
            self._add_points(gc, trans.transform(path.vertices), marker_path.get_extents(marker_trans))
        super().draw_markers(gc, marker_path, marker_trans, path, trans, rgbFace)

    def draw_path_collection(self, gc, master_transform, paths, all_transforms, offsets,
                             offset_trans, *args, **kwargs):
        if not self._paused and len(paths):
            e = get_path_collection_extents(master_transform, paths, all_transforms, offsets, offset_trans)
            self._add(gc, e.x0, e.y0, e.x1, e.y1)
        with self.unmeasured():  # it may draw each path through draw_path
            super().draw_path_collection(gc, master_transform, paths, all_transforms, offsets,
                                         offset_trans, *args, **kwargs)

    def draw_gouraud_triangles(self, gc, triangles_array, colors_array, transform):
        if not self._paused:
            self._add_points(gc, transform.transform(np.asarray(triangles_array).reshape(-1, 2)))
        super().draw_gouraud_triangles(gc, triangles_array, colors_array, transform)

    def draw_image(self, gc, x, y, im, transform=None):
        if not self._paused and transform is not None:  # placed by a matrix not followed here
            self.uncertain = True
        elif not self._paused:
            height, width = im.shape[:2]
            scale = 72.0 / self.image_dpi  # the image arrives in pixels at image_dpi
            self._add(gc, x, y, x + width * scale, y + height * scale)
        super().draw_image(gc, x, y, im, transform)

    # draw_text and draw_tex both end in one of these two.
    def _draw_text_as_path(self, gc, x, y, s, prop, angle, ismath, mtext=None):
        if not self._paused:
            self._add_text(gc, x, y, s, prop, angle, ismath)
        super()._draw_text_as_path(gc, x, y, s, prop, angle, ismath, mtext)

    def _draw_text_as_text(self, gc, x, y, s, prop, angle, ismath, mtext=None):
        if not self._paused:
            self._add_text(gc, x, y, s, prop, angle, ismath)
        super()._draw_text_as_text(gc, x, y, s, prop, angle, ismath, mtext)

