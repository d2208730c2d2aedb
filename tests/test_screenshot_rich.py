"""Screenshots of a rich session (a plot, a table, a formula, a call tip and
the help pager), light and dark, kept in test-artifacts/ for a person to look
at; the test checks what a person would see first."""

from __future__ import annotations

from pathlib import Path

from console_helpers import TIMEOUT_MS, run
from rich_fixtures import PANDAS_HTML, count_colour, shown_objects
from test_mainwindow import open_window

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

#: A stand-in for a pandas DataFrame (pandas need not be installed): the same HTML.
TABLE_CLASS = f"""
class Table:
    def __init__(self, **columns):
        self.columns = columns
    def _repr_html_(self):
        return {PANDAS_HTML!r}
    def __repr__(self):
        return 'Table'
"""

SESSION = [
    "import numpy as np\nimport matplotlib.pyplot as plt\n"
    "x = np.linspace(0, 2 * np.pi, 200)\n"
    "fig, ax = plt.subplots(figsize=(6, 2.6))\n"
    "ax.plot(x, np.sin(x), label='sin')\nax.plot(x, np.cos(x), label='cos')\n"
    "ax.legend(loc='upper right'); ax.set_title('Two waves');",
    "cities = Table(city=['Paris', 'Lyon', 'Marseille'], population=[2148000, 513000, 861000],\n"
    "               area_km2=[105.4, 47.9, 240.6])\ncities",
    "from IPython.display import Math, display\ndisplay(Math(r'\\int_0^{2\\pi} \\sin^2 x \\, dx = \\pi'))",
    "def area(width, height=1.0, *, unit='m'):\n"
    "    '''Area of a rectangle.\n\n    Multiplies width by height; the unit is only a label.'''\n"
    "    return width * height\n",
]


def test_screenshots_of_a_plot_a_table_and_a_call_tip(qtbot, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    window, _, _ = open_window(qtbot, tmp_path)
    window.resize(1000, 860)
    console = window.console
    with qtbot.waitSignal(console.executed, timeout=TIMEOUT_MS):
        console.execute(TABLE_CLASS, hidden=True)
    for code in SESSION:
        reply = run(qtbot, console, code)
        assert reply["content"]["status"] == "ok", reply["content"]
    plot, table, formula = shown_objects(console)
    qtbot.keyClicks(console.editor, "area(")
    qtbot.waitUntil(lambda: console.calltips.visible, timeout=TIMEOUT_MS)
    console.plain_text()  # everything drawn
    for theme in ("light", "dark"):
        window.actions[f"theme_{theme}"].trigger()
        qtbot.wait(50)  # let the new colours paint (nothing to wait on: a repaint is asynchronous)
        image = window.grab().toImage()
        assert image.save(str(ARTIFACTS / f"console-rich-{theme}.png"))
        tip = console.calltips.widget.geometry()
        assert tip.isValid() and console.calltips.visible
        tip_pixels = image.copy(console.mapTo(window, tip.topLeft()).x(), console.mapTo(window, tip.topLeft()).y(),
                                tip.width(), tip.height())
        assert count_colour(tip_pixels, console.theme.gutter, step=2) > tip.width() * tip.height() // 16
        assert count_colour(image, "#1f77b4", tolerance=30, step=2) > 50  # the sine, in matplotlib's blue
    assert plot.shown.width() > 400 and table.document.toPlainText().count("\n") >= 3 and formula.shown.width() > 80
    console.calltips.hide()
    console.paging = "pager"
    run(qtbot, console, "area??")
    assert console.pager.isVisible()
    window.actions["theme_light"].trigger()
    qtbot.wait(50)
    assert window.grab().save(str(ARTIFACTS / "console-pager.png"))
