"""ConsoleController: kernel messages in, view operations out.

One controller per console. It dispatches each message through a table keyed
by ``msg_type`` (unknown types are logged at debug level and ignored), keeps
the requests it sent by msg_id, numbers prompts from the kernel's
``execution_count`` (so numbers are right after a restart and when other
clients run code too), and reacts to the kernel's life cycle; Enter is
:class:`~.enterkey.EnterKey`'s. It never touches widgets directly: it talks to a
:class:`ConsoleView` (the ConsoleWidget) and queues output operations.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Protocol, Set, Tuple

from PyQt5.QtCore import QObject, QTimer, pyqtSignal

from ..bridge import KernelBridge
from .enterkey import EnterKey
from .health import KernelHealth
from .history import History
from .lifecycle import KernelLifecycle
from .others import Peer, PeerBook
from .outputs import BundleOp, ClearOp, ClearScreenOp, EchoOp, ErrorOp, InputEchoOp, NoticeOp, StreamOp
from .payloads import PayloadTable
from .shared import SharedKernel

log = logging.getLogger(__name__)

#: A terminal's erase-display: ESC [ 2 J (the screen) or ESC [ 3 J (its scrollback).
ERASE_DISPLAY = re.compile(r"\x1b\[[23]J")

HISTORY_LOAD = 1000
#: An input_request waits up to RETRIES x WAIT_MS for its cell's IOPub messages.
INPUT_ORDER_RETRIES = 25
INPUT_ORDER_WAIT_MS = 20
#: Give up on a kernel that does not finish its handshake in this time.
HANDSHAKE_TIMEOUT_MS = 60_000


class ConsoleView(Protocol):
    """What the controller needs from the widget."""

    def present(self, op: object) -> None: ...
    def input_text(self) -> str: ...
    def set_input_text(self, text: str) -> None: ...
    def insert_input_newline(self, indent: str) -> None: ...
    def input_cursor_at_end(self) -> bool: ...
    def set_prompt_number(self, count: Optional[int]) -> None: ...
    def set_language(self, language_info: dict) -> None: ...
    def ask_stdin(self, prompt: str, password: bool) -> None: ...
    def close_stdin(self) -> None: ...
    def show_notice(self, text: str, actions: Optional[List[Tuple[str, Callable[[], None]]]] = None) -> None: ...
    def clear_notice(self) -> None: ...
    def queue_cell(self, msg_id: str, code: str) -> None: ...
    def unqueue_cell(self, msg_id: str) -> None: ...
    def clear_queued(self) -> None: ...
    def show_completions(self, matches: List[str], start: int, end: int) -> None: ...
    def note_peer_area(self, area: Optional[str], peer: Peer) -> None: ...
    def show_page(self, area: Optional[str], data: dict, start: int) -> None: ...


@dataclass
class Execution:
    """A request this console sent; done when both its reply (shell) and its
    idle status (IOPub, after all its output) have arrived, in either order."""

    msg_id: str
    code: str
    kind: str  # "user", "hidden" or "internal"
    echoed: bool = False
    reply: Optional[dict] = None
    idle: bool = False


class ConsoleController(QObject):
    executed = pyqtSignal(dict)
    busy_changed = pyqtSignal(bool)
    #: "starting", "idle", "busy", "restarting", "dead", "unresponsive", "shutdown"
    state_changed = pyqtSignal(str)
    ready = pyqtSignal(dict)
    #: the kernel asked to close this console: keep_kernel
    exit_requested = pyqtSignal(bool)
    #: the kernel could not be started or attached: reason, kernel output
    start_failed = pyqtSignal(str, str)

    def __init__(self, view: ConsoleView, lifecycle: KernelLifecycle, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.view = view
        self.lifecycle = lifecycle
        self.bridge: Optional[KernelBridge] = None
        self.history = History()
        self.kernel_info: Optional[dict] = None
        self.language = "python"
        self.next_count: Optional[int] = None
        self.state = "starting"
        self.has_been_ready = False
        self._executions: Dict[str, Execution] = {}
        self._running: Set[str] = set()  # execute requests the kernel reports busy with
        self._before_ready: List[Tuple[str, bool]] = []
        self._pending_complete: Optional[Tuple[str, str, int]] = None
        self._stdin_parent: Optional[dict] = None
        self._stdin_area: Optional[str] = None
        self._stdin_password = False
        self._busy = False
        self.busy_since: Optional[float] = None
        self.enter = EnterKey(self)
        self._handshake_timer = QTimer(self)
        self._handshake_timer.setSingleShot(True)
        self._handshake_timer.setInterval(HANDSHAKE_TIMEOUT_MS)
        self._handshake_timer.timeout.connect(self._handshake_timed_out)
        self.payloads = PayloadTable(self._unknown_payload)
        self.payloads.register("set_next_input", self._payload_set_next_input)
        self.payloads.register("ask_exit", self._payload_ask_exit)
        self.payloads.register("page", self._payload_page)
        self.iopub_handlers: Dict[str, Callable[[dict], None]] = {
            "status": self._on_status,
            "execute_input": self._on_execute_input,
            "stream": self._on_stream,
            "execute_result": self._on_bundle,
            "display_data": self._on_bundle,
            "update_display_data": self._on_bundle,
            "error": self._on_error,
            "clear_output": self._on_clear_output,
            "shutdown_reply": self._on_shutdown_broadcast,
            "iopub_welcome": lambda msg: None,
        }
        self.shell_handlers: Dict[str, Callable[[dict], None]] = {
            "execute_reply": self._on_execute_reply,
            "is_complete_reply": self.enter.on_reply,
            "complete_reply": self._on_complete_reply,
            "history_reply": self._on_history_reply,
            "kernel_info_reply": lambda msg: None,  # the bridge's handshake uses it
        }
        self.stdin_handlers: Dict[str, Callable[[dict], None]] = {
            "input_request": self._on_input_request,
        }
        lifecycle.client_ready.connect(self._on_client_ready)
        lifecycle.start_failed.connect(self._on_start_failed)
        self.health = KernelHealth(self)
        #: the other frontends seen on this kernel
        self.peers = PeerBook(self.own_sessions, lambda: self.username)
        self.shared = SharedKernel(self)

    # -- start -------------------------------------------------------------------------
    def start(self) -> None:
        """Start (or, after a shutdown, start again) and connect."""
        self.view.clear_notice()
        self.set_state("starting")
        self.lifecycle.start()

    def _on_client_ready(self, client) -> None:
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge.deleteLater()
        self.bridge = KernelBridge(client, self)
        b = self.bridge
        b.iopub_message.connect(self._on_iopub)
        b.shell_message.connect(lambda m: self._dispatch(self.shell_handlers, m, "shell"))
        b.stdin_message.connect(lambda m: self._dispatch(self.stdin_handlers, m, "stdin"))
        b.ready.connect(self._on_ready)
        self.health.watch(b)
        self.lifecycle.set_control_sender(b.send)
        self._handshake_timer.start()
        b.start()

    def _on_ready(self, info: dict) -> None:
        self._handshake_timer.stop()
        self.lifecycle.mark_ready()
        self.kernel_info = info
        content = info.get("content", {})
        li = content.get("language_info", {}) or {}
        self.language = li.get("name", "python") or "python"
        self.view.set_language(li)
        first = not self.has_been_ready
        self.has_been_ready = True
        if first:
            banner = content.get("banner", "")
            if banner.strip():
                self.view.present(NoticeOp(banner.rstrip("\n"), level="plain"))
            self._send("history", hist_access_type="tail", n=HISTORY_LOAD, raw=True, output=False)
        fresh, self.lifecycle.started_new = self.lifecycle.started_new, False
        self._request_prompt_number()
        self.view.clear_notice()
        self.set_state("idle" if not self._running else "busy")
        if first and fresh and self.next_count is None:
            # A kernel we just started: its first cell is In [1]. The prompt
            # needs no round trip through an engine still warming up.
            self._set_next_count(1)
        self.ready.emit(info)
        waiting, self._before_ready = self._before_ready, []
        for source, hidden in waiting:
            self.execute(source, hidden)

    def _handshake_timed_out(self) -> None:
        if self.bridge is None or self.bridge.is_ready:
            return
        reason = f"the kernel did not answer within {HANDSHAKE_TIMEOUT_MS // 1000} s"
        output = self.lifecycle.manager.kernel_output() if self.lifecycle.manager else ""
        self._on_start_failed(reason, output)

    def _on_start_failed(self, reason: str, output: str) -> None:
        self.set_state("dead")
        text = f"Kernel failed to start: {reason}" if self.lifecycle.owned else f"Cannot reach the kernel: {reason}"
        self.view.present(NoticeOp(text + (f"\n{output.rstrip()}" if output.strip() else ""), level="error"))
        if self.bridge is not None:
            self.bridge.stop()
        self.start_failed.emit(reason, output)

    @property
    def is_ready(self) -> bool:
        return self.bridge is not None and self.bridge.running and self.bridge.is_ready and \
            self.state not in ("starting", "dead", "restarting", "shutdown")

    def _send(self, method: str, *args, **kwargs) -> Optional[str]:
        if self.bridge is None or not self.bridge.running:
            return None
        return self.bridge.send(method, *args, **kwargs)

    def _request_prompt_number(self) -> None:
        msg_id = self._send("execute", "", silent=True, store_history=False, allow_stdin=False)
        if msg_id:
            self._executions[msg_id] = Execution(msg_id, "", "internal")

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _on_iopub(self, msg: dict) -> None:
        peer = self.peers.observe(msg)
        if peer is not None and msg["msg_type"] != "status":
            self.view.note_peer_area(self._parent_id(msg), peer)
        self._dispatch(self.iopub_handlers, msg, "iopub")

    def own_sessions(self) -> Set[str]:
        """Sessions whose requests are this console's own work: its client's,
        and its kernel manager's (restarts and shutdowns it asked for)."""
        own = set()
        if self.bridge is not None:
            own.add(self.bridge.client.session.session_id)
        elif self.lifecycle.client is not None:
            own.add(self.lifecycle.client.session.session_id)
        if self.lifecycle.manager is not None:
            own.add(self.lifecycle.manager.session_id)
        return own

    @property
    def username(self) -> str:
        """The name this console's requests carry."""
        client = self.bridge.client if self.bridge is not None else self.lifecycle.client
        if client is not None:
            return client.session.username
        return self.lifecycle.username or ""

    def set_username(self, name: str) -> None:
        """Requests sent from now on carry ``name`` (the kernel and other
        frontends see it in their parent headers)."""
        name = " ".join(name.split())
        if not name:
            raise ValueError("a username cannot be empty")
        self.lifecycle.username = name
        for client in {self.lifecycle.client, self.bridge.client if self.bridge else None} - {None}:
            client.session.username = name
        if self.lifecycle.manager is not None:
            self.lifecycle.manager.username = name

    def _dispatch(self, table: Dict[str, Callable[[dict], None]], msg: dict, channel: str) -> None:
        handler = table.get(msg["msg_type"])
        if handler is None:
            log.debug("ignoring %s message %s", channel, msg["msg_type"])
            return
        handler(msg)

    # -- running code ------------------------------------------------------------------------
    def execute(self, source: str, hidden: bool = False) -> Optional[str]:
        """Run ``source`` as if typed (``hidden``: no echo, no history). Before the
        kernel is ready the request waits; returns the msg_id once sent."""
        if not self.is_ready:
            self._before_ready.append((source, hidden))
            return None
        msg_id = self._send("execute", source, silent=hidden, store_history=not hidden, allow_stdin=True)
        if msg_id is None:
            return None
        self._executions[msg_id] = Execution(msg_id, source, "hidden" if hidden else "user")
        if not hidden:
            self.history.add(source)
            if self._busy or any(e.kind == "user" and not e.echoed for e in self._executions.values()
                                 if e.msg_id != msg_id):
                self.view.queue_cell(msg_id, source)
        return msg_id

    def execute_internal(self, source: str) -> Optional[str]:
        """Run set-up code the user did not type: silent, no echo, no history, no
        busy state and no ``executed`` signal. Returns the msg_id (None when not
        connected); the reply arrives on the bridge's ``shell_message``."""
        msg_id = self._send("execute", source, silent=True, store_history=False, allow_stdin=False)
        if msg_id:
            self._executions[msg_id] = Execution(msg_id, source, "internal")
        return msg_id

    # -- IOPub ------------------------------------------------------------------------------------
    @staticmethod
    def _parent_id(msg: dict) -> Optional[str]:
        return msg.get("parent_header", {}).get("msg_id")

    def _on_status(self, msg: dict) -> None:
        parent = msg.get("parent_header", {})
        if parent.get("msg_type") != "execute_request":
            return
        state = msg["content"].get("execution_state")
        pid = parent.get("msg_id")
        ex = self._executions.get(pid)
        if state == "busy" and not (ex is not None and ex.kind == "internal"):
            self._running.add(pid)
        elif state == "idle":
            self._running.discard(pid)
            if ex is not None:
                ex.idle = True
                self._finish(ex)
        self._update_busy()

    def _update_busy(self) -> None:
        busy = bool(self._running)
        if busy != self._busy:
            self._busy = busy
            self.busy_since = time.monotonic() if busy else None
            if self.state in ("idle", "busy"):
                self.set_state("busy" if busy else "idle")
            self.busy_changed.emit(busy)

    @property
    def busy(self) -> bool:
        return self._busy

    def _on_execute_input(self, msg: dict) -> None:
        c = msg["content"]
        count = c.get("execution_count")
        pid = self._parent_id(msg)
        ex = self._executions.get(pid)
        peer = self.peers.observe(msg)
        if ex is not None:
            if ex.kind == "user":
                self._echo(ex, count)
        elif peer is not None:  # another frontend's cell, as it starts
            self.view.present(EchoOp(pid, str(c.get("code", "")), count, label=peer.label))
        if isinstance(count, int):
            self._set_next_count(count + 1)

    def _echo(self, ex: Execution, count: Optional[int]) -> None:
        if ex.echoed:
            return
        ex.echoed = True
        self.view.unqueue_cell(ex.msg_id)
        self.view.present(EchoOp(ex.msg_id, ex.code, count))

    def _ensure_echo(self, msg: dict) -> None:
        """Kernels that send no execute_input still get their cell echoed first."""
        ex = self._executions.get(self._parent_id(msg))
        if ex is not None and ex.kind == "user" and not ex.echoed:
            self._echo(ex, self.next_count)

    def _on_stream(self, msg: dict) -> None:
        self._ensure_echo(msg)
        c = msg["content"]
        area = self._parent_id(msg)
        text = str(c.get("text", ""))
        if "\x1b[" in text and self._is_own_cell(area):
            # A terminal's erase-display (what %clear prints, in ipykernel too):
            # the screen is cleared and the text after it starts afresh. Only
            # for our own cells: another frontend's %clear clears its screen.
            *_, after = ERASE_DISPLAY.split(text)
            if after != text:
                self.view.present(ClearScreenOp())
                text = after
                if not text:
                    return
        self.view.present(StreamOp.of(area, str(c.get("name", "stdout")), text))

    def _is_own_cell(self, msg_id: Optional[str]) -> bool:
        ex = self._executions.get(msg_id)
        return ex is not None and ex.kind == "user"

    def _on_bundle(self, msg: dict) -> None:
        self._ensure_echo(msg)
        c = msg["content"]
        data = c.get("data") or {}
        if not isinstance(data, dict):
            log.warning("ignoring %s whose data is not an object", msg["msg_type"])
            return
        count = c.get("execution_count") if msg["msg_type"] == "execute_result" else None
        display_id = (c.get("transient") or {}).get("display_id")
        self.view.present(BundleOp(self._parent_id(msg), data, c.get("metadata") or {}, count, display_id,
                                update=msg["msg_type"] == "update_display_data"))
        if isinstance(count, int):
            self._set_next_count(count + 1)

    def _on_error(self, msg: dict) -> None:
        self._ensure_echo(msg)
        c = msg["content"]
        tb = c.get("traceback") or []
        self.view.present(ErrorOp(self._parent_id(msg), str(c.get("ename", "Error")), str(c.get("evalue", "")),
                               [str(line) for line in tb]))

    def _on_clear_output(self, msg: dict) -> None:
        self.view.present(ClearOp(self._parent_id(msg), bool(msg["content"].get("wait", False))))

    def _on_shutdown_broadcast(self, msg: dict) -> None:
        restart = bool(msg["content"].get("restart", False))
        peer = self.peers.observe(msg)
        if peer is not None:
            self.view.present(NoticeOp(f"{peer.username} {'restarted' if restart else 'shut down'} the kernel"))
        self.lifecycle.expect_exit(restart)
        if restart:
            self.set_state("restarting")
        self.shared.on_broadcast(restart, peer)

    def _set_next_count(self, count: int) -> None:
        self.next_count = count
        self.view.set_prompt_number(count)

    # -- shell replies -----------------------------------------------------------------------------
    def _on_execute_reply(self, msg: dict) -> None:
        ex = self._executions.get(self._parent_id(msg))
        if ex is None:
            return
        ex.reply = msg
        c = msg["content"]
        count = c.get("execution_count")
        if isinstance(count, int) and (ex.kind == "internal" or c.get("status") in ("ok", "error")):
            if ex.kind != "hidden":
                self._set_next_count(count + 1)
        self._finish(ex)

    def _finish(self, ex: Execution) -> None:
        """Complete an execution once its reply and all its output are in."""
        if ex.reply is None or not ex.idle:
            return
        del self._executions[ex.msg_id]
        if ex.kind == "internal":
            return
        c = ex.reply["content"]
        if ex.kind == "user" and not ex.echoed:
            if c.get("status") == "aborted":
                self.view.unqueue_cell(ex.msg_id)
                ex.echoed = True
                self.view.present(EchoOp(ex.msg_id, ex.code, None))
                self.view.present(NoticeOp("(not run: an earlier cell failed or was interrupted)"))
            else:
                self._echo(ex, c.get("execution_count"))
        self.payloads.handle(c.get("payload") or [], ex.reply)
        self.executed.emit(ex.reply)

    def _on_history_reply(self, msg: dict) -> None:
        entries = msg["content"].get("history") or []
        self.history.load(str(e[2]) for e in entries if isinstance(e, (list, tuple)) and len(e) >= 3)

    # -- completion ------------------------------------------------------------------------------------
    def request_completion(self, code: str, cursor_pos: int) -> None:
        """``cursor_pos`` in code points."""
        if not self.is_ready:
            return
        msg_id = self._send("complete", code, cursor_pos)
        self._pending_complete = (msg_id, code, cursor_pos)

    def request(self, method: str, *args, **kwargs) -> Optional[str]:
        """Send a request for another part of the console (call tips ask with
        ``inspect``); its reply goes to ``shell_handlers`` by msg_type. None
        while the kernel is not ready."""
        if not self.is_ready:
            return None
        return self._send(method, *args, **kwargs)

    def _on_complete_reply(self, msg: dict) -> None:
        pending = self._pending_complete
        if pending is None or self._parent_id(msg) != pending[0]:
            return
        self._pending_complete = None
        c = msg["content"]
        if c.get("status") != "ok":
            return
        matches = [m for m in (c.get("matches") or []) if isinstance(m, str)]
        start = c.get("cursor_start", pending[2])
        end = c.get("cursor_end", pending[2])
        if self.view.input_text() != pending[1]:
            return  # the cell changed while the kernel thought: stale
        self.view.show_completions(list(dict.fromkeys(matches)), start, end)

    # -- stdin ---------------------------------------------------------------------------------------------
    def _on_input_request(self, msg: dict, attempt: int = 0) -> None:
        # stdin and IOPub are separate sockets: output written before input()
        # may still be on its way. Take what IOPub has, and if this cell's
        # execute_input is not even in yet, wait a little for it.
        if self.bridge is not None:
            self.bridge.drain_now("iopub")
        ex = self._executions.get(self._parent_id(msg))
        if ex is not None and ex.kind == "user" and not ex.echoed and attempt < INPUT_ORDER_RETRIES:
            QTimer.singleShot(INPUT_ORDER_WAIT_MS, lambda: self._on_input_request(msg, attempt + 1))
            return
        self._ensure_echo(msg)
        c = msg["content"]
        prompt = str(c.get("prompt", ""))
        self._stdin_parent = msg["header"]
        self._stdin_password = bool(c.get("password", False))
        pid = self._stdin_area = self._parent_id(msg)
        if prompt:
            self.view.present(StreamOp.of(pid, "stdout", prompt))
        self.view.ask_stdin(prompt, self._stdin_password)

    @property
    def waiting_for_input(self) -> bool:
        return self._stdin_parent is not None

    def answer_input(self, value: str) -> None:
        parent = self._stdin_parent
        if parent is None:
            return
        self._stdin_parent = None
        self._send("input", value, parent=parent)
        self.view.present(InputEchoOp(self._stdin_area, "" if value == "\x04" else value, self._stdin_password))
        self.view.close_stdin()

    def send_eof(self) -> bool:
        if self._stdin_parent is None:
            return False
        self.answer_input("\x04")
        return True

    # -- kernel control ---------------------------------------------------------------------------------
    def interrupt(self) -> None:
        try:
            self.lifecycle.interrupt()
        except RuntimeError as exc:
            self.view.present(NoticeOp(f"Cannot interrupt: {exc}", level="error"))

    def restart(self) -> None:
        if self.lifecycle.owned:
            self.lifecycle.restart()
        else:
            self.view.present(NoticeOp("Asking the kernel to restart…"))
            self.set_state("restarting")
            try:
                self.lifecycle.restart()
            except RuntimeError as exc:
                self.view.present(NoticeOp(f"Cannot restart: {exc}", level="error"))

    def forget_executions(self) -> None:
        """After a restart or death no reply will come for what was pending."""
        self._executions.clear()
        self._running.clear()
        self.enter.forget()
        self._pending_complete = None
        if self._stdin_parent is not None:
            self._stdin_parent = None
            self.view.close_stdin()
        self.view.clear_queued()
        self._update_busy()

    # -- payloads ------------------------------------------------------------------------------------------
    def _payload_set_next_input(self, payload: dict, reply: dict) -> None:
        """``replace``: the input becomes the text; otherwise what was typed
        meanwhile is kept and the text goes on a line after it."""
        text = str(payload.get("text", ""))
        typed = self.view.input_text()
        if payload.get("replace", False) or not typed.strip():
            self.view.set_input_text(text)
        else:
            self.view.set_input_text(typed.rstrip("\n") + "\n" + text)

    def _payload_ask_exit(self, payload: dict, reply: dict) -> None:
        self.exit_requested.emit(bool(payload.get("keepkernel", False)))

    def _payload_page(self, payload: dict, reply: dict) -> None:
        data = payload.get("data") or {}
        if isinstance(data, dict) and data:
            start = payload.get("start", 0)
            self.view.show_page(self._parent_id(reply), data, start if isinstance(start, int) else 0)

    def _unknown_payload(self, source: str) -> None:
        self.view.present(NoticeOp(f"The kernel sent a {source or 'nameless'!r} payload, which this console "
                                "does not handle (reported once)", level="error"))

    def shutdown_kernel(self) -> None:
        """Kernel > Shut down: an owned kernel stops now; an attached one is asked to."""
        owned = self.lifecycle.owned
        if owned:
            self.stop()
            self.lifecycle.shutdown()
        else:
            self.lifecycle.expect_exit(False)
            self._send("shutdown", restart=False)
        self.forget_executions()
        self.set_state("shutdown")
        self.view.present(NoticeOp("Kernel shut down"))
        if owned:
            self.view.show_notice("The kernel is shut down.", [("Start kernel", self.start)])

    def stop(self) -> None:
        if self._stdin_parent is not None:
            self.answer_input("\x04")  # do not leave the kernel blocked in input()
        self.enter.forget()
        self._handshake_timer.stop()
        if self.bridge is not None:
            self.bridge.stop()
