"""Rich output from a real kernel, as the console shows it: matplotlib figures
(SVG by default, PNG and retina PNG after %config), HTML tables, Markdown,
LaTeX, progress displays built on clear_output, and displays updated by id."""

from __future__ import annotations

import pytest

from console_helpers import make_console, run
from qtapp.console.images import RasterImage, SvgImage
from qtapp.console.latex import MathImage
from qtapp.console.richtext import DocumentObject
from rich_fixtures import PANDAS_HTML, SVG, count_colour, object_pixels, shown_objects

#: matplotlib's first line colour (tab:blue)
LINE = "#1f77b4"
PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2, 4], linewidth=3);"


@pytest.fixture
def console(qtbot, shared_km):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "%config InlineBackend.figure_formats = {'svg'}")  # as an earlier test may have left it
    console.clear()
    return console


def test_a_figure_arrives_as_svg_by_default_and_is_shown_as_an_image(qtbot, console):
    reply = run(qtbot, console, PLOT)
    assert reply["content"]["status"] == "ok"
    [figure] = shown_objects(console)
    assert isinstance(figure, SvgImage) and b"<svg" in figure.svg
    assert console.plain_text().rstrip().endswith("<Figure size 640x480 with 1 Axes>")  # copies as its text
    pixels = object_pixels(console, figure)
    assert pixels.width() > 300 and pixels.height() > 200
    assert count_colour(pixels, LINE, tolerance=30) > 200  # the plotted line is there
    assert count_colour(pixels, "#ffffff", step=2) > pixels.width() * pixels.height() // 8  # its white canvas


def test_after_switching_to_png_the_figure_is_a_png_of_the_same_size(qtbot, console):
    run(qtbot, console, PLOT)
    [svg] = shown_objects(console)
    run(qtbot, console, "%config InlineBackend.figure_format = 'png'")
    run(qtbot, console, PLOT)
    png = shown_objects(console)[-1]
    assert isinstance(png, RasterImage) and png.mime == "image/png"
    assert png.natural.width() == png.image.width()  # plain PNG: one pixel per CSS pixel
    # SVG sizes are points: read as such, the figure has the PNG's size (100 dpi vs 96 per inch)
    assert abs(svg.natural.width() / png.natural.width() - 0.96) < 0.04
    assert count_colour(object_pixels(console, png), LINE, tolerance=30) > 200


def test_retina_figures_are_shown_at_their_css_size(qtbot, console):
    run(qtbot, console, "%config InlineBackend.figure_format = 'retina'")
    run(qtbot, console, PLOT)
    [png] = shown_objects(console)
    assert isinstance(png, RasterImage)
    assert png.image.width() == 2 * round(png.natural.width())  # twice the pixels, metadata halves them
    pixels = object_pixels(console, png)
    assert abs(pixels.width() - png.shown.width()) <= 1
    assert count_colour(pixels, LINE, tolerance=40) > 200


def test_html_table_markdown_and_latex_render(qtbot, console):
    run(qtbot, console, "from IPython.display import HTML, Markdown, Math, display\n"
                        f"display(HTML({PANDAS_HTML!r}))\n"
                        "display(Markdown('## Summary\\n\\nThree **cities**.'))\n"
                        "display(Math(r'\\sum_{i=1}^n i = \\frac{n(n+1)}{2}'))")
    table, markdown, formula = shown_objects(console)
    assert isinstance(table, DocumentObject) and table.kind == "html"
    assert "Marseille" in table.document.toPlainText()
    assert count_colour(object_pixels(console, table), console.objects.style.rule.name()) > 200  # its grid
    assert isinstance(markdown, DocumentObject) and markdown.kind == "markdown"
    assert markdown.document.begin().text() == "Summary" and markdown.document.begin().blockFormat().headingLevel() == 2
    assert isinstance(formula, MathImage)
    ink = object_pixels(console, formula)
    assert ink.width() > 60 and count_colour(ink, console.theme.foreground, tolerance=60) > 30


def test_a_clear_output_progress_loop_leaves_one_line(qtbot, console):
    run(qtbot, console, "from IPython.display import clear_output, display\n"
                        "for i in range(20):\n"
                        "    clear_output(wait=True)\n"
                        "    display(f'progress {i * 5}%')\n")
    lines = console.plain_text().splitlines()
    assert lines[-1] == "'progress 95%'"
    assert not [line for line in lines if line.startswith("'progress") and line != "'progress 95%'"]


def test_clear_output_in_a_cell_leaves_earlier_cells_output_alone(qtbot, console):
    run(qtbot, console, "print('kept' + ' above')")
    run(qtbot, console, "from IPython.display import clear_output, display\n"
                        "for i in range(20):\n"
                        "    clear_output(wait=True)\n"
                        "    display(f'progress {i * 5}%')\n")
    lines = console.plain_text().splitlines()
    assert "kept above" in lines  # the earlier cell's output, not just its source
    assert [line for line in lines if line.startswith("'progress")] == ["'progress 95%'"]
    assert lines.index("kept above") < lines.index("'progress 95%'")


def test_an_image_display_is_updated_in_place_from_a_later_cell(qtbot, console):
    run(qtbot, console, "from IPython.display import SVG, display\n"
                        f"handle = display(SVG({SVG!r}), display_id=True)")
    run(qtbot, console, "print('a later cell')")
    [first] = shown_objects(console)
    run(qtbot, console, f"handle.update(SVG({SVG.replace('#ff0000', '#00ff00')!r}))")
    [second] = shown_objects(console)
    assert second is not first and b"#00ff00" in second.svg
    assert len(console.objects) == 1  # the old image was forgotten
    text = console.plain_text()
    assert text.index("<IPython.core.display.SVG object>") < text.index("a later cell")  # still above
    pixels = object_pixels(console, second)
    assert count_colour(pixels, "#00ff00") > 1000 and count_colour(pixels, "#ff0000") == 0


def test_jpeg_figures_are_shown_too(qtbot, console):
    run(qtbot, console, "%config InlineBackend.figure_format = 'jpeg'")
    run(qtbot, console, PLOT)
    [jpeg] = shown_objects(console)
    assert isinstance(jpeg, RasterImage) and jpeg.mime == "image/jpeg"
    assert count_colour(object_pixels(console, jpeg), LINE, tolerance=60) > 100
