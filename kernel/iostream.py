"""stdout/stderr capture: text written by user code becomes ``stream`` messages.

Text is sent in batches: at the latest ``FLUSH_INTERVAL`` after it was
written, at once when a batch grows past ``FLUSH_SIZE``, when user code
flushes, and whenever the kernel flushes (before a reply, before ``idle``,
before any other output). stdout and stderr share one ordered batch queue,
so their relative order on the wire is the order they were written.

Why two stdout objects. A Python-level ``write`` costs more than ``print``
itself (200,000 prints: 0.06 s into a C method, 0.3-0.8 s through any Python
``write``). So while a cell runs, ``sys.stdout`` is a stream whose ``write``
is a C method (:class:`FastOutStream`); what it collects is moved into the
batch queue when flushed, and by a timer that ticks only while the cell
runs. Between cells nothing ticks (an idle kernel does not wake up), so
``sys.stdout`` is swapped for a Python-level stream that notices every write
itself, and output printed by background threads while idle still goes out
within ``FLUSH_INTERVAL``. stderr is always the Python-level kind: it is rare,
and each stderr write first drains stdout's collection to keep the order.
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
        self.lock = threading.RLock()  # also held by FastOutStream.drain
        self._name: Optional[str] = None
        self._parts: list = []
        self._pending = 0
        self._timer_armed = False

    def write(self, name: str, text: str) -> None:
        with self.lock:
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
        with self.lock:
            self._flush_locked()

    def _on_timer(self) -> None:
        with self.lock:
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


class _CapturedText(io.TextIOBase):
    """What both captured stream kinds share: a write-only UTF-8 text stream
    whose text ends up in the batcher, with the process's real stream behind
    it for ``fileno()`` and for forked children."""

    def __init__(self, name: str, batcher: StreamBatcher, original=None):
        super().__init__()
        self.name = name
        self._batcher = batcher
        self._original = original
        #: Run as each call from user code returns (the kernel lets an
        #: interrupt that arrived meanwhile surface there).
        self.checkpoint: Callable[[], None] = _nothing

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

    def fileno(self) -> int:
        """The process's real descriptor, for code that insists on one."""
        if self._original is None:
            raise io.UnsupportedOperation("fileno")
        return self._original.fileno()

    def close(self) -> None:
        # Code that closes sys.stdout must not take the kernel's output with it.
        self.flush()


class OutStream(_CapturedText):
    """A Python-level text stream feeding the batcher (stderr; stdout when idle).

    In a forked child (``os.fork``, multiprocessing) the parent's sockets are
    off limits, so writes go to the process's original stream instead, a
    whole line at a time, as on a terminal: the kernel forwards what reaches
    the descriptor (see :mod:`kernel.fdcapture`), and a line written whole is
    not cut in two by other output on the way.
    """

    def __init__(self, name: str, batcher: StreamBatcher, original=None,
                 before_write: Optional[Callable[[], None]] = None):
        super().__init__(name, batcher, original)
        self._before_write = before_write
        self._pid = os.getpid()
        self._unfinished: list = []  # a forked child's text after its last newline

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if os.getpid() != self._pid:
            self._unfinished.append(s)
            if "\n" in s:
                self._write_original()
            return len(s)
        if s:
            if self._before_write is not None:
                self._before_write()
            self._batcher.write(self.name, s)
            self.checkpoint()
        return len(s)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def _write_original(self) -> None:
        """In a forked child: what it wrote, to the real stream, now."""
        text, self._unfinished = "".join(self._unfinished), []
        if self._original is not None:
            if text:
                self._original.write(text)
            self._original.flush()

    def forget(self) -> None:
        """In a forked child: what its parent had not finished writing is not its own."""
        self._unfinished = []

    def flush(self) -> None:
        if os.getpid() != self._pid:
            self._write_original()
            return
        if self._before_write is not None:
            self._before_write()
        self._batcher.flush()
        self.checkpoint()


class FastOutStream(_CapturedText):
    """stdout while a cell runs: ``write`` *is* ``list.append``.

    ``print()`` looks ``write`` up and calls it from C, so with a C method
    there is no Python frame per write at all, and ``list.append`` is atomic
    under the GIL, so threads writing at once lose nothing (CPython's own
    ``TextIOWrapper`` can drop a chunk when two threads write and a flush
    calls into Python, which rules out the usual C buffer here). The list is
    moved into the batch queue when flushed, by the kernel or by a timer.

    The one difference users may notice: ``sys.stdout.write(s)`` returns None
    instead of ``len(s)`` while a cell runs (print and logging ignore it).
    Writes of non-text are not refused on the spot; bytes are decoded and
    other objects converted with ``str`` when the text is sent.
    """

    def __init__(self, name: str, batcher: StreamBatcher, original=None):
        super().__init__(name, batcher, original)
        self._items: list = []
        self.write = self._items.append  # type: ignore[method-assign]

    def writelines(self, lines) -> None:
        self._items.extend(lines)

    def drain(self, whole_lines: bool = False) -> None:
        """Move written text into the batch queue without sending it; with
        ``whole_lines``, only up to the last newline (the rest stays, to be
        continued)."""
        items = self._items
        if not items:
            return
        with self._batcher.lock:  # two drains at once must not swap their chunks
            n = len(items)
            chunk = items[:n]
            try:
                text = "".join(chunk)
            except TypeError:
                text = "".join(_as_text(x) for x in chunk)
            rest = ""
            if whole_lines:
                end = text.rfind("\n") + 1
                text, rest = text[:end], text[end:]
            # Writers only append, so exactly what was copied goes (an
            # unfinished line goes back in front of what came since).
            items[:n] = [rest] if rest else []
            if text:
                self._batcher.write(self.name, text)

    def flush(self) -> None:
        self.drain()
        self._batcher.flush()  # a user's flush means "now", not "within 50 ms"
        self.checkpoint()

    def forget(self) -> None:
        """In a forked child: what the parent had written is not the child's."""
        self._items.clear()


def _nothing() -> None:
    pass


def _as_text(item) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item).decode("utf-8", "replace")
    return str(item)


class CapturedStreams:
    """Installs the captured streams and switches stdout between its two forms."""

    def __init__(self, send: SendFn, schedule: Optional[ScheduleFn] = None,
                 interval: float = FLUSH_INTERVAL):
        self.batcher = StreamBatcher(send, schedule, interval)
        self._schedule = schedule
        self.interval = interval
        self.fast_stdout = FastOutStream("stdout", self.batcher, sys.__stdout__)
        self.stdout = OutStream("stdout", self.batcher, sys.__stdout__, before_write=self._drain_fast)
        self.stderr = OutStream("stderr", self.batcher, sys.__stderr__, before_write=self._drain_fast)
        self._in_request = False
        self._started_since_tick = False
        self._pumping = False
        self._saved: tuple = ()

    def set_checkpoint(self, checkpoint: Callable[[], None]) -> None:
        for stream in (self.fast_stdout, self.stdout, self.stderr):
            stream.checkpoint = checkpoint

    def install(self) -> None:
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = self.stdout, self.stderr
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        """A forked child writes to the process's real streams, line by line
        (the Python-level streams do that in a child), and starts with nothing
        of its parent's unsent text."""
        self._in_request = False
        for stream in (self.fast_stdout, self.stdout, self.stderr):
            stream.forget()
        if sys.stdout is self.fast_stdout:
            sys.stdout = self.stdout

    def restore(self) -> None:
        if self._saved:
            sys.stdout, sys.stderr = self._saved

    def _drain_fast(self) -> None:
        self.fast_stdout.drain()

    def write_descriptor_text(self, name: str, text: str) -> None:
        """Text that reached descriptor 1 or 2 (see :mod:`kernel.fdcapture`),
        placed after the lines Python code printed before it: a line being
        printed is not cut in two, as it would not be on a terminal."""
        self.fast_stdout.drain(whole_lines=True)
        self.batcher.write(name, text)

    def flush(self) -> None:
        """Send everything written so far (both forms, in order)."""
        self.fast_stdout.drain()
        self.batcher.flush()

    # -- the fast form while a cell runs ----------------------------------------
    # A "pump" drains the fast stream every interval on the IOPub thread. It
    # starts with a request and stops at the first tick that finds no request
    # running and none started since the previous tick, so back-to-back short
    # requests cost no timer wake-ups at all, and the tick after a request
    # ends catches writes that raced the swap back to the Python-level stdout.
    def begin_request(self) -> None:
        if sys.stdout is self.stdout:  # leave a stdout the user installed alone
            sys.stdout = self.fast_stdout
        with self.batcher.lock:
            self._in_request = True
            self._started_since_tick = True
            start_pump = not self._pumping and self._schedule is not None
            self._pumping = self._pumping or start_pump
        if start_pump:
            self._schedule(self.interval, self._pump)

    def end_request(self) -> None:
        self._in_request = False
        if sys.stdout is self.fast_stdout:
            sys.stdout = self.stdout
        self.flush()

    def _pump(self) -> None:
        self.flush()
        with self.batcher.lock:
            again = self._in_request or self._started_since_tick
            self._started_since_tick = False
            self._pumping = again
        if again:
            self._schedule(self.interval, self._pump)
