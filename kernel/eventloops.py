"""The kernel's main-thread loops: plain ZeroMQ, or a GUI toolkit's.

A loop's ``run(app)`` serves the shell channel by calling
``app.process_shell()`` whenever the shell socket may have messages, and
returns when ``app.stopping`` is set or ``app.event_loop`` is no longer this
loop (``%gui`` switched toolkits), so the kernel can start the next one.

Toolkit loops (:mod:`kernel.qtloop`, :mod:`kernel.tkloop`) also have
``activate()``/``deactivate()``, called by :mod:`kernel.guiswitch` when
``%gui`` selects or leaves them, and ``close_windows()`` for shutdown.
They sleep in the toolkit's own wait, watching two descriptors:

* the shell socket's ZeroMQ FD, which is edge-triggered: it only says that
  ``zmq.EVENTS`` may have changed, so every wake-up re-checks
  ``app.shell_pending()`` before sleeping again;
* ``app.wake_fd``, written by ``app.wake()`` (shutdown) and, being Python's
  signal wakeup fd, by SIGINT, so that Python-level signal handlers run
  promptly even while the toolkit waits in C.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import zmq


class GuiUnavailable(RuntimeError):
    """A toolkit loop cannot start here (toolkit missing, no display...);
    the message says why and what to do, and the current loop goes on."""


def drain_pipe(fd: int) -> int:
    """Read a non-blocking pipe empty; returns how many bytes there were."""
    total = 0
    try:
        while chunk := os.read(fd, 4096):
            total += len(chunk)
    except BlockingIOError:
        pass
    return total


@contextmanager
def sigint_blocked() -> Iterator[None]:
    """Threads a toolkit starts in here inherit a mask without SIGINT, so
    interrupts keep reaching the main thread (and the code it runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


#: Seconds the plain loop keeps checking the shell socket after serving
#: requests, before it sleeps in zmq_poll. A client that sends its next
#: request as soon as the last is answered (running a notebook, a test suite)
#: finds the kernel awake, its caches warm: measured on a 2-core machine, a
#: short cell's round trip drops by a sixth and kernel_info's to the floor's
#: (waking a sleeping thread and refilling its caches cost tens of µs). The
#: price is at most this much CPU per request, and the GIL held that long.
LINGER_AFTER_REQUEST = 150e-6


def _request_arrives_soon(app) -> bool:
    """Whether a shell message comes (or the kernel starts stopping) within
    LINGER_AFTER_REQUEST."""
    deadline = time.perf_counter() + LINGER_AFTER_REQUEST
    while time.perf_counter() < deadline:
        if app.shell_pending() or app.stopping:
            return True
    return False


class ZmqLoop:
    """No toolkit: block in zmq_poll until a request or a wake-up arrives."""

    name = None

    def run(self, app) -> None:
        poller = zmq.Poller()
        poller.register(app.shell_socket, zmq.POLLIN)
        poller.register(app.wake_fd, zmq.POLLIN)
        while not app.stopping and app.event_loop is self:
            if not app.shell_pending() and not _request_arrives_soon(app):
                events = dict(poller.poll())
                if app.wake_fd in events:
                    drain_pipe(app.wake_fd)
            app.process_shell()

    def activate(self) -> None:
        pass

    def deactivate(self) -> None:
        pass
