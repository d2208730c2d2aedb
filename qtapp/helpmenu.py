"""The Help menu's windows: the keyboard shortcuts in force, and About.

Both are built from live state when opened: the shortcuts from the
window's keymap and actions as configured, About from the running Qt and
from the kernel's own ``kernel_info_reply``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel, QLineEdit,
                             QMessageBox, QTableWidget, QTableWidgetItem, QVBoxLayout)

from . import logsetup
from .about import about_html, component_versions, kernel_versions
from .icons import app_icon
from .shortcuts import Command, commands, shown_keys

if TYPE_CHECKING:
    from .mainwindow import MainWindow

KIND_TITLES = {"console": "Console", "menu": "Menu"}


class ShortcutsDialog(QDialog):
    """Every command with its keys now, and its name for the config file's [keys] table."""

    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.commands: List[Command] = sorted(commands(window), key=lambda c: (c.kind != "console", not c.keys))
        layout = QVBoxLayout(self)
        path = window.prefs.config.path
        where = f"the [keys] table of {path}" if path else "the [keys] table of the config file"
        intro = QLabel(f"Keys in force. Change them in {where} (qtapp --generate-config writes a documented one).",
                       self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter by key, command or name")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        layout.addWidget(self.filter)
        self.table = QTableWidget(len(self.commands), 4, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Command", "Where", "Config name"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        for row, command in enumerate(self.commands):
            cells = (shown_keys(command), command.description, KIND_TITLES.get(command.kind, command.kind),
                     command.name)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeToContents)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(880, 600)

    def rows(self) -> List[List[str]]:
        """The table as text (what a user reads)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount()) if not self.table.isRowHidden(r)]

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for row in range(self.table.rowCount()):
            line = " ".join(self.table.item(row, c).text() for c in range(self.table.columnCount())).lower()
            self.table.setRowHidden(row, bool(needle) and needle not in line)


def show_shortcuts(window: "MainWindow") -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    window.shortcuts_dialog = dialog
    dialog.show()
    return dialog


def show_about(window: "MainWindow") -> QMessageBox:
    console = window.console
    extra = []
    client = console.client
    if client is not None and client.connection_file:
        extra.append(("Connection file", str(client.connection_file)))
    if window.prefs.config.path:
        extra.append(("Config file", str(window.prefs.config.path)))
    if logsetup.current_log_file is not None:
        extra.append(("Debug log", str(logsetup.current_log_file)))
    text = about_html(component_versions() + kernel_versions(console.controller.kernel_info), extra)
    box = QMessageBox(QMessageBox.NoIcon, "About qtapp", text, QMessageBox.Ok, window)
    box.setObjectName("about_dialog")
    box.setTextFormat(Qt.RichText)
    box.setTextInteractionFlags(Qt.TextSelectableByMouse)
    icon = app_icon()
    if not icon.isNull():
        box.setIconPixmap(icon.pixmap(64, 64))
    box.setAttribute(Qt.WA_DeleteOnClose)
    window.about_dialog = box
    box.open()
    return box
