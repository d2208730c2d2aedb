"""Save as HTML and Print with rich output from a real kernel: one
self-contained file where figures keep their exact bytes (SVG as SVG, PNG as
PNG), inputs keep their syntax colours and tables stay tables; printing
embeds images at full resolution."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from PyQt5.QtGui import QColor

from console_helpers import make_console, run
from qtapp.console.images import RasterImage, SvgImage
from rich_fixtures import PANDAS_HTML, shown_objects

PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2, 4]);"


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def decode(uri: str) -> tuple:
    m = re.match(r"data:([\w/+.-]+);base64,(.*)$", uri, re.DOTALL)
    assert m, uri[:60]
    return m.group(1), base64.b64decode(m.group(2))


def test_save_as_html_round_trips_figures_a_table_and_a_highlighted_input(qtbot, shared_km, tmp_path):
    console = make_console(qtbot, shared_km)
    run(qtbot, console, "%config InlineBackend.figure_formats = {'svg'}")
    run(qtbot, console, PLOT)
    run(qtbot, console, "%config InlineBackend.figure_format = 'png'")
    run(qtbot, console, PLOT)
    run(qtbot, console, "%config InlineBackend.figure_formats = {'svg'}")
    run(qtbot, console, f"from IPython.display import HTML\nHTML({PANDAS_HTML!r})")
    svg, png, table = shown_objects(console)
    assert isinstance(svg, SvgImage) and isinstance(png, RasterImage)

    path = tmp_path / "session.html"
    console.export_html(path)
    html = path.read_text(encoding="utf-8")
    parser = Images()
    parser.feed(html)
    exported = [decode(img["src"]) for img in parser.images]
    assert exported == [("image/svg+xml", svg.svg), ("image/png", png.encoded)]  # the kernel's own bytes
    assert [img["width"] for img in parser.images] == [str(round(svg.natural.width())),
                                                       str(round(png.natural.width()))]
    assert parser.images[0]["alt"] == "<Figure size 640x480 with 1 Axes>"
    # the input keeps its highlighting: "import" in the style's keyword colour, bold
    keyword = QColor(f"#{console.writer.token_formats.style.style_for_token(__import__('pygments.token').token.Keyword.Namespace)['color']}").name()
    assert re.search(rf'<span style="color:{keyword};font-weight:bold">import</span>', html)
    # the table is a table, in the file itself, with nothing to fetch or run
    assert "<table" in html and "Marseille" in html and "<script" not in html
    assert not re.search(r'(src|href)="(?!data:)', html)


def test_print_embeds_images_at_full_resolution(qtbot, shared_km, tmp_path):
    from PyQt5.QtPrintSupport import QPrinter

    console = make_console(qtbot, shared_km)
    run(qtbot, console, "%config InlineBackend.figure_format = 'png'")
    run(qtbot, console, PLOT)
    run(qtbot, console, "%config InlineBackend.figure_formats = {'svg'}")
    [png] = shown_objects(console)
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "t.pdf"))
    console.print_to(printer)
    pdf = (tmp_path / "t.pdf").read_bytes()
    widths = [int(w) for w in re.findall(rb"/Subtype /Image.*?/Width (\d+)", pdf, re.DOTALL)] or \
        [int(w) for w in re.findall(rb"/Width (\d+)", pdf)]
    assert png.image.width() in widths
