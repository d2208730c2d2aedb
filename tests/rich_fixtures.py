"""Data for rich output tests: an SVG with known geometry, a PNG of
one-pixel stripes (any resampling turns it grey), and the HTML pandas
writes for a small DataFrame (pandas itself need not be installed)."""

from __future__ import annotations

import base64

from PyQt5.QtCore import QBuffer, QByteArray, QIODevice
from PyQt5.QtGui import QColor, QImage

#: 150 x 75 pt, that is 200 x 100 CSS pixels: a blue square, then red.
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="150pt" height="75pt" viewBox="0 0 150 75">'
       '<rect x="0" y="0" width="150" height="75" fill="#ff0000"/>'
       '<rect x="0" y="0" width="75" height="75" fill="#0000ff"/></svg>')

PANDAS_HTML = """<div>
<style scoped>
    .dataframe tbody tr th:only-of-type {
        vertical-align: middle;
    }

    .dataframe tbody tr th {
        vertical-align: top;
    }

    .dataframe thead th {
        text-align: right;
    }
</style>
<table border="1" class="dataframe">
  <thead>
    <tr style="text-align: right;">
      <th></th>
      <th>city</th>
      <th>population</th>
      <th>area_km2</th>
    </tr>
  </thead>
  <tbody>
    <tr>
      <th>0</th>
      <td>Paris</td>
      <td>2148000</td>
      <td>105.4</td>
    </tr>
    <tr>
      <th>1</th>
      <td>Lyon</td>
      <td>513000</td>
      <td>47.9</td>
    </tr>
    <tr>
      <th>2</th>
      <td>Marseille</td>
      <td>861000</td>
      <td>240.6</td>
    </tr>
  </tbody>
</table>
</div>"""

PANDAS_TEXT = ("        city  population  area_km2\n"
               "0      Paris     2148000     105.4\n"
               "1       Lyon      513000      47.9\n"
               "2  Marseille      861000     240.6")


def stripes(width: int = 400, height: int = 200) -> QImage:
    """Alternating black and white columns, one pixel wide."""
    image = QImage(width, height, QImage.Format_RGB32)
    for x in range(width):
        colour = QColor("#000000") if x % 2 == 0 else QColor("#ffffff")
        for y in range(height):
            image.setPixelColor(x, y, colour)
    return image


def png_base64(image: QImage) -> str:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    assert image.save(buffer, "PNG")
    return base64.b64encode(bytes(data)).decode("ascii")


# -- looking at what a console shows ------------------------------------------------------------

def shown_objects(console, kinds=("display", "result")) -> list:
    """The inline objects in the transcript, oldest first."""
    console.queue.flush()
    found = []
    for seg in console.transcript.segments:
        if seg.kind in kinds and not seg.removed:
            found += [console.objects.get(i) for i in seg.meta.get("objects", ()) if console.objects.get(i)]
    return found


def object_pixels(console, obj) -> QImage:
    """What the transcript shows where ``obj`` is (scrolled into view first)."""
    from PyQt5.QtGui import QTextCursor

    view = console.transcript.view
    position = console.objects.position_of(obj)
    cursor = QTextCursor(view.document())
    cursor.setPosition(position)
    view.setTextCursor(cursor)
    view.ensureCursorVisible()
    view.viewport().repaint()
    rect = console.object_view._rect_of(position, obj).toRect()
    assert rect.width() > 10 and rect.height() > 10, rect
    return view.viewport().grab(rect).toImage()


def count_colour(image: QImage, colour: str, tolerance: int = 0, step: int = 1) -> int:
    target = QColor(colour)
    n = 0
    for x in range(0, image.width(), step):
        for y in range(0, image.height(), step):
            c = image.pixelColor(x, y)
            if abs(c.red() - target.red()) + abs(c.green() - target.green()) + abs(c.blue() - target.blue()) \
                    <= tolerance:
                n += 1
    return n
