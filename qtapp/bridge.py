"""ZeroMQ sockets to Qt signals, without threads or polling.

Each channel's socket exposes a file descriptor (``zmq.FD``) that a
``QSocketNotifier`` watches. That descriptor is *edge-triggered*: it signals
that the socket's state changed, not that a message is waiting, and any
operation on the socket (a send, a check of ``zmq.EVENTS``) can consume the
edge. So:

- on activation, a channel is drained until it is empty;
- draining is time-boxed; what is left is drained again from a 0 ms timer,
  so a flood of messages cannot hold the event loop;
- after every send, ``zmq.EVENTS`` is checked on every socket and a drain is
  scheduled for those with input, or those messages would wait for the next
  edge, which may never come.

The heartbeat is a ping every half second; no echo for 2 s means the
kernel is unresponsive (or dead), and an echo afterwards means it is back.

Readiness is a handshake, never a blocking wait: the kernel_info reply and
any IOPub message (the kernel's welcome, or the status of our request) must
both have arrived, proving the subscription is live so no output is missed.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, Optional

import zmq
from PyQt5.QtCore import QObject, QSocketNotifier, QTimer, pyqtSignal

from kernel.client import KernelClient
from kernel.connect import ConnectionFileError

log = logging.getLogger(__name__)

#: Seconds of message handling per drain before yielding to the event loop.
DRAIN_BUDGET = 0.010
HEARTBEAT_INTERVAL_MS = 500
#: No echo for this long and the kernel counts as unresponsive: with a ping
#: every half second, a dead kernel is noticed within 2.5 s (under 3 s even
#: when this thread is late by a few hundred milliseconds).
HEARTBEAT_TIMEOUT = 2.0
#: Resend kernel_info this often while IOPub has not shown life.
HANDSHAKE_RETRY_MS = 500
MESSAGE_CHANNELS = ("shell", "iopub", "stdin", "control")


class KernelBridge(QObject):
    """Owns the channels of one KernelClient and turns them into signals."""

    shell_message = pyqtSignal(dict)
    iopub_message = pyqtSignal(dict)
    stdin_message = pyqtSignal(dict)
    control_message = pyqtSignal(dict)
    #: the handshake finished: the kernel_info reply
    ready = pyqtSignal(dict)
    #: no heartbeat echo for this many seconds
    heartbeat_lost = pyqtSignal(float)
    heartbeat_recovered = pyqtSignal()
    #: an echo came back (the kernel process is alive)
    heartbeat = pyqtSignal()
    #: the connection file had a new key (someone restarted the kernel)
    key_changed = pyqtSignal()

    def __init__(self, client: KernelClient, parent: Optional[QObject] = None,
                 heartbeat_timeout: float = HEARTBEAT_TIMEOUT):
        super().__init__(parent)
        self.client = client
        self.heartbeat_timeout = heartbeat_timeout
        self.is_ready = False
        self.kernel_info: Optional[dict] = None
        self._notifiers: Dict[str, QSocketNotifier] = {}
        self._drain_pending: set = set()
        self._signals = {"shell": self.shell_message, "iopub": self.iopub_message,
                         "stdin": self.stdin_message, "control": self.control_message}
        self._running = False
        self._iopub_live = False
        self._last_echo = time.monotonic()
        self._hb_lost = False
        self._dropped_seen: Dict[str, int] = {}
        self._last_reload = 0.0
        self._hb_timer = QTimer(self)
        self._hb_timer.setInterval(HEARTBEAT_INTERVAL_MS)
        self._hb_timer.timeout.connect(self._heartbeat_tick)
        self._handshake_timer = QTimer(self)
        self._handshake_timer.setInterval(HANDSHAKE_RETRY_MS)
        self._handshake_timer.timeout.connect(self._handshake_retry)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(0)
        self._check_timer.timeout.connect(self._check_all)

    # -- life cycle ------------------------------------------------------------------
    def start(self) -> None:
        if self._running:
            return
        self.client.start_channels()
        self._running = True
        for name in MESSAGE_CHANNELS + ("hb",):
            sock = self._channel(name).socket
            notifier = QSocketNotifier(sock.getsockopt(zmq.FD), QSocketNotifier.Read, self)
            notifier.activated.connect(lambda _fd, n=name: self._drain(n))
            self._notifiers[name] = notifier
        self._last_echo = time.monotonic()
        self._hb_lost = False
        self._hb_timer.start()
        self.handshake()

    def stop(self) -> None:
        """Stop watching and close the channels (safe to call twice)."""
        if not self._running:
            return
        self._running = False
        for notifier in self._notifiers.values():
            notifier.setEnabled(False)
            notifier.deleteLater()
        self._notifiers.clear()
        self._hb_timer.stop()
        self._handshake_timer.stop()
        self._check_timer.stop()
        self.client.stop_channels()

    @property
    def running(self) -> bool:
        return self._running

    def handshake(self) -> None:
        """(Re)establish readiness: a kernel_info reply plus live IOPub."""
        self.is_ready = False
        self.kernel_info = None
        self._iopub_live = False
        self.send("kernel_info")
        self._handshake_timer.start()

    def _channel(self, name: str) -> Any:
        return getattr(self.client, f"{name}_channel")

    # -- sending ----------------------------------------------------------------------
    def send(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a KernelClient request method (``execute``, ``complete``...).

        Returns what it returns (the msg_id). Sending may swallow a socket's
        readiness edge, so every socket is checked right after.
        """
        if not self._running:
            raise RuntimeError("the bridge is not running")
        result = getattr(self.client, method)(*args, **kwargs)
        self._check_timer.start()
        return result

    def _check_all(self) -> None:
        if not self._running:
            return
        for name in MESSAGE_CHANNELS + ("hb",):
            if self._channel(name).socket.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                self._schedule_drain(name)

    def _schedule_drain(self, name: str) -> None:
        if name not in self._drain_pending:
            self._drain_pending.add(name)
            QTimer.singleShot(0, lambda n=name: self._drain(n))

    # -- receiving --------------------------------------------------------------------
    def drain_now(self, name: str) -> None:
        """Deliver what has already arrived on a channel, now (to order it
        before a message from another channel)."""
        if self._running:
            self._drain(name)

    def _drain(self, name: str) -> None:
        self._drain_pending.discard(name)
        if not self._running:
            return
        notifier = self._notifiers.get(name)
        if notifier is not None:
            notifier.setEnabled(False)
        try:
            if name == "hb":
                self._drain_heartbeat()
            else:
                self._drain_messages(name)
        finally:
            if self._running and notifier is not None:
                notifier.setEnabled(True)
        if self._running and self._channel(name).socket.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            self._schedule_drain(name)

    def _drain_messages(self, name: str) -> None:
        channel = self._channel(name)
        signal = self._signals[name]
        deadline = time.perf_counter() + DRAIN_BUDGET
        while self._running:
            msg = channel.recv_nowait()
            if msg is None:
                break
            if name == "iopub" and not self._iopub_live:
                self._iopub_live = True
                self._maybe_ready()
            elif name == "shell" and msg["msg_type"] == "kernel_info_reply":
                self._on_kernel_info(msg)
            try:
                signal.emit(msg)
            except Exception:  # a broken handler must not stop message delivery
                log.exception("handling a %s message failed", msg.get("msg_type"))
            if time.perf_counter() > deadline:
                self._schedule_drain(name)
                break
        if self._running and channel.dropped > self._dropped_seen.get(name, 0):
            self._dropped_seen[name] = channel.dropped
            self._maybe_reload_key()

    def _drain_heartbeat(self) -> None:
        hb = self.client.hb_channel
        while self._running and hb.recv_nowait() is not None:
            self._last_echo = time.monotonic()
            self.heartbeat.emit()
            if self._hb_lost:
                self._hb_lost = False
                log.info("the kernel's heartbeat is back")
                self.heartbeat_recovered.emit()

    def _heartbeat_tick(self) -> None:
        if not self._running:
            return
        # An echo may be waiting unread if this thread was busy: take it first,
        # or a slow GUI would be mistaken for a dead kernel.
        self._drain_heartbeat()
        silent_for = time.monotonic() - self._last_echo
        if silent_for > self.heartbeat_timeout and not self._hb_lost:
            self._hb_lost = True
            log.warning("no heartbeat from the kernel for %.1f s", silent_for)
            self.heartbeat_lost.emit(silent_for)
        self.send_ping()

    def send_ping(self) -> None:
        self.client.hb_channel.ping()
        self._check_timer.start()

    @property
    def heartbeat_ok(self) -> bool:
        return not self._hb_lost

    def reset_heartbeat(self) -> None:
        """Forget missed beats (after a restart we asked for)."""
        self._last_echo = time.monotonic()
        if self._hb_lost:
            self._hb_lost = False
            self.heartbeat_recovered.emit()

    # -- handshake --------------------------------------------------------------------
    def _on_kernel_info(self, msg: dict) -> None:
        if not self.is_ready:
            self.kernel_info = msg
            self.client.kernel_info_reply = msg
            self._maybe_ready()

    def _maybe_ready(self) -> None:
        if self.is_ready or self.kernel_info is None or not self._iopub_live:
            return
        self.is_ready = True
        self._handshake_timer.stop()
        log.debug("kernel ready: %s", self.kernel_info["content"].get("implementation"))
        self.ready.emit(self.kernel_info)

    def _handshake_retry(self) -> None:
        if self.is_ready or not self._running:
            self._handshake_timer.stop()
            return
        if self.kernel_info is not None and not self._iopub_live:
            self.send("kernel_info")  # its busy/idle status proves IOPub

    def take_new_key(self, key: str, signature_scheme: Optional[str] = None) -> None:
        """The kernel was restarted with ``key`` (found by whoever watched its
        connection file): use it and establish readiness again."""
        if self.client.session.key != key.encode():
            self.client.update_key(key, signature_scheme)
        log.info("the kernel's key changed (restarted); following it")
        self.key_changed.emit()
        if self._running:
            self.handshake()

    def _maybe_reload_key(self) -> None:
        """Messages failing verification after a restart by someone else: the
        connection file has the new key."""
        now = time.monotonic()
        if now - self._last_reload < 1.0:
            return
        self._last_reload = now
        try:
            changed = self.client.reload_connection_file()
        except ConnectionFileError as exc:
            log.warning("cannot re-read the connection file: %s", exc)
            return
        if changed:
            log.info("the kernel's key changed (restarted elsewhere); following it")
            self.key_changed.emit()
            self.handshake()
