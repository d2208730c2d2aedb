"""Output coalescing: apply queued operations at most once per frame.

Kernel output arrives in bursts of up to a megabyte per message; inserting
that much text at once would freeze the window. Operations are queued in
arrival order (consecutive text for the same stream is merged), and a
single-shot timer applies them about once per frame, for a bounded time,
slicing big texts. Whatever is left waits for the next frame, so the event
loop always gets back control quickly and typing stays possible.

If the kernel produces text faster than it can be shown, the oldest queued
text beyond the scrollback limit is dropped (it would be trimmed from the
transcript anyway) and a notice says how much.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Callable, Deque, Optional

from PyQt5.QtCore import QObject, QTimer, pyqtSignal

from .outputs import NoticeOp, StreamOp

log = logging.getLogger(__name__)

FRAME_MS = 16
#: Seconds of work per frame (the rest of the frame is the event loop's).
FRAME_BUDGET = 0.008
#: Characters of stream text applied per step within a frame.
SLICE_CHARS = 16_384


class FrameQueue(QObject):
    """Ordered pending operations, applied in time-boxed frames."""

    #: emitted after each frame that applied something
    frame_applied = pyqtSignal()

    def __init__(self, apply: Callable[[object], None], *, begin_frame: Callable[[], object] = lambda: None,
                 end_frame: Callable[[object], bool] = lambda state: False,
                 max_backlog_chars: int = 64 * 1024 * 1024, parent: Optional[QObject] = None):
        super().__init__(parent)
        self._apply = apply
        self._begin = begin_frame
        self._end = end_frame
        self.max_backlog_chars = max_backlog_chars
        self._ops: Deque[object] = deque()
        self._pending_chars = 0
        self.skipped_chars = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._frame)
        self.budget = FRAME_BUDGET

    def __len__(self) -> int:
        return len(self._ops)

    @property
    def pending_chars(self) -> int:
        return self._pending_chars

    def push(self, op: object) -> None:
        if isinstance(op, StreamOp):
            last = self._ops[-1] if self._ops else None
            if isinstance(last, StreamOp) and last.area == op.area and last.name == op.name:
                last.parts.extend(op.parts)
                last.size += op.size
            else:
                self._ops.append(op)
            self._pending_chars += op.size
            if self._pending_chars > self.max_backlog_chars:
                self._drop_backlog()
        else:
            self._ops.append(op)
        self._schedule()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start(FRAME_MS)

    def _drop_backlog(self) -> None:
        """Drop the oldest queued text until the backlog fits again."""
        dropped = 0
        for op in self._ops:
            if self._pending_chars <= self.max_backlog_chars // 2:
                break
            if isinstance(op, StreamOp) and op.size:
                n = min(op.size, self._pending_chars - self.max_backlog_chars // 2)
                op.take(n)
                self._pending_chars -= n
                dropped += n
        if dropped:
            self.skipped_chars += dropped
            log.warning("output arrives faster than it can be shown; skipped %d characters", dropped)
            self._ops.appendleft(NoticeOp(f"… {dropped:,} characters of output skipped (scrollback limit)"))

    def _frame(self) -> None:
        deadline = time.perf_counter() + self.budget
        state = self._begin()
        applied = False
        while self._ops and time.perf_counter() < deadline:
            self._step()
            applied = True
        more_trimming = self._end(state)
        if self._ops or more_trimming:
            self._schedule()
        if applied:
            self.frame_applied.emit()

    def _step(self) -> None:
        op = self._ops[0]
        if isinstance(op, StreamOp):
            if op.size > SLICE_CHARS:
                text = op.take(SLICE_CHARS)
                self._pending_chars -= len(text)
                self._apply(StreamOp.of(op.area, op.name, text, more=True))
                op.more = True  # the view may be waiting for this last part (see StreamOp.more)
                return
            self._ops.popleft()
            self._pending_chars -= op.size
            if op.size or op.more:
                op.more = False
                self._apply(op)
            return
        self._ops.popleft()
        self._apply(op)

    def flush(self) -> None:
        """Apply everything now (exporting, copying, tests: not for the hot path)."""
        state = self._begin()
        while self._ops:
            self._step()
        while self._end(state):
            state = self._begin()
        self._timer.stop()
