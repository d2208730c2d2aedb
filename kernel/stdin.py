"""input() and getpass() in user code, answered by a frontend over stdin.

The question goes to the frontend whose request is running (the stdin
ROUTER addresses it by the identity its shell socket also uses), and only
that frontend's answer counts: other clients on the same kernel can neither
see the prompt nor answer it.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

import zmq

from .eventloops import drain_pipe
from .interrupts import interruptible
from .wire import Session
from .zmqutil import recv_waiting, send_frames

EOF_CHARACTER = "\x04"  # what a frontend sends for Ctrl+D


class StdinNotAvailable(Exception):
    """Stands for IPython's StdinNotImplementedError without importing IPython here."""


class InputRequests:
    def __init__(self, socket: zmq.Socket, session: Session,
                 receive: Callable[[zmq.Socket, str], Optional[tuple]],
                 wake_fd: int, stopping: Callable[[], bool]):
        self.socket = socket
        self.session = session
        self._receive = receive
        self._wake_fd = wake_fd
        self._stopping = stopping
        self._lock = threading.Lock()

    @interruptible
    def ask(self, prompt: str, password: bool, parent: dict, idents: list) -> str:
        """Send input_request to the frontend behind ``idents``; block (without
        using CPU) until it answers. SIGINT raises KeyboardInterrupt in here;
        EOF from the frontend raises EOFError."""
        msg = self.session.msg("input_request", {"prompt": prompt, "password": password}, parent=parent)
        sock = self.socket
        with self._lock:
            while recv_waiting(sock) is not None:
                pass  # answers to earlier, abandoned prompts are stale
            try:
                send_frames(sock, self.session.serialize(msg, idents))
            except zmq.ZMQError as exc:  # ROUTER_MANDATORY: nobody with that identity
                raise StdinNotAvailable(
                    f"input() is not available: the frontend has no stdin channel ({exc.strerror})"
                ) from None
            poller = zmq.Poller()
            poller.register(sock, zmq.POLLIN)
            poller.register(self._wake_fd, zmq.POLLIN)
            while True:
                if self._wake_fd in dict(poller.poll()):
                    drain_pipe(self._wake_fd)
                    if self._stopping():
                        raise EOFError("the kernel is shutting down")
                received = self._receive(sock, "stdin")
                if received is None:
                    continue
                sender, reply = received
                if reply["msg_type"] != "input_reply" or sender != idents:
                    continue  # not an answer, or not from the frontend we asked
                value = reply["content"].get("value", "")
                if not isinstance(value, str):
                    value = str(value)
                if value == EOF_CHARACTER:
                    raise EOFError("EOF when reading a line")
                return value
