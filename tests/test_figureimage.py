"""The one-draw inline PNG and SVG (kernel.figureimage) against matplotlib's own
``savefig(bbox_inches="tight")``: the same picture, and a fallback whenever
one draw could not show all of it."""

from __future__ import annotations

import io

import pytest

matplotlib = pytest.importorskip("matplotlib")
np = pytest.importorskip("numpy")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from PIL import Image  # noqa: E402

from kernel.figureimage import tight_png, tight_svg  # noqa: E402

from test_inline import png_size  # noqa: E402


def figure(**kwargs) -> Figure:
    fig = Figure(figsize=(5, 4), **kwargs)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [0, 3, 2], label="line")
    ax.set_title("a title")
    ax.set_xlabel("x label")
    ax.legend()
    return fig


def savefig_png(fig: Figure, dpi: float) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor=fig.get_facecolor())
    return buffer.getvalue()


def pixels(png: bytes) -> "np.ndarray":
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def ink_box(img: "np.ndarray", background) -> tuple:
    ink = (img != np.array(background, np.uint8)).any(axis=2)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


@pytest.mark.parametrize("dpi", [72, 100, 200])
def test_the_picture_is_savefigs_tight_picture(dpi):
    fig = figure()
    ours, theirs = tight_png(fig, dpi), savefig_png(fig, dpi)
    assert ours is not None
    (w1, h1), (w2, h2) = png_size(ours), png_size(theirs)
    # savefig's box holds whole text boxes (descent included), ours the ink
    slack = max(4, round(0.04 * dpi))
    assert abs(w1 - w2) <= slack and abs(h1 - h2) <= slack, ((w1, h1), (w2, h2))
    a, b = pixels(ours), pixels(theirs)
    white = (255, 255, 255, 255)
    top_a, bottom_a, left_a, right_a = ink_box(a, white)
    top_b, bottom_b, left_b, right_b = ink_box(b, white)
    # the same drawing: equally big, with the pad as margin on every side
    assert abs((bottom_a - top_a) - (bottom_b - top_b)) <= 2
    assert abs((right_a - left_a) - (right_b - left_b)) <= 2, "the drawings differ"
    pad = round(matplotlib.rcParams["savefig.pad_inches"] * dpi)
    assert (top_a, left_a) == (pad, pad)
    assert (h1 - 1 - bottom_a, w1 - 1 - right_a) == (pad, pad)
    # and the same ink where the two overlap once aligned on the drawing
    h, w = min(bottom_a - top_a, bottom_b - top_b), min(right_a - left_a, right_b - left_b)
    crop_a = a[top_a:top_a + h, left_a:left_a + w, :3].astype(int)
    crop_b = b[top_b:top_b + h, left_b:left_b + w, :3].astype(int)
    assert np.abs(crop_a - crop_b).mean() < 12  # antialiasing of a sub-pixel shift at most


def test_the_figure_colour_is_the_background_and_the_pad():
    fig = figure(facecolor="#203040")
    img = pixels(tight_png(fig, 100))
    assert tuple(img[0, 0]) == (0x20, 0x30, 0x40, 255)
    assert tuple(img[-1, -1]) == (0x20, 0x30, 0x40, 255)


def test_the_figures_dpi_is_left_as_it_was():
    fig = figure()
    assert tight_png(fig, 2 * fig.dpi) is not None
    assert fig.dpi == 100


def test_an_artist_beyond_the_edge_is_left_to_savefig():
    fig = figure()
    fig.text(0.9, 0.5, "a note that runs past the right edge of the figure")
    assert tight_png(fig, 100) is None


def test_an_image_filling_the_figure_is_left_to_savefig():
    fig = Figure(figsize=(2, 2))
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.imshow(np.random.default_rng(0).random((8, 8)))
    assert tight_png(fig, 100) is None


def test_a_transparent_save_is_left_to_savefig():
    fig = figure()
    with matplotlib.rc_context({"savefig.transparent": True}):
        assert tight_png(fig, 100) is None


def test_a_figure_with_nothing_drawn_is_left_to_savefig():
    fig = Figure(figsize=(2, 2))
    FigureCanvasAgg(fig)
    assert tight_png(fig, 100) is None


def test_a_label_cut_by_the_edge_is_left_to_savefig():
    """At 4x3 inches the x label hangs below the figure: a tight save shows it whole."""
    fig = figure()
    fig.set_size_inches(4, 3)
    assert tight_png(fig, 100) is None


def savefig_svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", facecolor=fig.get_facecolor())
    return buffer.getvalue()


def svg_root(svg: str):
    import xml.etree.ElementTree as ET

    return ET.fromstring(svg.encode())


def view_box(svg: str) -> tuple:
    root = svg_root(svg)
    x, y, w, h = map(float, root.get("viewBox").split())
    assert root.get("width") == f"{w:.6g}pt" and root.get("height") == f"{h:.6g}pt"
    return x, y, w, h


def test_the_svg_has_savefigs_tight_size_and_the_same_drawing():
    fig = figure()
    ours, theirs = svg_root(tight_svg(fig)), svg_root(savefig_svg(fig))
    for attribute in ("width", "height"):
        a, b = float(ours.get(attribute)[:-2]), float(theirs.get(attribute)[:-2])
        assert ours.get(attribute).endswith("pt") and abs(a - b) < 1, (attribute, a, b)
    # The view is the cropped part of the whole figure's coordinates.
    x, y, w, h = view_box(tight_svg(fig))
    assert x > 0 and y > 0
    pad = matplotlib.rcParams["savefig.pad_inches"] * 72
    assert x + w <= 5 * 72 + pad and y + h <= 4 * 72 + pad
    # every text of the figure is in it
    texts = lambda root: sorted(el.text for el in root.iter() if el.tag.endswith("}text") and el.text)  # noqa: E731
    assert texts(ours) == texts(theirs)
    assert fig.dpi == 100


def _rng():
    return np.random.default_rng(7)


#: Figures of many kinds, each fitting its 6x5 inches, so one draw can crop it.
GALLERY = {
    "plot and legend": lambda fig: figure_axes(fig).plot([0, 1, 2], [0, 3, 2], label="a")
    and fig.axes[0].legend(),
    "scatter and colour bar": lambda fig: fig.colorbar(figure_axes(fig).scatter(
        *_rng().random((2, 40)), s=80, c=_rng().random(40))),
    "image": lambda fig: figure_axes(fig).imshow(_rng().random((20, 30))),
    "image, axes off": lambda fig: (figure_axes(fig).imshow(_rng().random((20, 30))), fig.axes[0].axis("off")),
    "bars": lambda fig: figure_axes(fig).bar(["a", "bb", "ccc"], [3, 1, 2]),
    "2x2 and a suptitle": lambda fig: ([ax.plot(_rng().random(5)) for ax in fig.subplots(2, 2).flat],
                                       fig.suptitle("four")),
    "mathtext": lambda fig: figure_axes(fig).set_title(r"$\alpha^2 + \int_0^1 f(x)\,dx$"),
    "polar": lambda fig: fig.add_subplot(projection="polar").plot(np.linspace(0, 6, 50), np.linspace(0, 1, 50)),
    "mesh and colour bar": lambda fig: fig.colorbar(figure_axes(fig).pcolormesh(_rng().random((8, 8)))),
    "contours": lambda fig: (figure_axes(fig).contourf(*np.meshgrid(np.arange(9), np.arange(9)),
                                                       np.add.outer(np.arange(9), np.arange(9)))),
    "log scales, grid": lambda fig: (figure_axes(fig).loglog([1, 10, 100], [1, 100, 1e4]),
                                     fig.axes[0].grid(True, which="both")),
    "annotation and text box": lambda fig: (
        figure_axes(fig).annotate("peak", xy=(1, 1), xytext=(0.3, 0.8), arrowprops={"arrowstyle": "->"}),
        fig.axes[0].text(0.1, 0.1, "boxed", bbox={"facecolor": "yellow"})),
    "pie (axes box wider than what is drawn)": lambda fig: fig.add_subplot().pie([1, 2, 3], labels="abc"),
    "3d": lambda fig: fig.add_subplot(projection="3d").plot([0, 1, 2], [0, 1, 0], [0, 2, 1]),
    "big markers": lambda fig: figure_axes(fig).plot([0, 1, 2], [0, 1, 0], "s", markersize=30),
    "rasterized line": lambda fig: figure_axes(fig).plot(_rng().random(50), rasterized=True),
    "violins and boxes": lambda fig: (figure_axes(fig).violinplot([_rng().normal(size=50)]),
                                      fig.axes[0].boxplot([_rng().normal(size=50)])),
    "gouraud triangles": lambda fig: figure_axes(fig).tripcolor(*_rng().random((3, 12)), shading="gouraud"),
    "rotated labels": lambda fig: fig.add_subplot().set_xticks([0, 1], ["first", "second"], rotation=30),
    "two-line title": lambda fig: figure_axes(fig).set_title("first line\nsecond line"),
    "two-line rotated label": lambda fig: fig.add_subplot().set_ylabel("first line\nsecond line"),
}


def figure_axes(fig: Figure):
    ax = fig.add_subplot()
    ax.set_xlabel("x label")
    return ax


@pytest.mark.parametrize("kind", GALLERY)
def test_the_svg_crop_is_matplotlibs_tight_box_for_every_kind_of_figure(kind):
    """Measured as it draws, the crop is the box ``savefig(bbox_inches="tight")``
    computes by asking every artist afterwards, to within a point or two."""
    fig = Figure(figsize=(6, 5))
    FigureCanvasAgg(fig)
    GALLERY[kind](fig)
    svg = tight_svg(fig)
    assert svg is not None, "this figure fits its canvas: one draw can crop it"
    box = fig.get_tightbbox().padded(matplotlib.rcParams["savefig.pad_inches"])
    expected = (box.x0 * 72, (5 - box.y1) * 72, box.width * 72, box.height * 72)
    # Text of several lines lacks the half line gap above and below it.
    points = 2.5 if "two-line" in kind else 1.5
    assert view_box(svg) == pytest.approx(expected, abs=points)
    assert float(svg_root(savefig_svg(fig)).get("width")[:-2]) == pytest.approx(view_box(svg)[2], abs=points)


def test_an_svg_of_subfigures_or_an_unscaled_image_is_left_to_savefig():
    fig = Figure(figsize=(5, 4))
    FigureCanvasAgg(fig)
    fig.subfigures(1, 2)[0].add_subplot().plot([0, 1])
    assert tight_svg(fig) is None  # a subfigure's background would count as drawn
    fig = Figure(figsize=(5, 4))
    FigureCanvasAgg(fig)
    fig.add_subplot().imshow(np.eye(4), interpolation="none")  # drawn through a transform
    assert tight_svg(fig) is None


def test_the_svg_crop_leaves_the_figure_as_it_was():
    fig = figure()
    before = (fig.dpi, fig.patch.draw, fig.get_size_inches().tolist())
    tight_svg(fig)
    assert (fig.dpi, fig.patch.draw, fig.get_size_inches().tolist()) == before
    assert "draw" not in vars(fig.patch)


def test_the_svgs_pad_past_the_figures_edge_has_the_figures_colour():
    """The x label ends just above the bottom of a 5x4 figure: the pad below
    it lies outside the figure, where the background must go on."""
    fig = figure(facecolor="#203040")
    root = svg_root(tight_svg(fig))
    _, y, _, h = map(float, root.get("viewBox").split())
    assert y + h > 4 * 72  # the view reaches past the bottom edge
    [under] = [el for el in root if el.tag.endswith("}rect")]
    assert under.get("fill") == "#203040" and float(under.get("fill-opacity")) == 1
    assert (float(under.get("y")), float(under.get("height"))) == (y, h)


def test_an_svg_with_artists_past_the_edge_is_left_to_savefig():
    fig = figure()
    fig.text(0.9, 0.5, "a note that runs past the right edge of the figure")
    assert tight_svg(fig) is None
