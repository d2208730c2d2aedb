"""``--export-on-exit FILE``: each window's transcript saved as HTML when it closes.

For scripted sessions (and the real-window test): whatever ends the window
(File > Quit, the window manager, SIGTERM), the transcript is written with
the console's own HTML export before the console and its kernel go away.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt5.QtCore import QEvent, QObject
from PyQt5.QtWidgets import QMainWindow

log = logging.getLogger(__name__)


def numbered(path: Path, n: int) -> Path:
    """FILE for the first window, FILE-2, FILE-3... (before the suffix) for the others."""
    return path if n <= 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")


class ExportOnClose(QObject):
    """Watches one window; writes its console's transcript to ``path`` once, on close."""

    def __init__(self, window: QMainWindow, path: Path):
        super().__init__(window)
        self.window = window
        self.path = path
        self.done = False
        window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.window and event.type() == QEvent.Close and not self.done:
            self.done = True
            try:
                self.window.console.export_html(self.path)
            except OSError as exc:
                log.error("cannot save the transcript to %s: %s", self.path, exc.strerror or exc)
            else:
                log.info("transcript saved to %s", self.path)
        return False
