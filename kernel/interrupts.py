"""SIGINT for a kernel: interrupt running code, reliably; ignore it when idle.

Why more than ``signal.signal(SIGINT, default_int_handler)``:

1. A signal that arrives after the main thread released the GIL but before it
   entered a blocking call (``time.sleep``, a poll for ``input()``) trips
   CPython's flag, yet the call then sleeps its full length before anything
   looks at the flag. An interrupt sent the moment a cell starts sleeping is
   lost that way (about one time in forty on a busy 2-core machine). So every
   signal also writes to a pipe (``signal.set_wakeup_fd``) that a watcher
   thread reads; while code runs, the watcher re-sends SIGINT to the main
   thread until the Python-level handler has raised KeyboardInterrupt. The
   handler empties the pipe when it raises, so the watcher only acts on
   signals nobody has handled.
2. A GUI toolkit's event loop blocks in C and retries its poll after a signal
   without returning to Python, so the watcher also wakes the main loop.
3. A KeyboardInterrupt raised in the middle of the kernel's own work (sending
   a multipart message) would corrupt it. The handler declines to raise
   there, and the watcher's next signal finds the main thread somewhere safe.
4. Some code catches KeyboardInterrupt, reports it and carries on: Python
   drops what a finalizer (``__del__``, a weakref callback, an unawaited
   coroutine's warning) raises, and IPython's event dispatch, which runs its
   own ``pre_execute`` callbacks before every cell, prints "Error in
   callback" and runs the cell anyway. An interrupt sent as a cell started
   was lost that way (about one in a hundred under load). The handler holds
   it back there too, then the cell is interrupted; held back for longer
   than SWALLOW_PATIENCE (a hung callback), it is raised where it lands, as
   without the kernel, so it cannot be held for ever.

Other helper threads must block SIGINT (the kernel starts them with it
blocked), so that the kernel delivers it to the main thread.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
import threading
import time
import warnings
import weakref
from typing import Callable, Optional

from .eventloops import drain_pipe

log = logging.getLogger(__name__)

try:  # the C function: signal.signal's enum conversions cost more than the call
    from _signal import signal as _set_handler
except ImportError:  # pragma: no cover - other Python implementations
    _set_handler = signal.signal
_SIGINT = int(signal.SIGINT)

#: How long, and how often, an interrupt not yet turned into a
#: KeyboardInterrupt is sent again (it may be deferred while the main thread
#: is in the kernel's own code, e.g. sending a large output).
RESEND_FOR = 30.0
RESEND_EVERY = 0.05
#: How long an interrupt is held back from code that would swallow it.
SWALLOW_PATIENCE = 2.0


_KERNEL_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: Kernel functions under which user code runs, or which wait on the user's
#: behalf (input()): an interrupt may surface there. Registered by their modules.
INTERRUPTIBLE: set = set()


#: Functions, outside the kernel, that catch KeyboardInterrupt from what they
#: call and carry on as if nothing had happened. Every ``__del__`` counts too.
SWALLOWING: set = {weakref.finalize.__call__.__code__}
if hasattr(warnings, "_warn_unawaited_coroutine"):  # what Python calls as it collects one
    SWALLOWING.add(warnings._warn_unawaited_coroutine.__code__)


def interruptible(func: Callable) -> Callable:
    """Mark a kernel function as a safe place for KeyboardInterrupt to arise in
    the code it calls (see _unsafe_to_interrupt)."""
    INTERRUPTIBLE.add(func.__code__)
    return func


def swallows_interrupts(func: Callable) -> None:
    """Register ``func`` as catching KeyboardInterrupt from its callees: an
    interrupt landing under it waits (see _swallowed_at)."""
    SWALLOWING.add(func.__code__)


def _unsafe_to_interrupt(frame) -> bool:
    """Whether a KeyboardInterrupt raised at ``frame`` would be lost or do harm.

    The import system's weakref callbacks swallow exceptions, and the kernel's
    own machinery must not stop halfway (half a multipart message corrupts a
    socket; a request must get its reply). So, walking outward, the first
    kernel frame met must be one that runs user code or waits for the user.
    """
    if frame.f_code.co_filename.startswith("<frozen "):
        return True
    f = frame
    while f is not None:
        if f.f_code.co_filename.startswith(_KERNEL_DIR):
            return f.f_code not in INTERRUPTIBLE
        f = f.f_back
    return False


def _swallowed_at(frame) -> bool:
    """Whether a KeyboardInterrupt raised at ``frame`` would be caught by a
    SWALLOWING function or a finalizer before it reaches the kernel code
    running the cell."""
    f = frame
    while f is not None:
        code = f.f_code
        if code in INTERRUPTIBLE:
            return False
        if code in SWALLOWING or code.co_name == "__del__":
            return True
        f = f.f_back
    return False


class InterruptHandling:
    """Installs the handlers and watches for signals the main thread missed."""

    def __init__(self, wake_main: Callable[[], None]):
        self._wake_main = wake_main
        self._signal_r, self._signal_w = os.pipe()
        os.set_blocking(self._signal_r, False)
        os.set_blocking(self._signal_w, False)
        self.executing = False
        #: A SIGINT arrived (the watcher read its byte) that no handler has yet
        #: turned into a KeyboardInterrupt. The lock orders the watcher's view
        #: of the pipe with the handler's.
        self._pending = False
        self._deferred = False  # the handler declined to raise (unsafe place)
        self._held_since: Optional[float] = None  # when it was first held back from a swallower
        self._lock = threading.RLock()
        self._main_ident = threading.main_thread().ident

    def install(self) -> None:
        """From the main thread, once, at start."""
        _set_handler(_SIGINT, self._idle_handler)
        signal.set_wakeup_fd(self._signal_w, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, name="interrupt-watch", daemon=True).start()

    def set_executing(self, executing: bool) -> None:
        self.executing = executing
        self._deferred = False
        self._held_since = None
        if threading.current_thread() is threading.main_thread():
            _set_handler(_SIGINT, self._busy_handler if executing else self._idle_handler)

    def interrupt(self) -> None:
        """Interrupt the running code (interrupt_request); harmless when idle."""
        os.kill(os.getpid(), signal.SIGINT)

    # -- handlers (main thread) ------------------------------------------------------
    def _busy_handler(self, signum, frame) -> None:
        __tracebackhide__ = True  # the engine also cuts this frame from tracebacks
        if frame is not None and (_unsafe_to_interrupt(frame) or self._wait_out_swallowing(frame)):
            # Not here. The kernel code that was running raises it when it
            # returns to the user's code (checkpoint()); failing that, the
            # signal's byte is still in the pipe, so the watcher knows it is
            # pending and sends it again in a moment.
            log.debug("SIGINT deferred out of %s:%s", frame.f_code.co_filename, frame.f_code.co_name)
            self._deferred = True
            return
        self._raise()

    def _wait_out_swallowing(self, frame) -> bool:
        """Whether to hold back an interrupt that would be swallowed at
        ``frame``: yes, for SWALLOW_PATIENCE after it was first held back."""
        if not _swallowed_at(frame):
            return False
        now = time.monotonic()
        if self._held_since is None:
            self._held_since = now
        return now - self._held_since < SWALLOW_PATIENCE

    def checkpoint(self) -> None:
        """Called by kernel code that user code called, as it returns: an
        interrupt deferred while it ran surfaces now, where the user's code is
        (unless it would be swallowed there)."""
        if (self._deferred and self.executing and threading.current_thread() is threading.main_thread()
                and not self._wait_out_swallowing(sys._getframe(1))):
            self._raise()

    def _raise(self) -> None:
        __tracebackhide__ = True
        with self._lock:
            drain_pipe(self._signal_r)  # this signal's byte: handled, no longer news
            self._pending = False
            self._deferred = False
            self._held_since = None
        raise KeyboardInterrupt

    def _idle_handler(self, signum, frame) -> None:
        log.debug("SIGINT while idle: nothing to interrupt")

    # -- the watcher thread --------------------------------------------------------------
    def _watch(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        while True:
            select.select([self._signal_r], [], [])
            with self._lock:
                if drain_pipe(self._signal_r):
                    self._pending = True  # arrived, and no handler has turned it into KeyboardInterrupt
            if not self._pending:
                continue
            self._wake_main()
            deadline = time.monotonic() + RESEND_FOR
            while self._pending and self.executing and time.monotonic() < deadline:
                time.sleep(RESEND_EVERY)
                with self._lock:
                    if self._pending and self.executing:
                        log.debug("SIGINT not handled yet; sending it to the main thread again")
                        signal.pthread_kill(self._main_ident, signal.SIGINT)
                        self._wake_main()  # a toolkit's loop run by user code, too
            self._pending = False  # handled, or the cell it was meant for is over
