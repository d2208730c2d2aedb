"""The IOPub broadcaster: one PUB socket shared safely by every thread.

Output comes from the main thread (user code), the control thread (status,
shutdown) and user threads (print from a thread). A ZeroMQ socket may be used
by one thread at a time, with a memory barrier between users, so the socket
sits behind a lock:

- a producer that finds the lock free and nothing queued sends at once, in
  its own thread (no hand-off: this is the latency of every busy/idle);
- otherwise it queues the frames and wakes the IOPub thread, which sends the
  queue in order. Either way, each thread's messages leave in the order that
  thread produced them.

The IOPub thread also greets each new subscriber with ``iopub_welcome`` (the
socket is an XPUB), so a client knows its subscription is live and no output
will be missed, and it runs short timers (the stream batching deadline).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import threading
import time
from collections import deque
from typing import Callable

import zmq

from .zmqutil import EVENTS, POLLIN, send_frames as zmq_send
from .wire import Session

log = logging.getLogger(__name__)

#: Messages kept for a slow subscriber before ZeroMQ drops. Output is batched,
#: so this is minutes of output; a stuck subscriber cannot grow memory forever.
IOPUB_HWM = 100_000


class IOPubThread:
    def __init__(self, context: zmq.Context, session: Session, url: str | None = None):
        self.session = session
        self.socket = context.socket(zmq.XPUB)
        self.socket.linger = 1000
        self.socket.sndhwm = IOPUB_HWM
        self.socket.setsockopt(zmq.XPUB_VERBOSE, 1)  # a welcome for every subscriber
        if url is not None:
            self.socket.bind(url)
        self._lock = threading.Lock()
        self._closed = False
        self._queue: deque = deque()
        self._timers: list = []
        self._timer_seq = itertools.count()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)
        self._wake_pending = False
        self._stopping = False
        self._pid = os.getpid()
        self.thread = threading.Thread(target=self._run, name="iopub", daemon=True)

    # -- producer side (any thread) ------------------------------------------
    def send(self, msg_type: str, content: dict, parent: dict | None = None,
             metadata: dict | None = None, buffers=None, topic: bytes | None = None) -> dict:
        msg = self.session.msg(msg_type, content, parent=parent, metadata=metadata, buffers=buffers)
        self.send_frames(self.session.serialize(msg, [topic or msg_type.encode()]))
        return msg

    def send_frames(self, frames: list) -> None:
        if os.getpid() != self._pid:
            return  # a forked child must never write to its parent's socket
        if not self._queue and self._lock.acquire(blocking=False):
            try:
                if not self._queue:  # still nothing ahead of us: send now
                    self._send(frames)
                    self._greet_subscribers()
                    return
            finally:
                self._lock.release()
        self._queue.append(frames)
        self._wake()

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` in the IOPub thread after ``delay`` seconds."""
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._timer_seq), callback))
        self._wake()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far has been handed to ZeroMQ."""
        if threading.current_thread() is self.thread or not self.thread.is_alive():
            return True
        marker = threading.Event()
        self._queue.append(marker)
        self._wake()
        return marker.wait(timeout)

    def _wake(self) -> None:
        if not self._wake_pending:
            self._wake_pending = True
            try:
                os.write(self._wake_w, b"\0")
            except OSError:
                pass  # the pipe is full or closed: the thread is awake or gone

    # -- with the lock held ------------------------------------------------------
    def _send(self, frames: list) -> None:
        if self._closed:
            return
        try:
            zmq_send(self.socket, frames)
        except zmq.ZMQError as exc:
            log.warning("IOPub send failed: %s", exc)

    def _greet_subscribers(self) -> None:
        """Answer pending (un)subscriptions. Called after every socket use,
        because using the socket may consume the edge on its descriptor."""
        sock = self.socket
        while not self._closed and sock.getsockopt(EVENTS) & POLLIN:
            event = sock.recv()
            if event[:1] == b"\x01":
                topic = event[1:]
                msg = self.session.msg("iopub_welcome", {"subscription": topic.decode("utf-8", "replace")})
                self._send(self.session.serialize(msg, [topic or b"iopub_welcome"]))

    def _send_queued(self) -> None:
        q = self._queue
        while q:
            item = q.popleft()
            if isinstance(item, threading.Event):
                item.set()  # a flush() marker: everything before it is sent
            else:
                self._send(item)

    # -- the thread ------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        if self.thread.is_alive():
            self._stopping = True
            self._wake_pending = False
            self._wake()
            self.thread.join(timeout)

    def _run(self) -> None:
        poller = zmq.Poller()
        poller.register(self.socket.getsockopt(zmq.FD), zmq.POLLIN)  # the raw fd: no socket use here
        poller.register(self._wake_r, zmq.POLLIN)
        try:
            while True:
                timeout = None
                if self._timers:
                    # Rounded up: zmq_poll counts whole milliseconds, and a
                    # timeout rounded down to 0 would spin until the timer is due.
                    timeout = max(0, math.ceil((self._timers[0][0] - time.monotonic()) * 1000))
                events = dict(poller.poll(timeout))
                if self._wake_r in events:
                    try:
                        os.read(self._wake_r, 4096)
                    except BlockingIOError:
                        pass
                    # Only now: a producer that saw the flag still set queued
                    # before this point, so the drain below sends its message.
                    self._wake_pending = False
                self._run_due_timers(everything=self._stopping)
                with self._lock:
                    self._send_queued()
                    self._greet_subscribers()
                if self._stopping:
                    break
        except Exception:
            log.exception("IOPub thread failed")
        finally:
            with self._lock:
                self._closed = True
                self.socket.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            for item in self._queue:  # nobody may wait forever on a dead thread
                if isinstance(item, threading.Event):
                    item.set()

    def _run_due_timers(self, everything: bool = False) -> None:
        now = time.monotonic()
        while self._timers and (everything or self._timers[0][0] <= now):
            _, _, callback = heapq.heappop(self._timers)
            try:
                callback()
            except Exception:
                log.exception("IOPub timer callback failed")
