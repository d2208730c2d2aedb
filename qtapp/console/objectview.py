"""Keeps the transcript's inline objects in step with the view they are shown in.

- zoom and font: objects scale with the console's font (an image at zoom 0
  is shown at its own size);
- room: no object is taller than the view (the transcript scrolls by lines,
  so a taller one could not be seen whole); when the view's height changes,
  the lines holding objects are laid out again;
- colours: a theme change re-renders what depends on it (formulas, tables);
- screen: the logical DPI, so printing keeps objects' size on paper;
- the right-click menu offers an object's own actions (copy or save an image);
- copying a selection gives each object's text (its ``text/plain``).
"""

from __future__ import annotations

import logging
from typing import Optional

from PyQt5.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, QTimer
from PyQt5.QtGui import QColor, QFont
from PyQt5.QtWidgets import QMenu

from .renderers import InlineObject, InlineObjectHost
from .theme import Theme
from .transcript import Transcript

log = logging.getLogger(__name__)

#: The smallest height objects are limited to, whatever the view's size.
MIN_OBJECT_HEIGHT = 120.0
#: Lines of text kept visible around the tallest object.
SPARE_LINES = 1.5
RELAYOUT_DELAY_MS = 100
#: How far from the background toward the text table grids are drawn.
RULE_TINT = 0.22


class ObjectView(QObject):
    def __init__(self, transcript: Transcript, host: InlineObjectHost, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.transcript = transcript
        self.host = host
        self._base_point_size = 0.0
        view = transcript.view
        host.screen_dpi = float(view.logicalDpiX()) or 96.0
        transcript.object_text = host.text_at
        transcript.menu_extenders.append(self._extend_menu)
        view.viewport().installEventFilter(self)
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(RELAYOUT_DELAY_MS)
        self._relayout.timeout.connect(self.host.relayout)
        self._update_room()

    # -- following the view ---------------------------------------------------------------
    def set_font(self, font: QFont, base_point_size: float) -> None:
        """The console's font changed (zoom or a new font); call before the
        transcript is laid out with it."""
        scale = font.pointSizeF() / base_point_size if base_point_size > 0 else 1.0
        self.host.set_style(font=QFont(font), scale=scale)
        self._update_room()

    def set_theme(self, theme: Theme) -> None:
        self.host.set_style(foreground=QColor(theme.foreground), background=QColor(theme.background))
        self.host.set_style(rule=self.host.style.tint(RULE_TINT))
        self.transcript.view.viewport().update()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Resize and self._update_room():
            self._relayout.start()  # once the resizing settles
        return False

    def _max_height(self) -> float:
        view = self.transcript.view
        line = view.fontMetrics().lineSpacing()
        margin = 2 * view.document().documentMargin()
        return max(MIN_OBJECT_HEIGHT, view.viewport().height() - margin - SPARE_LINES * line)

    def _update_room(self) -> bool:
        """Follow the view's height; True if it changed."""
        height = self._max_height()
        if abs(height - self.host.style.max_height) < 1:
            return False
        self.host.style.max_height = height
        return True

    # -- finding an object under the mouse ---------------------------------------------------------
    def object_at(self, pos: QPoint) -> Optional[InlineObject]:
        """The inline object drawn at viewport position ``pos``, if any."""
        cursor = self.transcript.view.cursorForPosition(pos)
        for position in (cursor.position(), cursor.position() - 1):
            obj = self.host.at(position) if position >= 0 else None
            if obj is not None and self._rect_of(position, obj).contains(QPointF(pos)):
                return obj
        block = cursor.block()  # the click may be beside the object, on its line
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            it += 1
            if frag.isValid() and frag.text() == "\ufffc":
                obj = self.host.at(frag.position())
                if obj is not None and self._rect_of(frag.position(), obj).contains(QPointF(pos)):
                    return obj
        return None

    def _rect_of(self, position: int, obj: InlineObject) -> QRectF:
        view = self.transcript.view
        block = self.transcript.document.findBlock(position)
        layout = block.layout()
        if layout is None:
            return QRectF()
        in_block = position - block.position()
        line = layout.lineForTextPosition(in_block)
        if not line.isValid():
            return QRectF()
        origin = view.blockBoundingGeometry(block).translated(view.contentOffset()).topLeft()
        size = getattr(obj, "shown", None)
        width = size.width() if size is not None else line.naturalTextWidth()
        height = size.height() if size is not None else line.height()
        x, _ = line.cursorToX(in_block)
        top = line.y() + line.ascent() - height
        return QRectF(origin.x() + x, origin.y() + top, width, height)

    def _extend_menu(self, menu: QMenu, pos: QPoint) -> None:
        obj = self.object_at(pos)
        actions = getattr(obj, "context_actions", None)
        if not callable(actions):
            return
        menu.addSeparator()
        for text, callback in actions(self.transcript.view):
            action = menu.addAction(text)
            action.triggered.connect(lambda _checked=False, cb=callback: cb())
