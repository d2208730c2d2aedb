"""stdout/stderr capture: text written by user code becomes ``stream`` messages.

Writes are cheap (an append under a lock); the text is sent in batches, at the
latest ``FLUSH_INTERVAL`` after the first unsent write, at once when a batch
grows past ``FLUSH_SIZE``, and whenever the kernel flushes (before a reply,
before ``idle``, before any other output). stdout and stderr share one batch
queue, so their relative order on the wire is the order they were written.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from typing import Callable, Optional

FLUSH_INTERVAL = 0.05  # seconds: no output waits longer than this
FLUSH_SIZE = 1 << 20   # characters: a batch this large is sent at once
CHUNK_SIZE = 1 << 20   # characters: the most text in one stream message

#: send(name, text) publishes one stream message; called with the lock held.
SendFn = Callable[[str, str], None]
#: schedule(delay, fn) runs fn later on another thread (the IOPub thread).
ScheduleFn = Callable[[float, Callable[[], None]], None]


class StreamBatcher:
    """The shared, ordered batch behind every captured stream."""

    def __init__(self, send: SendFn, schedule: Optional[ScheduleFn] = None,
                 interval: float = FLUSH_INTERVAL, size: int = FLUSH_SIZE):
        self._send = send
        self._schedule = schedule
        self.interval = interval
        self.size = size
        self._lock = threading.RLock()
        self._name: Optional[str] = None
        self._parts: list = []
        self._pending = 0
        self._timer_armed = False

    def write(self, name: str, text: str) -> None:
        with self._lock:
            if self._name != name and self._parts:
                self._flush_locked()
            self._name = name
            self._parts.append(text)
            self._pending += len(text)
            if self._pending >= self.size:
                self._flush_locked()
            elif not self._timer_armed and self._schedule is not None:
                self._timer_armed = True
                self._schedule(self.interval, self._on_timer)

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer_armed = False
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._parts:
            return
        text = "".join(self._parts) if len(self._parts) > 1 else self._parts[0]
        self._parts = []
        self._pending = 0
        for start in range(0, len(text), CHUNK_SIZE):
            self._send(self._name, text[start:start + CHUNK_SIZE])


class OutStream(io.TextIOBase):
    """A text stream that feeds a StreamBatcher (installed as sys.stdout/err).

    In a forked child (``os.fork``, multiprocessing) the parent's sockets are
    off limits, so writes go to the process's original stream instead.
    """

    def __init__(self, name: str, batcher: StreamBatcher, original=None):
        super().__init__()
        self.name = name
        self._batcher = batcher
        self._original = original
        self._pid = os.getpid()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "strict"

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if os.getpid() != self._pid:
            if self._original is not None:
                self._original.write(s)
                self._original.flush()  # children often leave by os._exit
            return len(s)
        if s:
            self._batcher.write(self.name, s)
        return len(s)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if os.getpid() != self._pid:
            if self._original is not None:
                self._original.flush()
            return
        self._batcher.flush()

    def fileno(self) -> int:
        """The process's real descriptor, for code that insists on one."""
        if self._original is None:
            raise io.UnsupportedOperation("fileno")
        return self._original.fileno()

    def close(self) -> None:
        # Code that closes sys.stdout must not take the kernel's output with it.
        self.flush()


def install(batcher: StreamBatcher) -> tuple:
    """Replace sys.stdout/sys.stderr; returns the originals for restore()."""
    originals = (sys.stdout, sys.stderr)
    sys.stdout = OutStream("stdout", batcher, sys.__stdout__)
    sys.stderr = OutStream("stderr", batcher, sys.__stderr__)
    return originals


def restore(originals: tuple) -> None:
    sys.stdout, sys.stderr = originals
