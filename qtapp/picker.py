"""Choosing a running kernel to attach a tab to.

The picker lists the connection files in the Jupyter runtime directory,
newest first, and asks each kernel whether it answers, all at once and
without ever waiting in the GUI thread: a :class:`KernelProbe` connects a
bridge (sockets watched by the event loop), counts heartbeat echoes and
waits for the kernel_info handshake, and gives up after a few seconds. A
kernel busy with a long cell still beats, so it shows as alive but busy.
Files that are unsafe to use (readable by others, someone else's) are shown
with the reason and cannot be chosen.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Optional

from PyQt5.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHeaderView, QLabel, QPushButton,
                             QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from kernel.client import KernelClient
from kernel.connect import ConnectionFileError, check_file_safe, jupyter_runtime_dir

from .bridge import KernelBridge

log = logging.getLogger(__name__)

PROBE_TIMEOUT_MS = 5000
#: Probe results: what the user reads, and whether the kernel may be chosen.
STATUS_TEXT = {
    "probing": "checking…",
    "ready": "answers",
    "busy": "alive, busy (heartbeat only)",
    "silent": "does not answer",
    "refused": "cannot be used",
}
CHOOSABLE = {"probing", "ready", "busy", "silent"}


class KernelProbe(QObject):
    """Does the kernel of one connection file answer? Reports once."""

    #: status (a STATUS_TEXT key), details
    finished = pyqtSignal(str, str)

    def __init__(self, path: Path, parent: Optional[QObject] = None, timeout_ms: int = PROBE_TIMEOUT_MS):
        super().__init__(parent)
        self.path = path
        self.status = "probing"
        self.details = ""
        self._beating = False
        self._bridge: Optional[KernelBridge] = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self._timed_out)

    def start(self) -> None:
        try:
            client = KernelClient.from_connection_file(self.path, username="kernel-picker")
        except (ConnectionFileError, OSError) as exc:
            self._finish("refused", str(exc).replace(f"{self.path}: ", ""))
            return
        bridge = self._bridge = KernelBridge(client, self)
        bridge.ready.connect(self._on_ready)
        bridge.heartbeat.connect(self._on_beat)
        try:
            bridge.start()
        except Exception as exc:  # a transport or address the sockets refuse
            self._finish("refused", f"cannot connect: {exc}")
            return
        self._timer.start()

    def _on_beat(self) -> None:
        self._beating = True

    def _on_ready(self, info: dict) -> None:
        content = info.get("content", {})
        li = content.get("language_info") or {}
        what = " · ".join(x for x in (content.get("implementation", ""),
                                      f"{li.get('name', '')} {li.get('version', '')}".strip()) if x)
        self._finish("ready", what)

    def _timed_out(self) -> None:
        if self._beating:
            self._finish("busy", "its heartbeat answers, kernel_info did not within "
                                 f"{self._timer.interval() // 1000} s")
        else:
            self._finish("silent", "no heartbeat: the kernel is gone or unreachable")

    def _finish(self, status: str, details: str) -> None:
        if self.status != "probing":
            return
        self._timer.stop()
        if self._bridge is not None:
            self._bridge.stop()
        self.status, self.details = status, details
        self.finished.emit(status, details)

    def cancel(self) -> None:
        self._timer.stop()
        if self._bridge is not None:
            self._bridge.stop()
        self.status = "cancelled"


class KernelPicker(QDialog):
    """A list of the kernels in the runtime directory; ``chosen`` once accepted."""

    def __init__(self, parent: Optional[QWidget] = None, runtime_dir: Optional[Path] = None,
                 in_use: Optional[Dict[Path, str]] = None):
        super().__init__(parent)
        self.setObjectName("kernel_picker")
        self.setWindowTitle("Attach a tab to a kernel")
        self.runtime_dir = Path(runtime_dir) if runtime_dir is not None else jupyter_runtime_dir()
        self.in_use = {Path(p).resolve(): what for p, what in (in_use or {}).items()}
        self.chosen: Optional[Path] = None
        self.probes: Dict[Path, KernelProbe] = {}
        self._items: Dict[Path, QTreeWidgetItem] = {}

        layout = QVBoxLayout(self)
        self.heading = QLabel(f"Kernels in {self.runtime_dir}", self)
        self.heading.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.heading)
        self.list = QTreeWidget(self)
        self.list.setObjectName("kernel_list")
        self.list.setRootIsDecorated(False)
        self.list.setHeaderLabels(["Connection file", "Status", "Details"])
        self.list.header().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.list.header().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.list.itemDoubleClicked.connect(lambda _item, _col: self.accept())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        layout.addWidget(self.list, 1)
        self.empty_label = QLabel("No connection files here. Use “Browse…” to pick one elsewhere.", self)
        self.empty_label.hide()
        layout.addWidget(self.empty_label)
        self.buttons = QDialogButtonBox(self)
        self.attach_button = self.buttons.addButton("Attach", QDialogButtonBox.AcceptRole)
        self.attach_button.setObjectName("picker_attach")
        browse = self.buttons.addButton("Browse…", QDialogButtonBox.ActionRole)
        browse.clicked.connect(self.browse)
        refresh: QPushButton = self.buttons.addButton("Refresh", QDialogButtonBox.ActionRole)
        refresh.clicked.connect(self.refresh)
        self.buttons.addButton(QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(920, 380)
        self.refresh()

    # -- listing and probing -----------------------------------------------------------
    def connection_files(self) -> List[Path]:
        try:
            files = [p for p in self.runtime_dir.glob("kernel-*.json") if p.is_file()]
        except OSError as exc:
            log.warning("cannot list %s: %s", self.runtime_dir, exc)
            return []
        return sorted(files, key=_mtime, reverse=True)

    def refresh(self) -> None:
        for probe in self.probes.values():
            probe.cancel()
            probe.deleteLater()
        self.probes.clear()
        self._items.clear()
        self.list.clear()
        files = self.connection_files()
        self.empty_label.setVisible(not files)
        for path in files:
            self._add(path)
        if self.list.topLevelItemCount():
            self.list.setCurrentItem(self.list.topLevelItem(0))
        self._update_buttons()

    def _add(self, path: Path) -> QTreeWidgetItem:
        name = path.name
        used = self.in_use.get(path.resolve())
        item = QTreeWidgetItem([name + (f"  ({used})" if used else ""), STATUS_TEXT["probing"], ""])
        item.setData(0, Qt.UserRole, str(path))
        item.setToolTip(0, str(path))
        self.list.addTopLevelItem(item)
        self._items[path] = item
        probe = KernelProbe(path, self)
        probe.finished.connect(lambda status, details, p=path: self._probed(p, status, details))
        self.probes[path] = probe
        probe.start()
        return item

    def _probed(self, path: Path, status: str, details: str) -> None:
        item = self._items.get(path)
        if item is None:
            return
        item.setText(1, STATUS_TEXT.get(status, status))
        item.setText(2, details)
        item.setToolTip(2, details)
        if status not in CHOOSABLE:
            item.setFlags(item.flags() & ~Qt.ItemIsSelectable & ~Qt.ItemIsEnabled)
        self._update_buttons()

    def status_of(self, path: Path) -> str:
        probe = self.probes.get(Path(path))
        return probe.status if probe is not None else ""

    def item_for(self, path: Path) -> Optional[QTreeWidgetItem]:
        return self._items.get(Path(path))

    # -- choosing -------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        item = self.list.currentItem()
        ok = item is not None and bool(item.flags() & Qt.ItemIsEnabled)
        self.attach_button.setEnabled(ok)

    def select(self, path: Path) -> None:
        item = self._items.get(Path(path))
        if item is not None:
            self.list.setCurrentItem(item)

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Connection file", str(self.runtime_dir),
                                              "Connection files (*.json)")
        if not path:
            return
        self.choose_file(Path(path))

    def choose_file(self, path: Path) -> None:
        """A file from elsewhere: listed (and probed) like the others, and selected."""
        path = Path(path)
        item = self._items.get(path) or self._add(path)
        self.list.setCurrentItem(item)
        self.empty_label.hide()

    def accept(self) -> None:
        item = self.list.currentItem()
        if item is None or not item.flags() & Qt.ItemIsEnabled:
            return
        path = Path(item.data(0, Qt.UserRole))
        try:
            check_file_safe(path)
        except (ConnectionFileError, OSError) as exc:
            item.setText(1, STATUS_TEXT["refused"])
            item.setText(2, str(exc))
            return
        self.chosen = path
        self._stop_probes()
        super().accept()

    def reject(self) -> None:
        self._stop_probes()
        super().reject()

    def _stop_probes(self) -> None:
        for probe in self.probes.values():
            probe.cancel()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
