"""The main window's tabs: one console per tab, titles editable in place.

Double-clicking a tab (or Rename tab) puts a line editor over its title:
Enter keeps the new title, Escape or an empty title keeps the old one.
"""

from __future__ import annotations

import logging
from typing import List, Optional

from PyQt5.QtCore import QEvent, QObject, Qt, pyqtSignal
from PyQt5.QtGui import QKeyEvent
from PyQt5.QtWidgets import QLineEdit, QTabWidget, QWidget

from .console.widget import ConsoleWidget

log = logging.getLogger(__name__)

MAX_TITLE = 60


class TitleEditor(QLineEdit):
    """A line editor laid over one tab's title."""

    done = pyqtSignal(str)  # the new title, or "" to keep the old one

    def __init__(self, parent: QWidget, text: str):
        super().__init__(text, parent)
        self.setObjectName("tab_title_editor")
        self.setMaxLength(MAX_TITLE)
        self.selectAll()
        self._finished = False
        self.returnPressed.connect(lambda: self._finish(self.text()))
        self.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.KeyPress and isinstance(event, QKeyEvent) and event.key() == Qt.Key_Escape:
            self._finish("")
            return True
        if event.type() == QEvent.FocusOut:
            self._finish(self.text())
        return False

    def _finish(self, text: str) -> None:
        if self._finished:
            return
        self._finished = True
        self.done.emit(" ".join(text.split()))
        self.hide()
        self.deleteLater()


class ConsoleTabs(QTabWidget):
    """Tabs holding ConsoleWidgets."""

    #: the console shown now (None when the last tab went)
    current_console_changed = pyqtSignal(object)
    #: a tab's close button was clicked: its console
    close_requested = pyqtSignal(object)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("console_tabs")
        self.setDocumentMode(True)
        self.setMovable(True)
        self.setTabsClosable(True)
        self.setElideMode(Qt.ElideRight)
        self.editor: Optional[TitleEditor] = None
        self._numbers = 0
        self.tabBar().tabBarDoubleClicked.connect(self.edit_title)
        self.tabCloseRequested.connect(lambda i: self.close_requested.emit(self.widget(i)))
        self.currentChanged.connect(lambda _i: self.current_console_changed.emit(self.current_console()))

    def consoles(self) -> List[ConsoleWidget]:
        return [self.widget(i) for i in range(self.count())]

    def current_console(self) -> Optional[ConsoleWidget]:
        widget = self.currentWidget()
        return widget if isinstance(widget, ConsoleWidget) else None

    def next_title(self) -> str:
        self._numbers += 1
        return f"Console {self._numbers}"

    def add_console(self, console: ConsoleWidget, title: Optional[str] = None) -> int:
        index = self.addTab(console, title or self.next_title())
        self.setCurrentIndex(index)
        return index

    def title_of(self, console: ConsoleWidget) -> str:
        return self.tabText(self.indexOf(console))

    # -- renaming --------------------------------------------------------------------
    def edit_title(self, index: int = -1) -> None:
        """Put an editor over tab ``index`` (default: the current one)."""
        if index < 0:
            index = self.currentIndex()
        if index < 0:
            return
        bar = self.tabBar()
        if not bar.isVisible():
            bar.show()
        rect = bar.tabRect(index)
        editor = TitleEditor(bar, self.tabText(index))
        editor.setGeometry(rect.adjusted(2, 2, -2, -2))
        console = self.widget(index)
        editor.done.connect(lambda text, c=console: self._rename(c, text))
        editor.show()
        editor.setFocus()
        self.editor = editor

    def _rename(self, console: QWidget, text: str) -> None:
        self.editor = None
        index = self.indexOf(console)
        if text and index >= 0:
            self.setTabText(index, text)
        if isinstance(console, ConsoleWidget):
            console.setFocus()
