"""KernelClient: the five channels seen from a frontend.

Everything here is blocking-with-timeouts or non-blocking, and uses no
threads: each channel exposes its ZeroMQ socket, so an event loop (the Qt
console's QSocketNotifier) can wait on it and call :meth:`Channel.recv_nowait`
until it returns None. Scripts use the blocking helpers::

    from kernel import KernelClient, find_connection_file

    kc = KernelClient.from_connection_file(find_connection_file("6759"))
    kc.start_channels()
    kc.wait_for_ready(timeout=10)
    reply = kc.execute_interactive("a = 5; print(a * 2)")
    print(reply["content"]["status"])
"""

from __future__ import annotations

import getpass
import logging
import queue
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import zmq

from .connect import ConnectionInfo, read_connection_file
from .logutil import RateLimitedLog
from .zmqutil import recv_waiting, send_frames
from .wire import Session, WireError

log = logging.getLogger(__name__)

#: How long a heartbeat may take before the kernel counts as unresponsive.
HEARTBEAT_TIMEOUT = 1.0


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "username"


class Channel:
    """One socket to the kernel plus the session that signs and checks it."""

    def __init__(self, name: str, socket: zmq.Socket, session: Session):
        self.name = name
        self.socket = socket
        self.session = session
        self.dropped = 0  # messages that failed verification or parsing
        self._drop_log = RateLimitedLog(log)

    def send(self, msg: dict) -> None:
        send_frames(self.socket, self.session.serialize(msg))

    def recv_nowait(self) -> Optional[dict]:
        """The next valid message, or None when nothing is waiting.

        Messages that fail signature, replay or structure checks are dropped
        (and counted) here: nothing unsigned reaches the caller.
        """
        while True:
            frames = recv_waiting(self.socket)
            if frames is None:
                return None
            try:
                _, msg = self.session.deserialize(frames)
            except WireError as exc:
                self.dropped += 1
                self._drop_log.warning(exc.reason, "dropped a message on %s: %s", self.name, exc.reason)
                continue
            return msg

    def msg_ready(self) -> bool:
        return bool(self.socket.poll(0))

    def get_msg(self, timeout: Optional[float] = None) -> dict:
        """Block until a valid message arrives; queue.Empty after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            msg = self.recv_nowait()
            if msg is not None:
                return msg
            if deadline is None:
                self.socket.poll(None)
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise queue.Empty(f"no message on {self.name} within {timeout} s")
            self.socket.poll(max(1, int(left * 1000)))

    def get_msgs(self) -> list:
        out = []
        while (msg := self.recv_nowait()) is not None:
            out.append(msg)
        return out

    def close(self) -> None:
        self.socket.close(linger=0)


class HeartbeatChannel:
    """Pings echoed by the kernel's heartbeat; works without the GIL there.

    The REQ socket is relaxed, so a ping whose echo never came does not wedge
    it: the next ping simply replaces it.
    """

    def __init__(self, socket: zmq.Socket):
        self.name = "hb"
        self.socket = socket
        self._seq = 0
        self._awaiting = False

    def ping(self) -> bytes:
        self._seq += 1
        token = b"ping %d" % self._seq
        self.socket.send(token)
        self._awaiting = True
        return token

    def recv_nowait(self) -> Optional[bytes]:
        if not self._awaiting:
            return None
        try:
            echo = self.socket.recv(zmq.NOBLOCK)
        except zmq.Again:
            return None
        self._awaiting = False
        return echo

    def is_beating(self, timeout: float = HEARTBEAT_TIMEOUT) -> bool:
        """Send a ping and wait up to ``timeout`` for its echo."""
        token = self.ping()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.socket.poll(max(1, int(left * 1000))):
                return False
            if self.recv_nowait() == token:
                return True

    def close(self) -> None:
        self.socket.close(linger=0)


class KernelClient:
    """Talks to one kernel over its five channels."""

    def __init__(self, info: ConnectionInfo, *, username: Optional[str] = None,
                 session_id: Optional[str] = None, context: Optional[zmq.Context] = None,
                 connection_file: Optional[Path] = None):
        self.info = info
        self.connection_file = connection_file
        self.context = context or zmq.Context.instance()
        self.session = Session(info.key, info.signature_scheme,
                               username=username or _login_name(), session_id=session_id)
        self.allow_stdin = True
        self.kernel_info_reply: Optional[dict] = None
        self.channels_running = False

    @classmethod
    def from_connection_file(cls, path: Path | str, *, allow_insecure: bool = False, **kwargs: Any) -> "KernelClient":
        path = Path(path)
        return cls(read_connection_file(path, allow_insecure=allow_insecure), connection_file=path, **kwargs)

    # -- channels -------------------------------------------------------------
    def _connect(self, kind: int, channel: str, identity: Optional[bytes] = None) -> zmq.Socket:
        sock = self.context.socket(kind)
        sock.linger = 0
        if identity is not None:
            sock.setsockopt(zmq.IDENTITY, identity)
        if ":" in self.info.ip:
            sock.setsockopt(zmq.IPV6, 1)
        sock.connect(self.info.url(channel))
        return sock

    def start_channels(self) -> None:
        if self.channels_running:
            return
        ident = self.session.bsession  # shell and stdin share it: input requests find us
        s = self.session
        self.shell_channel = Channel("shell", self._connect(zmq.DEALER, "shell", ident), s)
        self.stdin_channel = Channel("stdin", self._connect(zmq.DEALER, "stdin", ident), s)
        self.control_channel = Channel("control", self._connect(zmq.DEALER, "control"), s)
        iopub = self.context.socket(zmq.SUB)
        iopub.linger = 0
        iopub.rcvhwm = 0  # never drop output on our side
        iopub.setsockopt(zmq.SUBSCRIBE, b"")
        if ":" in self.info.ip:
            iopub.setsockopt(zmq.IPV6, 1)
        iopub.connect(self.info.url("iopub"))
        self.iopub_channel = Channel("iopub", iopub, s)
        hb = self._connect(zmq.REQ, "hb")
        hb.setsockopt(zmq.REQ_RELAXED, 1)
        hb.setsockopt(zmq.REQ_CORRELATE, 1)
        self.hb_channel = HeartbeatChannel(hb)
        self.channels_running = True

    def stop_channels(self) -> None:
        if not self.channels_running:
            return
        for ch in (self.shell_channel, self.stdin_channel, self.control_channel,
                   self.iopub_channel, self.hb_channel):
            ch.close()
        self.channels_running = False

    def update_key(self, key: str, signature_scheme: Optional[str] = None) -> None:
        """Follow a restarted kernel's new key (ports stay the same)."""
        if signature_scheme:
            self.session.signature_scheme = signature_scheme
        self.session.key = key
        self.info.key = key

    def reload_connection_file(self) -> bool:
        """Re-read the connection file; True if the key changed (a restart)."""
        if self.connection_file is None:
            return False
        info = read_connection_file(self.connection_file)
        if info.key == self.info.key:
            return False
        self.update_key(info.key, info.signature_scheme)
        return True

    # -- requests ---------------------------------------------------------------
    def _request(self, channel: Channel, msg_type: str, content: dict) -> str:
        msg = self.session.msg(msg_type, content)
        channel.send(msg)
        return msg["header"]["msg_id"]

    def execute(self, code: str, silent: bool = False, store_history: bool = True,
                user_expressions: Optional[dict] = None, allow_stdin: Optional[bool] = None,
                stop_on_error: bool = True) -> str:
        if not isinstance(code, str):
            raise TypeError(f"code must be str, not {type(code).__name__}")
        return self._request(self.shell_channel, "execute_request", {
            "code": code, "silent": silent, "store_history": store_history,
            "user_expressions": user_expressions or {},
            "allow_stdin": self.allow_stdin if allow_stdin is None else allow_stdin,
            "stop_on_error": stop_on_error,
        })

    def complete(self, code: str, cursor_pos: Optional[int] = None) -> str:
        return self._request(self.shell_channel, "complete_request",
                             {"code": code, "cursor_pos": len(code) if cursor_pos is None else cursor_pos})

    def inspect(self, code: str, cursor_pos: Optional[int] = None, detail_level: int = 0) -> str:
        return self._request(self.shell_channel, "inspect_request", {
            "code": code, "cursor_pos": len(code) if cursor_pos is None else cursor_pos,
            "detail_level": detail_level,
        })

    def is_complete(self, code: str) -> str:
        return self._request(self.shell_channel, "is_complete_request", {"code": code})

    def history(self, raw: bool = True, output: bool = False, hist_access_type: str = "range",
                **kwargs: Any) -> str:
        content = {"raw": raw, "output": output, "hist_access_type": hist_access_type, **kwargs}
        return self._request(self.shell_channel, "history_request", content)

    def kernel_info(self) -> str:
        return self._request(self.shell_channel, "kernel_info_request", {})

    def comm_info(self, target_name: Optional[str] = None) -> str:
        content = {} if target_name is None else {"target_name": target_name}
        return self._request(self.shell_channel, "comm_info_request", content)

    def shutdown(self, restart: bool = False) -> str:
        return self._request(self.control_channel, "shutdown_request", {"restart": restart})

    def interrupt(self) -> str:
        """``interrupt_request`` on control (for kernels with interrupt_mode message,
        or kernels we did not start)."""
        return self._request(self.control_channel, "interrupt_request", {})

    def input(self, text: str, parent: Optional[dict] = None) -> None:
        msg = self.session.msg("input_reply", {"value": text}, parent=parent)
        self.stdin_channel.send(msg)

    # -- receiving ------------------------------------------------------------------
    def get_shell_msg(self, timeout: Optional[float] = None) -> dict:
        return self.shell_channel.get_msg(timeout)

    def get_iopub_msg(self, timeout: Optional[float] = None) -> dict:
        return self.iopub_channel.get_msg(timeout)

    def get_stdin_msg(self, timeout: Optional[float] = None) -> dict:
        return self.stdin_channel.get_msg(timeout)

    def get_control_msg(self, timeout: Optional[float] = None) -> dict:
        return self.control_channel.get_msg(timeout)

    def is_alive(self) -> bool:
        """True if the kernel answers a heartbeat within a second."""
        return self.channels_running and self.hb_channel.is_beating()

    def wait_for_ready(self, timeout: Optional[float] = 30.0) -> dict:
        """Block until the kernel answers kernel_info and IOPub delivers.

        Returns the kernel_info reply. Seeing any IOPub message proves our
        subscription is live, so no output of what follows can be missed.
        """
        if not self.channels_running:
            self.start_channels()
        deadline = None if timeout is None else time.monotonic() + timeout
        reply = None
        iopub_live = False
        msg_id = self.kernel_info()
        last_sent = time.monotonic()
        poller = zmq.Poller()
        poller.register(self.shell_channel.socket, zmq.POLLIN)
        poller.register(self.iopub_channel.socket, zmq.POLLIN)
        while reply is None or not iopub_live:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                what = "kernel_info_reply" if reply is None else "any IOPub message"
                raise TimeoutError(f"kernel did not become ready within {timeout} s (no {what})")
            if reply is not None and not iopub_live and now - last_sent > 0.5:
                msg_id = self.kernel_info()  # its busy/idle will prove IOPub
                last_sent = now
            wait = 0.1 if deadline is None else min(0.1, max(0.0, deadline - now))
            poller.poll(int(wait * 1000) or 1)
            for msg in self.shell_channel.get_msgs():
                if msg["msg_type"] == "kernel_info_reply" and msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg
                elif msg["msg_type"] == "kernel_info_reply" and reply is None:
                    reply = msg
            if self.iopub_channel.get_msgs():
                iopub_live = True
        self.kernel_info_reply = reply
        while self.shell_channel.recv_nowait() is not None:
            pass  # replies to repeated kernel_info requests
        return reply

    def execute_interactive(self, code: str, silent: bool = False, store_history: bool = True,
                            user_expressions: Optional[dict] = None, allow_stdin: Optional[bool] = None,
                            stop_on_error: bool = True, timeout: Optional[float] = None,
                            output_hook: Optional[Callable[[dict], None]] = None,
                            stdin_hook: Optional[Callable[[dict], None]] = None) -> dict:
        """Run ``code`` and return its execute_reply, handling output and input.

        Output messages of this request go to ``output_hook`` (default: print
        them); input requests to ``stdin_hook`` (default: ask on the terminal).
        Raises TimeoutError if reply and idle do not both arrive in time.
        """
        if allow_stdin is None:
            allow_stdin = self.allow_stdin
        msg_id = self.execute(code, silent=silent, store_history=store_history,
                              user_expressions=user_expressions, allow_stdin=allow_stdin,
                              stop_on_error=stop_on_error)
        output_hook = output_hook or _print_output
        stdin_hook = stdin_hook or self._terminal_input
        deadline = None if timeout is None else time.monotonic() + timeout
        poller = zmq.Poller()
        poller.register(self.iopub_channel.socket, zmq.POLLIN)
        poller.register(self.shell_channel.socket, zmq.POLLIN)
        if allow_stdin:
            poller.register(self.stdin_channel.socket, zmq.POLLIN)
        reply = None
        idle = False
        while reply is None or not idle:
            left = None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {'reply' if reply is None else 'idle status'} within {timeout} s")
            poller.poll(None if left is None else max(1, int(left * 1000)))
            for msg in self.iopub_channel.get_msgs():
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "status":
                    idle = idle or msg["content"].get("execution_state") == "idle"
                else:
                    output_hook(msg)
            if allow_stdin:
                for msg in self.stdin_channel.get_msgs():
                    if msg["msg_type"] == "input_request":
                        stdin_hook(msg)
            for msg in self.shell_channel.get_msgs():
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg
        return reply

    def _terminal_input(self, msg: dict) -> None:
        content = msg["content"]
        prompt = content.get("prompt", "")
        try:
            value = getpass.getpass(prompt) if content.get("password") else input(prompt)
        except EOFError:
            value = "\x04"
        except KeyboardInterrupt:
            self.interrupt()
            return
        self.input(value, parent=msg["header"])


def _print_output(msg: dict) -> None:
    """The default output hook: what a terminal user would want to see."""
    t, c = msg["msg_type"], msg["content"]
    if t == "stream":
        (sys.stderr if c.get("name") == "stderr" else sys.stdout).write(c.get("text", ""))
    elif t in ("execute_result", "display_data", "update_display_data"):
        text = c.get("data", {}).get("text/plain")
        if text is not None:
            prefix = f"Out[{c['execution_count']}]: " if t == "execute_result" else ""
            print(prefix + text)
    elif t == "error":
        print("\n".join(c.get("traceback") or [f"{c.get('ename')}: {c.get('evalue')}"]), file=sys.stderr)
