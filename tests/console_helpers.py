"""Helpers for tests that drive a real ConsoleWidget on a real kernel."""

from __future__ import annotations

import time
from typing import Optional

from PyQt5.QtCore import QTimer, Qt

TIMEOUT_MS = 60_000


def make_console(qtbot, manager=None, client=None, **kwargs):
    """A shown console that has finished its handshake."""
    from qtapp import ConsoleWidget

    kwargs.setdefault("confirm_restart", False)
    console = ConsoleWidget(manager, client, **kwargs)
    qtbot.addWidget(console)
    console.resize(900, 640)
    console.show()
    qtbot.waitUntil(lambda: console.is_ready, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: console.controller.next_count is not None, timeout=TIMEOUT_MS)
    console.editor.setFocus()
    return console


def view_console(qtbot, width: int = 700, height: int = 400):
    """A shown console whose kernel is never started: only its view is used."""
    from kernel.manager import KernelManager
    from qtapp import ConsoleWidget

    widget = ConsoleWidget(KernelManager(), start=False)
    widget.shutdown_kernel_on_close = False
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    return widget


def apply(console, *ops) -> None:
    """Present output operations as the controller would, and show them now."""
    for op in ops:
        console.present(op)
    console.queue.flush()


def run(qtbot, console, code: str, timeout: int = TIMEOUT_MS) -> dict:
    """Run through the public API; returns the execute_reply once all output is in."""
    with qtbot.waitSignal(console.executed, timeout=timeout) as blocker:
        console.execute(code)
    return blocker.args[0]


def type_cell(qtbot, console, text: str) -> None:
    """Type ``text`` into the editor; newlines as Ctrl+Enter (forced new lines)."""
    for i, line in enumerate(text.split("\n")):
        if i:
            qtbot.keyClick(console.editor, Qt.Key_Return, Qt.ControlModifier)
        if line:
            qtbot.keyClicks(console.editor, line)


def wait_text(qtbot, console, needle: str, timeout: int = TIMEOUT_MS) -> None:
    qtbot.waitUntil(lambda: needle in console.plain_text(), timeout=timeout)


class StallProbe:
    """Measures event-loop responsiveness with a 10 ms timer.

    ``worst_stall_ms``: the longest wall-clock gap between ticks beyond the
    interval (what a user feels; on a loaded machine it includes time the
    process was not scheduled at all). ``worst_busy_ms``: the most CPU time
    the GUI thread spent between two ticks (the work that blocked the loop,
    whatever the machine's load).
    """

    def __init__(self, interval_ms: int = 10):
        self.interval = interval_ms / 1000
        self.worst = 0.0
        self.worst_cpu = 0.0
        self.ticks = 0
        self._last: Optional[float] = None
        self._last_cpu = 0.0
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if self._last is not None:
            self.worst = max(self.worst, now - self._last)
            self.worst_cpu = max(self.worst_cpu, cpu - self._last_cpu)
        self._last, self._last_cpu = now, cpu
        self.ticks += 1

    def start(self) -> "StallProbe":
        self._last = None
        self._timer.start()
        return self

    @property
    def worst_busy_ms(self) -> float:
        return self.worst_cpu * 1000

    def stop(self) -> None:
        self._timer.stop()

    @property
    def worst_stall_ms(self) -> float:
        return max(0.0, (self.worst - self.interval) * 1000)
