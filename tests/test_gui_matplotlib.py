"""%matplotlib qt5 / tk in a real kernel: figure windows are live between
requests (a mouse drag pans and zooms while the console is idle), plt.show()
does not block, and %matplotlib inline goes back to inline figures."""

from __future__ import annotations

import ast

import pytest

from guikernel import ok, value, wait_for_lines
from helpers import stdout_of

FIGURE = """
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.plot(range(10))
_events = open({events!r}, "a")
def _note(text):
    _events.write(text + "\\n")
    _events.flush()
fig.canvas.mpl_connect("button_release_event", lambda event: _note("released"))
plt.show()   # interactive: returns at once
"""

# Mouse events are queued, not delivered: only the kernel's idle loop can
# deliver them, after the request that queued them has ended.
QT_DRAG = """
from PyQt5 import QtCore, QtGui, QtWidgets
def drag(fraction0, fraction1):
    canvas = fig.canvas
    w, h = canvas.width(), canvas.height()
    (x0, y0), (x1, y1) = [(fx * w, fy * h) for fx, fy in (fraction0, fraction1)]
    E, Q, P = QtCore.QEvent, QtCore.Qt, QtCore.QPointF
    post = QtWidgets.QApplication.postEvent
    post(canvas, QtGui.QMouseEvent(E.MouseButtonPress, P(x0, y0), Q.LeftButton, Q.LeftButton, Q.NoModifier))
    for i in range(1, 6):
        x, y = x0 + (x1 - x0) * i / 5, y0 + (y1 - y0) * i / 5
        post(canvas, QtGui.QMouseEvent(E.MouseMove, P(x, y), Q.NoButton, Q.LeftButton, Q.NoModifier))
    post(canvas, QtGui.QMouseEvent(E.MouseButtonRelease, P(x1, y1), Q.LeftButton, Q.NoButton, Q.NoModifier))
"""

TK_DRAG = """
def drag(fraction0, fraction1):
    widget = fig.canvas.get_tk_widget()
    w, h = widget.winfo_width(), widget.winfo_height()
    (x0, y0), (x1, y1) = [(int(fx * w), int(fy * h)) for fx, fy in (fraction0, fraction1)]
    widget.event_generate("<ButtonPress-1>", x=x0, y=y0, when="tail")
    for i in range(1, 6):
        x, y = x0 + (x1 - x0) * i // 5, y0 + (y1 - y0) * i // 5
        widget.event_generate("<B1-Motion>", x=x, y=y, when="tail")
    widget.event_generate("<ButtonRelease-1>", x=x1, y=y1, when="tail")
"""


def xlim(kc) -> tuple:
    return tuple(float(v) for v in ast.literal_eval(value(kc, "tuple(map(float, ax.get_xlim()))")))


def zoom_then_pan(kc, events) -> None:
    """Drag in zoom mode, then in pan mode, while the kernel is idle."""
    left, right = xlim(kc)
    ok(kc, "fig.canvas.manager.toolbar.zoom(); drag((0.3, 0.3), (0.6, 0.6))")
    wait_for_lines(events, 1, "the zoom drag delivered while idle")
    zl, zr = xlim(kc)
    assert left < zl < zr < right and (zr - zl) < 0.6 * (right - left), (left, right, zl, zr)

    ok(kc, "fig.canvas.manager.toolbar.pan(); drag((0.5, 0.5), (0.3, 0.5))")
    wait_for_lines(events, 2, "the pan drag delivered while idle")
    pl, pr = xlim(kc)
    assert pl > zl and pr > zr  # dragged left: the view moved right
    assert pr - pl == pytest.approx(zr - zl)  # panning keeps the scale


def back_to_inline(kc, loop_running_expr: str) -> None:
    ok(kc, "%matplotlib inline")
    assert value(kc, loop_running_expr) == "False"
    # (figures still open from the GUI backend are shown inline too, as in IPython)
    msgs = ok(kc, "plt.figure(); plt.plot([1, 2, 1]); plt.show()")
    images = [m for m in msgs if m["msg_type"] == "display_data"
              and any(k.startswith("image/") for k in m["content"]["data"])]
    assert images


def test_matplotlib_qt5_window_pans_and_zooms_while_idle(kc, tmp_path):
    events = tmp_path / "events"
    # On the offscreen platform with no DISPLAY matplotlib calls the session
    # headless unless a QApplication exists: %gui qt5 first makes one.
    ok(kc, "%gui qt5")
    ok(kc, "%matplotlib qt5")
    ok(kc, FIGURE.format(events=str(events)))
    assert value(kc, "plt.get_backend().lower(), fig.canvas.manager.window.isVisible()") == "qt5agg True"
    ok(kc, QT_DRAG)
    zoom_then_pan(kc, events)
    back_to_inline(kc, "__import__('kernel.guisupport').guisupport.is_event_loop_running_qt5()")


@pytest.fixture
def xkc(display):
    """A client of a fresh kernel whose DISPLAY is the private X server."""
    from kernel.manager import KernelManager

    manager = KernelManager(env={"DISPLAY": display})
    manager.start()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield client
    client.stop_channels()
    manager.shutdown(now=True)


def test_matplotlib_qt5_alone_starts_the_loop(xkc, tmp_path):
    ok(xkc, "%matplotlib qt5")
    ok(xkc, FIGURE.format(events=str(tmp_path / "events")))
    assert value(xkc, "__import__('kernel.guisupport').guisupport.is_event_loop_running_qt5()") == "True"
    assert value(xkc, "fig.canvas.manager.window.isVisible()") == "True"


def test_matplotlib_tk_window_pans_and_zooms_while_idle(xkc, tmp_path):
    events, mapped = tmp_path / "events", tmp_path / "mapped"
    ok(xkc, "%matplotlib tk")
    ok(xkc, FIGURE.format(events=str(events)) +
       f"fig.canvas.get_tk_widget().bind('<Map>', lambda e: open({str(mapped)!r}, 'a').write('mapped\\n'))\n")
    wait_for_lines(mapped, 1, "the figure window mapped while idle")
    assert value(xkc, "plt.get_backend().lower()") == "tkagg"
    ok(xkc, TK_DRAG)
    zoom_then_pan(xkc, events)
    back_to_inline(xkc, "__import__('kernel.guisupport').guisupport.is_event_loop_running_tk()")


def test_plt_show_does_not_block_and_the_console_keeps_working(xkc, tmp_path):
    ok(xkc, "%matplotlib tk")
    msgs = ok(xkc, FIGURE.format(events=str(tmp_path / "events")) + "print('after show')")
    assert stdout_of(msgs) == "after show\n"
    assert value(xkc, "len(plt.get_fignums())") == "1"
