"""SIGINT for a kernel: interrupt running code, reliably; ignore it when idle.

Why more than ``signal.signal(SIGINT, default_int_handler)``:

1. A signal that arrives after the main thread released the GIL but before it
   entered a blocking call (``time.sleep``, a poll for ``input()``) trips
   CPython's flag, yet the call then sleeps its full length before anything
   looks at the flag. An interrupt sent the moment a cell starts sleeping is
   lost that way (about one time in forty on a busy 2-core machine). So every
   signal also writes to a pipe (``signal.set_wakeup_fd``) that a watcher
   thread reads; while code runs, the watcher re-sends SIGINT to the main
   thread until the Python-level handler has actually run for the cell that
   is running. The handler empties the pipe, so the watcher only acts on
   signals nobody has handled. Cells are numbered, and the handler records
   the number of the cell it interrupted: a count of handled signals, taken
   before waiting, went stale whenever the handler emptied the pipe before
   the watcher woke, and then a later missed signal looked handled. (So a
   second interrupt of a cell whose code caught the first KeyboardInterrupt
   is not re-sent: it still arrives as usual, unless it is missed too.)
2. A GUI toolkit's event loop blocks in C and retries its poll after a signal
   without returning to Python, so the watcher also wakes the main loop.

Other helper threads must block SIGINT (the kernel starts them with it
blocked), so that the kernel delivers it to the main thread.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time
from typing import Callable

from .eventloops import drain_pipe

log = logging.getLogger(__name__)

try:  # the C function: signal.signal's enum conversions cost more than the call
    from _signal import signal as _set_handler
except ImportError:  # pragma: no cover - other Python implementations
    _set_handler = signal.signal
_SIGINT = int(signal.SIGINT)

#: How long, and how often, an unnoticed interrupt is re-sent.
RESEND_FOR = 2.0
RESEND_EVERY = 0.05


class InterruptHandling:
    """Installs the handlers and watches for signals the main thread missed."""

    def __init__(self, wake_main: Callable[[], None]):
        self._wake_main = wake_main
        self._signal_r, self._signal_w = os.pipe()
        os.set_blocking(self._signal_r, False)
        os.set_blocking(self._signal_w, False)
        self.executing = False
        self._cell = 0  # numbers the cells run, so a signal belongs to one of them
        self._interrupted = 0  # the last cell whose Python-level handler raised KeyboardInterrupt
        self._main_ident = threading.main_thread().ident

    def install(self) -> None:
        """From the main thread, once, at start."""
        _set_handler(_SIGINT, self._idle_handler)
        signal.set_wakeup_fd(self._signal_w, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="interrupt-watch", daemon=True).start()

    def set_executing(self, executing: bool) -> None:
        if executing:
            self._cell += 1
        self.executing = executing
        if threading.current_thread() is threading.main_thread():
            _set_handler(_SIGINT, self._busy_handler if executing else self._idle_handler)

    def interrupt(self) -> None:
        """Interrupt the running code (interrupt_request); harmless when idle."""
        os.kill(os.getpid(), signal.SIGINT)

    # -- handlers (main thread) ------------------------------------------------------
    def _busy_handler(self, signum, frame) -> None:
        __tracebackhide__ = True  # the engine also cuts this frame from tracebacks
        self._interrupted = self._cell  # before the drain: the watcher may read the byte first
        drain_pipe(self._signal_r)  # handled: no longer news for the watcher
        raise KeyboardInterrupt

    def _idle_handler(self, signum, frame) -> None:
        log.debug("SIGINT while idle: nothing to interrupt")

    # -- the watcher thread --------------------------------------------------------------
    def _watch(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        while True:
            select.select([self._signal_r], [], [])
            if not drain_pipe(self._signal_r):
                continue  # the handler ran first and took the bytes
            self._wake_main()
            cell = self._cell
            deadline = time.monotonic() + RESEND_FOR
            while self._not_interrupted(cell) and time.monotonic() < deadline:
                time.sleep(RESEND_EVERY)
                if self._not_interrupted(cell):
                    log.debug("SIGINT not handled yet; sending it to the main thread again")
                    signal.pthread_kill(self._main_ident, signal.SIGINT)

    def _not_interrupted(self, cell: int) -> bool:
        """``cell`` still runs and its handler has not run yet."""
        return self.executing and self._cell == cell and self._interrupted != cell
