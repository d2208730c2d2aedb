"""When someone else restarts or shuts down the kernel.

Every frontend on a kernel sees its ``shutdown_reply`` broadcast on IOPub,
with the header of the request that asked for it. The console says who did
it, then:

- *restart*: a console that owns the kernel starts it again itself (its
  lifecycle expects the exit). An attached console waits for the owner to
  write the restarted kernel's new key into the connection file, takes it
  and carries on; prompt numbers follow the new kernel. (For a kernel on
  another machine the connector brings the new key into the local file.)
- *shutdown*: the console offers to close, or to start a kernel of its own
  (an owned console starts its kernel again; an attached one becomes the
  owner of a new kernel).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Callable, Optional

from PyQt5.QtCore import QObject, QTimer

from kernel.connect import ConnectionFileError, read_connection_file
from kernel.manager import KernelManager

from .others import Peer
from .outputs import NoticeOp

if TYPE_CHECKING:
    from .controller import ConsoleController

log = logging.getLogger(__name__)

#: How often the connection file is read while a restart is awaited.
POLL_MS = 200
#: How long an owner may take to write the restarted kernel's new key.
FOLLOW_TIMEOUT = 60.0
START_AGAIN = "Start kernel again"
START_NEW = "Start a new kernel"
CLOSE = "Close"


class SharedKernel(QObject):
    """A console's reactions to other frontends restarting or stopping its kernel."""

    def __init__(self, controller: "ConsoleController"):
        super().__init__(controller)
        self.c = controller
        #: who shut the kernel down, while the console offers its choices
        self.stopped_by: Optional[str] = None
        self._old_key: Optional[bytes] = None
        self._deadline = 0.0
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_file)
        controller.lifecycle.ended.connect(self._on_ended)

    @property
    def following_restart(self) -> bool:
        return self._poll.isActive()

    def on_broadcast(self, restart: bool, peer: Optional[Peer]) -> None:
        """A shutdown_reply was broadcast: ``peer`` asked (None: this console)."""
        c = self.c
        owned = c.lifecycle.owned
        if restart:
            if not owned:
                self._follow_restart()
            return
        if peer is None:
            return  # our own shutdown: the console already says so
        self.stopped_by = peer.username
        if not owned:  # nothing to wait for: the kernel is going and is not ours to start
            c.forget_executions()
            if c.bridge is not None:
                c.bridge.stop()
            self._offer(f"{peer.username} shut down the kernel.", START_NEW, self.start_new_kernel)
            c.set_state("shutdown")

    # -- a restart elsewhere ------------------------------------------------------------------
    def _follow_restart(self) -> None:
        bridge = self.c.bridge
        client = bridge.client if bridge is not None else None
        if client is None or client.connection_file is None:
            return  # no file to follow; a silent heartbeat will tell
        self.c.forget_executions()
        self.c.set_state("restarting")
        self._old_key = client.session.key
        connector = self.c.lifecycle.connector
        if connector is not None and not connector.follow_restart(self._old_key):
            self._cannot_follow("its connection file does not say where it is on the server")
            return
        self._deadline = time.monotonic() + FOLLOW_TIMEOUT
        bridge.key_changed.connect(self._stop_following)
        self._poll.start()

    def _check_file(self) -> None:
        bridge = self.c.bridge
        if bridge is None or not bridge.running:
            self._stop_following()
            return
        if time.monotonic() > self._deadline:
            self._stop_following()
            self._cannot_follow(f"no new key appeared in {bridge.client.connection_file} within "
                                f"{FOLLOW_TIMEOUT:.0f} s")
            return
        try:
            info = read_connection_file(bridge.client.connection_file)
        except ConnectionFileError:
            return  # being rewritten, or removed for a moment: look again
        if info.key.encode() == self._old_key:
            return
        self._stop_following()
        bridge.take_new_key(info.key, info.signature_scheme)

    def _stop_following(self) -> None:
        self._poll.stop()
        bridge = self.c.bridge
        if bridge is not None:
            try:
                bridge.key_changed.disconnect(self._stop_following)
            except TypeError:
                pass  # not connected

    def _cannot_follow(self, why: str) -> None:
        log.warning("cannot follow the kernel's restart: %s", why)
        self.c.set_state("dead")
        self.c.view.present(NoticeOp(f"The restarted kernel cannot be followed: {why}. Attach to it again "
                                     "with its current connection file.", level="error"))
        self.c.view.show_notice("The restarted kernel cannot be followed.", [(CLOSE, self.close_console)])

    # -- a shutdown elsewhere -------------------------------------------------------------------
    def _on_ended(self, how: str) -> None:
        """Our kernel exited because a frontend asked it to."""
        c = self.c
        c.forget_executions()
        if c.bridge is not None:
            c.bridge.stop()
        c.set_state("shutdown")
        who = self.stopped_by or "another client"
        c.view.present(NoticeOp(f"The kernel was shut down by {who} ({how})"))
        self._offer(f"{who} shut down the kernel.", START_AGAIN, self.start_again)

    def _offer(self, text: str, start_label: str, start: Callable[[], None]) -> None:
        self.c.view.show_notice(text, [(start_label, start), (CLOSE, self.close_console)])

    def start_again(self) -> None:
        """An owned console: start its kernel again (same ports, a new key)."""
        self.stopped_by = None
        self.c.start()

    def start_new_kernel(self) -> None:
        """An attached console: start a kernel of its own and carry on there."""
        self.stopped_by = None
        lifecycle = self.c.lifecycle
        lifecycle.adopt(KernelManager(username=self.c.username or None))
        self.c.start()

    def close_console(self) -> None:
        self.c.exit_requested.emit(not self.c.lifecycle.owned)
