"""Behaviour shared by the console's text widgets, as mixins placed before
the Qt class (``class InputEditor(KeysFirst, QPlainTextEdit)``).

- :class:`KeysFirst`: keys go to the console's command dispatch
  (``key_handler``) before the widget's own handling, and the keys it claims
  (``override_check``) before window-level shortcuts can take them.
- :class:`CtrlWheelZoom`: Ctrl + wheel emits the widget's
  ``zoom_requested(step)`` signal (which the widget class declares: signals
  live on Qt classes) instead of scrolling.
"""

from __future__ import annotations

from typing import Callable, Optional

from PyQt5.QtCore import QEvent, Qt
from PyQt5.QtGui import QKeyEvent

KeyHandler = Callable[[QKeyEvent], bool]


class KeysFirst:
    key_handler: Optional[KeyHandler] = None
    override_check: Optional[KeyHandler] = None

    def event(self, event) -> bool:
        if event.type() == QEvent.ShortcutOverride and self.override_check is not None \
                and self.override_check(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if self.key_handler is not None and self.key_handler(event):
            event.accept()
            return
        super().keyPressEvent(event)


class CtrlWheelZoom:
    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.modifiers() & Qt.ControlModifier:
            self.zoom_requested.emit(1 if event.angleDelta().y() > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)
