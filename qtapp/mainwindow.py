"""The main window: consoles in tabs, menus, status bar and preferences.

Every menu command is a QAction with a stable object name
(``action_<name>``), so shortcuts can be rebound from configuration later.
Keys the console handles itself (Ctrl+C to interrupt, Enter...) live in
the console's keymap; the menu only shows them.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Callable, Dict, List, Optional

from PyQt5.QtCore import QTimer, pyqtSignal
from PyQt5.QtGui import QCloseEvent, QFont, QKeySequence
from PyQt5.QtWidgets import (QAction, QActionGroup, QFileDialog, QFontDialog, QInputDialog, QLabel, QMainWindow,
                             QMessageBox)

from .console.highlight import TokenFormats, available_styles
from .console.theme import THEMES, apply_palette
from .console.widget import ConsoleWidget
from .settings import Preferences
from .tabcommands import TabCommands, TabHost
from .tabs import ConsoleTabs

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


class _CurrentConsole:
    """Stands for the console of the current tab: a menu command built with it
    acts on whichever console is current when the command runs."""

    def __init__(self, window: "MainWindow"):
        self._window = window

    def __getattr__(self, name: str):
        value = getattr(self._window.console, name)
        if callable(value):
            return lambda *args, **kwargs: getattr(self._window.console, name)(*args, **kwargs)
        return value


class MainWindow(QMainWindow):
    """A window of consoles in tabs (``console``: the current tab's)."""

    #: the kernel could not be started or attached before the console was ever ready
    fatal_error = pyqtSignal(str, str)

    def __init__(self, console: ConsoleWidget, preferences: Preferences, *,
                 new_window: Optional[Callable[[], None]] = None, title: str = "qtapp",
                 host: Optional[TabHost] = None):
        super().__init__()
        self.setObjectName("main_window")
        self.prefs = preferences
        self._new_window = new_window
        self._title = title
        self.setWindowTitle(title)
        self.tabs = ConsoleTabs(self)
        self.setCentralWidget(self.tabs)
        self.host = host
        self.tab_commands = TabCommands(self, self.tabs, host) if host is not None else None
        self.tabs.close_requested.connect(self.close_tab)
        self.actions: Dict[str, QAction] = {}
        self.tabs.add_console(console)
        self._wire_console(console)
        self._build_menus()
        self._build_status_bar()
        self.tabs.current_console_changed.connect(self._on_current_changed)
        geometry = preferences.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(900, 680)
        self._on_state(console.controller.state)
        self._apply_chrome()

    @property
    def console(self) -> Optional[ConsoleWidget]:
        """The console of the current tab."""
        return self.tabs.current_console()

    def consoles(self) -> List[ConsoleWidget]:
        return self.tabs.consoles()

    # -- tabs ------------------------------------------------------------------------------
    def add_console(self, console: ConsoleWidget, title: Optional[str] = None) -> None:
        """Show ``console`` in a new tab, in this window's look."""
        current = self.console
        if current is not None:
            if console.theme.name != current.theme.name or console.syntax_style != current.syntax_style:
                console.apply_theme(current.theme.name, syntax_style=current.syntax_style)
            console.set_base_font(current.base_font)
            console.set_others_visible(current.others_visible)
        self.tabs.add_console(console, title)
        self._wire_console(console)

    def _wire_console(self, console: ConsoleWidget) -> None:
        def current(handler):
            return lambda *args: handler(*args) if console is self.console else None

        console.state_changed.connect(current(self._on_state))
        console.busy_changed.connect(current(self._on_busy))
        console.ready.connect(current(self._on_ready))
        console.zoom_changed.connect(lambda level: setattr(self.prefs, "zoom", level))
        console.exit_requested.connect(lambda keep: self._on_exit_requested(keep, console))
        console.start_failed.connect(lambda reason, output: self._on_start_failed(reason, output, console))
        if self.host is not None:
            self.host.users.add(console)

    def remove_console(self, console: ConsoleWidget) -> None:
        """Take a tab away and close its console (its kernel goes as it decides)."""
        index = self.tabs.indexOf(console)
        if index >= 0:
            self.tabs.removeTab(index)
        if self.host is not None:
            self.host.users.discard(console)
        console.close()
        console.deleteLater()
        if not self.tabs.count():
            self.close()

    def close_tab(self, console: Optional[ConsoleWidget] = None) -> None:
        if self.tab_commands is not None:
            self.tab_commands.close_tab(console)
        elif console is None or console is self.console:
            self.close()

    def _on_current_changed(self, console: Optional[ConsoleWidget]) -> None:
        if console is None:
            return
        self._on_state(console.controller.state)
        self._on_busy(console.controller.busy)
        if console.controller.kernel_info is not None:
            self._on_ready(console.controller.kernel_info)
        else:
            self.kernel_label.clear()
        self.actions["show_others"].setChecked(console.others_visible)

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
        c = _CurrentConsole(self)
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        if self._new_window is not None:
            file_menu.addAction(self._action("new_window", "&New window", self._new_window, "Ctrl+N"))
        if self.tab_commands is not None:
            t = self.tab_commands
            file_menu.addAction(self._action("new_tab", "New &tab", t.new_tab, "Ctrl+T"))
            file_menu.addAction(self._action("new_tab_same_kernel", "New tab on the same &kernel",
                                             t.new_tab_same_kernel, "Ctrl+Shift+T"))
            file_menu.addAction(self._action("attach_tab", "&Attach a tab to a kernel…", t.attach_tab, "Alt+T"))
            file_menu.addAction(self._action("rename_tab", "&Rename tab…", self.tabs.edit_title))
            file_menu.addAction(self._action("close_tab", "&Close tab", self.close_tab, "Ctrl+W"))
            file_menu.addSeparator()
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
        others = self._action("show_others", "Show &others' activity", self._toggle_others, checkable=True)
        others.setChecked(self.prefs.show_others)
        view.addAction(others)
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
        self._add_styles(available_styles(with_plugins=False))
        # Styles from plugin packages join when the menu first opens.
        self.style_menu.aboutToShow.connect(lambda: self._add_styles(available_styles()))

        kernel = bar.addMenu("&Kernel")
        kernel.addAction(self._action("interrupt", "&Interrupt", c.interrupt_kernel,
                                      shown_key=c.keymap.shortcut_text("interrupt_or_copy")))
        kernel.addAction(self._action("restart", "&Restart…", c.restart_kernel,
                                      shown_key=c.keymap.shortcut_text("restart_kernel")))
        kernel.addAction(self._action("restart_clear", "Restart and c&lear…", lambda: c.restart_kernel(clear=True)))
        kernel.addAction(self._action("shutdown", "&Shut down", self.shutdown_kernel))
        kernel.addSeparator()
        confirm = self._action("confirm_restart", "&Confirm before restarting", self._toggle_confirm,
                               checkable=True)
        confirm.setChecked(c.confirm_restart)
        kernel.addAction(confirm)
        kernel.addAction(self._action("set_username", "Your &name for others…", self.choose_username))
        self._build_help_menu()

    def _build_help_menu(self) -> None:
        from .helpmenu import show_about, show_shortcuts

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("shortcuts", "&Keyboard shortcuts", lambda: show_shortcuts(self)))
        help_menu.addAction(self._action("about", "&About qtapp", lambda: show_about(self)))

    def _add_styles(self, names) -> None:
        have = {a.text() for a in self.style_group.actions()}
        current = self.console.syntax_style if self.console is not None else None
        for name in names:
            if name in have:
                continue
            act = self._action(f"style_{name}", name, lambda n=name: self.set_style(n), checkable=True)
            act.setChecked(name == current)
            self.style_group.addAction(act)
            self.style_menu.addAction(act)
        actions = sorted(self.style_menu.actions(), key=lambda a: a.text().lower())
        for act in actions:  # keep the menu in alphabetical order
            self.style_menu.removeAction(act)
            self.style_menu.addAction(act)

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

    # -- status ------------------------------------------------------------------------------
    def _on_ready(self, info: dict) -> None:
        if self.console is None:
            return
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
        if self.console is None:
            return
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
        for console in self.consoles():
            console.set_base_font(font)
        self.prefs.font_family = font.family()
        self.prefs.font_size = font.pointSizeF()

    def set_theme(self, name: str) -> None:
        for console in self.consoles():
            console.apply_theme(name)
        self.prefs.theme = name
        self._sync_checks()
        self._apply_chrome()

    def set_style(self, name: str) -> None:
        """A syntax style also picks the theme that matches its background."""
        dark = TokenFormats(name).background.lstrip("#")
        is_dark = len(dark) >= 6 and (0.299 * int(dark[0:2], 16) + 0.587 * int(dark[2:4], 16)
                                      + 0.114 * int(dark[4:6], 16)) < 128
        for console in self.consoles():
            console.apply_theme("dark" if is_dark else "light", syntax_style=name)
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
        for console in self.consoles():
            console.confirm_restart = value
        self.prefs.confirm_restart = value

    def _toggle_others(self) -> None:
        self.set_others_visible(self.actions["show_others"].isChecked())

    def set_others_visible(self, visible: bool) -> None:
        """Show or hide other frontends' activity in every tab (and remember it)."""
        for console in self.consoles():
            console.set_others_visible(visible)
        self.actions["show_others"].setChecked(visible)
        self.prefs.show_others = visible

    def choose_username(self) -> None:
        name, ok = QInputDialog.getText(self, "Your name", "The name other frontends on your kernels see:",
                                        text=self.console.username if self.console else "")
        if ok:
            self.set_username(name)

    def set_username(self, name: str) -> None:
        """The name every tab sends from now on (and the default for new ones)."""
        name = " ".join(name.split())
        if not name:
            QMessageBox.warning(self, "Your name", "A name cannot be empty; it was not changed.")
            return
        for console in self.consoles():
            console.set_username(name)
        self.prefs.username = name

    def shutdown_kernel(self) -> None:
        self.console.shutdown_kernel()
        self._refresh_state()

    def _quit(self) -> None:
        from PyQt5.QtWidgets import QApplication
        QApplication.closeAllWindows()

    def _on_exit_requested(self, keep_kernel: bool, console: ConsoleWidget) -> None:
        if keep_kernel:
            console.shutdown_kernel_on_close = False
        if self.tabs.count() > 1:
            self.remove_console(console)
        else:
            self.close()

    def _on_start_failed(self, reason: str, output: str, console: ConsoleWidget) -> None:
        if console.controller.has_been_ready:
            return  # a later failure: the console shows it
        started = console.manager is not None
        message = f"The kernel could not be {'started' if started else 'reached'}: {reason}"
        what = "kernel output" if started else "details"
        print(f"qtapp: {message}" + (f"\n--- {what} ---\n{output.rstrip()}" if output.strip() else ""),
              file=sys.stderr)
        title = "Kernel failed to start" if started else "Cannot reach the kernel"
        box = QMessageBox(QMessageBox.Critical, title, message, QMessageBox.Ok, self)
        box.setObjectName("start_error_dialog")
        if output.strip():
            box.setDetailedText(output)
            box.setInformativeText("The kernel's own output is under “Show Details…”." if started else
                                   "What ssh said is under “Show Details…”.")
        box.finished.connect(lambda _r: self._after_start_failure(console, reason, output))
        self.error_dialog = box
        box.open()

    def _after_start_failure(self, console: ConsoleWidget, reason: str, output: str) -> None:
        if self.tabs.count() > 1 and self.tabs.indexOf(console) >= 0:
            self.remove_console(console)  # the other tabs carry on
        else:
            self.fatal_error.emit(reason, output)

    # -- closing -------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.prefs.geometry = self.saveGeometry()
        self.prefs.sync()
        if self.tab_commands is not None:
            self.tab_commands.close_all()
        else:
            for console in self.consoles():
                console.close()
        super().closeEvent(event)
