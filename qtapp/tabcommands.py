"""Tab commands of the main window: new tab (its own kernel, or the current
tab's kernel), attach a tab to a running kernel, close a tab.

Closing the tab that owns a kernel others still use asks first: shut the
kernel down, or keep it running (another tab of this application on that
kernel becomes its owner; if only other applications use it, this one keeps
it until it quits).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Protocol

from PyQt5.QtWidgets import QMessageBox, QWidget

from .console.widget import ConsoleWidget
from .kernel_users import KernelUsers, describe_peers, kernel_of
from .picker import KernelPicker
from .tabs import ConsoleTabs

if TYPE_CHECKING:
    from .mainwindow import MainWindow

log = logging.getLogger(__name__)

SHUT_DOWN = "Shut down kernel"
KEEP = "Keep it running"
CANCEL = "Cancel"


class TabHost(Protocol):
    """What the application provides to make consoles for new tabs."""

    users: KernelUsers

    def new_kernel_console(self) -> ConsoleWidget: ...
    def same_kernel_console(self, console: ConsoleWidget) -> ConsoleWidget: ...
    def attached_console(self, path: Path) -> ConsoleWidget: ...


class LaunchFailed(Exception):
    """A console could not be made (the message says why)."""


def ask_with_buttons(parent: QWidget, title: str, text: str, buttons: List[str]) -> str:
    """A question with named answers; the last one is the cancel answer."""
    box = QMessageBox(QMessageBox.Question, title, text, QMessageBox.NoButton, parent)
    made = {}
    for i, label in enumerate(buttons):
        role = QMessageBox.RejectRole if i == len(buttons) - 1 else QMessageBox.AcceptRole
        made[box.addButton(label, role)] = label
    box.exec_()
    return made.get(box.clickedButton(), buttons[-1])


class TabCommands:
    """The commands; ``ask`` and ``pick`` can be replaced (tests, embedding)."""

    def __init__(self, window: "MainWindow", tabs: ConsoleTabs, host: TabHost):
        self.window = window
        self.tabs = tabs
        self.host = host
        self.ask: Callable[[str, str, List[str]], str] = lambda title, text, buttons: \
            ask_with_buttons(window, title, text, buttons)
        self.picker: Optional[KernelPicker] = None

    @property
    def users(self) -> KernelUsers:
        return self.host.users

    # -- opening -------------------------------------------------------------------------
    def new_tab(self) -> Optional[ConsoleWidget]:
        """A tab with a kernel of its own."""
        return self._open(self.host.new_kernel_console)

    def new_tab_same_kernel(self) -> Optional[ConsoleWidget]:
        """A tab on the current tab's kernel."""
        current = self.window.console
        if current is None or kernel_of(current) is None:
            self._warn("New tab on the same kernel", "The current tab has no kernel yet.")
            return None
        return self._open(lambda: self.host.same_kernel_console(current),
                          title=f"{self.tabs.title_of(current)} (2)")

    def attach_tab(self) -> KernelPicker:
        """Open the kernel picker; choosing a kernel attaches a new tab to it."""
        in_use: Dict[Path, str] = {}
        for console in self.users.consoles():
            path = kernel_of(console)
            if path is not None:
                in_use.setdefault(path, "open here")
        picker = KernelPicker(self.window, in_use=in_use)
        picker.accepted.connect(lambda: picker.chosen and self.attach(picker.chosen))
        picker.finished.connect(lambda _r: picker.deleteLater())
        self.picker = picker
        picker.open()
        return picker

    def attach(self, path: Path) -> Optional[ConsoleWidget]:
        return self._open(lambda: self.host.attached_console(Path(path)))

    def _open(self, make: Callable[[], ConsoleWidget], title: Optional[str] = None) -> Optional[ConsoleWidget]:
        try:
            console = make()
        except LaunchFailed as exc:
            self._warn("Cannot open a tab", str(exc))
            return None
        self.window.add_console(console, title)
        console.controller.start()
        console.setFocus()
        return console

    def _warn(self, title: str, text: str) -> None:
        log.warning("%s: %s", title, text)
        box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, self.window)
        box.setObjectName("tab_error_dialog")
        self.error_dialog = box
        box.open()

    # -- closing ---------------------------------------------------------------------------
    def close_tab(self, console: Optional[ConsoleWidget] = None) -> bool:
        """Close a tab (default: the current one); False if the user cancelled."""
        console = console or self.window.console
        if console is None:
            return False
        if not self._settle_kernel(console):
            return False
        self.window.remove_console(console)
        return True

    def _settle_kernel(self, console: ConsoleWidget) -> bool:
        """Decide what happens to the kernel of a closing tab."""
        manager = console.manager
        if manager is None or not manager.is_alive() or not console.shutdown_kernel_on_close:
            return True  # attached, gone already, or not ours to stop
        here = self.users.sharing(console)
        remote = self.users.remote_peers(console)
        if not here and not remote:
            return True  # nobody else uses it: it stops with its tab
        users = [f"the tab “{self._title(c)}”" for c in here]
        if remote:
            users.append(describe_peers(remote))
        text = (f"This tab started its kernel, and it is also used by {', '.join(users)}.\n\n"
                "Shut the kernel down, or keep it running for them?")
        if not here:
            text += "\n(A kernel kept running ends when this application quits.)"
        answer = self.ask("Close tab", text, [SHUT_DOWN, KEEP, CANCEL])
        if answer == CANCEL:
            return False
        if answer == KEEP:
            self.users.hand_on(console, here[0] if here else None)
        return True

    def _title(self, console: ConsoleWidget) -> str:
        for window_tabs in _all_tab_widgets(console):
            return window_tabs.title_of(console)
        return "another window"

    def close_all(self) -> None:
        """The window closes: each owned kernel goes with it, unless a console
        in another window of this application uses it (that one takes it over)."""
        closing = set(self.tabs.consoles())
        for console in list(self.tabs.consoles()):
            manager = console.manager
            if manager is not None and manager.is_alive() and console.shutdown_kernel_on_close:
                heirs = [c for c in self.users.sharing(console) if c not in closing]
                if heirs:
                    self.users.hand_on(console, heirs[0])
            self.window.remove_console(console)


def _all_tab_widgets(console: ConsoleWidget) -> List[ConsoleTabs]:
    widget = console.parentWidget()
    while widget is not None:
        if isinstance(widget, ConsoleTabs):
            return [widget]
        widget = widget.parentWidget()
    return []
