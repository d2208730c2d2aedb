"""The main window: one console, its menus, status bar and preferences.

Every menu command is a QAction with a stable object name
(``action_<name>``), so shortcuts can be rebound from configuration later.
Keys the console handles itself (Ctrl+C to interrupt, Enter...) live in
the console's keymap; the menu only shows them.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Callable, Dict, Optional

from PyQt5.QtCore import QTimer, pyqtSignal
from PyQt5.QtGui import QCloseEvent, QFont, QKeySequence
from PyQt5.QtWidgets import QAction, QActionGroup, QFileDialog, QFontDialog, QLabel, QMainWindow, QMessageBox

from .console.highlight import TokenFormats, available_styles
from .console.theme import THEMES, apply_palette
from .console.widget import ConsoleWidget
from .settings import Preferences

log = logging.getLogger(__name__)

STATE_TEXT = {
    "starting": "Starting kernel…",
    "idle": "Idle",
    "busy": "Busy",
    "restarting": "Restarting kernel…",
    "dead": "Kernel dead",
    "unresponsive": "Kernel not responding",
    "shutdown": "Kernel shut down",
}


def format_elapsed(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class MainWindow(QMainWindow):
    """A window around one ConsoleWidget."""

    #: the kernel could not be started or attached before the console was ever ready
    fatal_error = pyqtSignal(str, str)

    def __init__(self, console: ConsoleWidget, preferences: Preferences, *,
                 new_window: Optional[Callable[[], None]] = None, title: str = "qtapp"):
        super().__init__()
        self.setObjectName("main_window")
        self.console = console
        self.prefs = preferences
        self._new_window = new_window
        self._title = title
        self.setWindowTitle(title)
        self.setCentralWidget(console)
        self.actions: Dict[str, QAction] = {}
        self._build_menus()
        self._build_status_bar()
        console.state_changed.connect(self._on_state)
        console.busy_changed.connect(self._on_busy)
        console.zoom_changed.connect(lambda level: setattr(self.prefs, "zoom", level))
        console.exit_requested.connect(self._on_exit_requested)
        console.start_failed.connect(self._on_start_failed)
        geometry = preferences.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(900, 680)
        self._on_state(console.controller.state)
        self._apply_chrome()

    def _apply_chrome(self) -> None:
        """Menu bar and status bar in the console's theme."""
        apply_palette(self, self.console.theme)
        self.setAutoFillBackground(True)

    # -- menus -------------------------------------------------------------------------
    def _action(self, name: str, text: str, slot: Callable[[], None], shortcut=None, *,
                shown_key: str = "", checkable: bool = False) -> QAction:
        action = QAction(text + (f"\t{shown_key}" if shown_key else ""), self)
        action.setObjectName(f"action_{name}")
        if shortcut is not None:
            seqs = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in seqs])
        action.setCheckable(checkable)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        self.actions[name] = action
        return action

    def _build_menus(self) -> None:
        c = self.console
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        if self._new_window is not None:
            file_menu.addAction(self._action("new_window", "&New window", self._new_window, "Ctrl+N"))
        file_menu.addAction(self._action("save_html", "&Save as HTML…", self.save_html, QKeySequence.Save))
        file_menu.addAction(self._action("print", "&Print…", self.print_transcript, QKeySequence.Print))
        file_menu.addSeparator()
        file_menu.addAction(self._action("quit", "&Quit", self._quit, QKeySequence.Quit))

        edit = bar.addMenu("&Edit")
        edit.addAction(self._action("undo", "&Undo", c.undo, QKeySequence.Undo))
        edit.addAction(self._action("redo", "&Redo", c.redo, QKeySequence.Redo))
        edit.addSeparator()
        edit.addAction(self._action("cut", "Cu&t", c.cut, QKeySequence.Cut))
        edit.addAction(self._action("copy", "&Copy", c.copy, QKeySequence.Copy))
        edit.addAction(self._action("copy_raw", "Copy with &prompts", c.copy_raw, "Ctrl+Shift+C"))
        edit.addAction(self._action("paste", "&Paste", c.paste, QKeySequence.Paste))
        edit.addAction(self._action("select_all", "Select &all", c.select_all, "Ctrl+Shift+A"))
        edit.addSeparator()
        edit.addAction(self._action("find", "&Find…", c.find, QKeySequence.Find))

        view = bar.addMenu("&View")
        view.addAction(self._action("zoom_in", "Zoom &in", lambda: c.zoom(1), ["Ctrl++", "Ctrl+="]))
        view.addAction(self._action("zoom_out", "Zoom &out", lambda: c.zoom(-1), "Ctrl+-"))
        view.addAction(self._action("zoom_reset", "&Reset zoom", c.reset_zoom, "Ctrl+0"))
        view.addSeparator()
        view.addAction(self._action("clear", "&Clear", c.clear, shown_key=c.keymap.shortcut_text("clear_transcript")))
        view.addSeparator()
        self.paging_menu = view.addMenu("&Help pages")
        self.paging_group = QActionGroup(self)
        for mode, label in (("auto", "&Short ones inline, long ones in the pager"), ("inline", "&Inline"),
                            ("pager", "In the &pager")):
            act = self._action(f"paging_{mode}", label, lambda m=mode: self.set_paging(m), checkable=True)
            act.setChecked(mode == c.paging)
            self.paging_group.addAction(act)
            self.paging_menu.addAction(act)
        view.addAction(self._action("font", "&Font…", self.choose_font))
        self.theme_menu = view.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        for name in THEMES:
            act = self._action(f"theme_{name}", name.capitalize(), lambda n=name: self.set_theme(n), checkable=True)
            act.setChecked(name == c.theme.name)
            self.theme_group.addAction(act)
            self.theme_menu.addAction(act)
        self.style_menu = view.addMenu("&Syntax style")
        self.style_group = QActionGroup(self)
        for name in available_styles():
            act = self._action(f"style_{name}", name, lambda n=name: self.set_style(n), checkable=True)
            act.setChecked(name == c.syntax_style)
            self.style_group.addAction(act)
            self.style_menu.addAction(act)

        kernel = bar.addMenu("&Kernel")
        kernel.addAction(self._action("interrupt", "&Interrupt", c.interrupt_kernel,
                                      shown_key=c.keymap.shortcut_text("interrupt_or_copy")))
        kernel.addAction(self._action("restart", "&Restart…", c.restart_kernel,
                                      shown_key=c.keymap.shortcut_text("restart_kernel")))
        kernel.addAction(self._action("shutdown", "&Shut down", self.shutdown_kernel))
        kernel.addSeparator()
        confirm = self._action("confirm_restart", "&Confirm before restarting", self._toggle_confirm,
                               checkable=True)
        confirm.setChecked(c.confirm_restart)
        kernel.addAction(confirm)

    def _build_status_bar(self) -> None:
        self.state_label = QLabel(self)
        self.state_label.setObjectName("state_label")
        self.kernel_label = QLabel(self)
        self.kernel_label.setObjectName("kernel_label")
        self.statusBar().addWidget(self.state_label, 1)
        self.statusBar().addPermanentWidget(self.kernel_label)
        self._elapsed = QTimer(self)
        self._elapsed.setInterval(1000)
        self._elapsed.timeout.connect(self._refresh_state)
        self.console.ready.connect(self._on_ready)

    # -- status ------------------------------------------------------------------------------
    def _on_ready(self, info: dict) -> None:
        content = info.get("content", {})
        name = content.get("implementation", "kernel")
        li = content.get("language_info", {}) or {}
        client = self.console.client
        where = client.connection_file.name if client is not None and client.connection_file else ""
        self.kernel_label.setText(f"{name} · {li.get('name', '?')} {li.get('version', '')}".strip()
                                  + (f" · {where}" if where else ""))

    def _on_state(self, state: str) -> None:
        self._refresh_state()

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self._elapsed.start()
        else:
            self._elapsed.stop()
        self._refresh_state()

    def _refresh_state(self) -> None:
        c = self.console.controller
        text = STATE_TEXT.get(c.state, c.state)
        if c.state == "busy" and c.busy_since is not None:
            text += f" — running for {format_elapsed(time.monotonic() - c.busy_since)}"
        self.state_label.setText(text)

    # -- commands ---------------------------------------------------------------------------------
    def save_html(self, path: Optional[str] = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save transcript as HTML", "transcript.html",
                                                  "HTML files (*.html *.htm)")
            if not path:
                return
        try:
            self.console.export_html(path)
        except OSError as exc:
            QMessageBox.warning(self, "Save as HTML", f"Could not save {path}: {exc.strerror or exc}")

    def print_transcript(self) -> None:
        from PyQt5.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter()
        dialog = QPrintDialog(printer, self)
        if dialog.exec_() == QPrintDialog.Accepted:
            self.console.print_to(printer)

    def choose_font(self) -> None:
        font, ok = QFontDialog.getFont(self.console.base_font, self, "Console font",
                                       QFontDialog.MonospacedFonts)
        if ok:
            self.set_font(font)

    def set_font(self, font: QFont) -> None:
        self.console.set_base_font(font)
        self.prefs.font_family = font.family()
        self.prefs.font_size = font.pointSizeF()

    def set_theme(self, name: str) -> None:
        self.console.apply_theme(name)
        self.prefs.theme = name
        self._sync_checks()
        self._apply_chrome()

    def set_style(self, name: str) -> None:
        """A syntax style also picks the theme that matches its background."""
        dark = TokenFormats(name).background.lstrip("#")
        is_dark = len(dark) >= 6 and (0.299 * int(dark[0:2], 16) + 0.587 * int(dark[2:4], 16)
                                      + 0.114 * int(dark[4:6], 16)) < 128
        self.console.apply_theme("dark" if is_dark else "light", syntax_style=name)
        self.prefs.theme = self.console.theme.name
        self.prefs.syntax_style = name
        self._sync_checks()
        self._apply_chrome()

    def _sync_checks(self) -> None:
        for name, act in self.actions.items():
            if name.startswith("theme_"):
                act.setChecked(name == f"theme_{self.console.theme.name}")
            elif name.startswith("style_"):
                act.setChecked(name == f"style_{self.console.syntax_style}")

    def set_paging(self, mode: str) -> None:
        """Where help pages go from now on (remembered)."""
        self.console.paging = mode
        self.prefs.paging = mode
        for name, act in self.actions.items():
            if name.startswith("paging_"):
                act.setChecked(name == f"paging_{mode}")

    def _toggle_confirm(self) -> None:
        value = self.actions["confirm_restart"].isChecked()
        self.console.confirm_restart = value
        self.prefs.confirm_restart = value

    def shutdown_kernel(self) -> None:
        self.console.shutdown_kernel()
        self._refresh_state()

    def _quit(self) -> None:
        from PyQt5.QtWidgets import QApplication
        QApplication.closeAllWindows()

    def _on_exit_requested(self, keep_kernel: bool) -> None:
        if keep_kernel:
            self.console.shutdown_kernel_on_close = False
        self.close()

    def _on_start_failed(self, reason: str, output: str) -> None:
        if self.console.controller.has_been_ready:
            return  # a later failure: the console shows it
        message = f"The kernel could not be started: {reason}"
        print(f"qtapp: {message}" + (f"\n--- kernel output ---\n{output.rstrip()}" if output.strip() else ""),
              file=sys.stderr)
        box = QMessageBox(QMessageBox.Critical, "Kernel failed to start", message, QMessageBox.Ok, self)
        box.setObjectName("start_error_dialog")
        if output.strip():
            box.setDetailedText(output)
            box.setInformativeText("The kernel's own output is under “Show Details…”.")
        box.finished.connect(lambda _r: self.fatal_error.emit(reason, output))
        self.error_dialog = box
        box.open()

    # -- closing -------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.prefs.geometry = self.saveGeometry()
        self.prefs.sync()
        self.console.close()
        super().closeEvent(event)
