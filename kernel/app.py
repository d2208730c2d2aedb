"""The kernel process: sockets, threads, and dispatch by message type (the
handlers themselves are in :mod:`kernel.requests`).

Threads and who owns what:

- main thread: the shell ROUTER and the stdin ROUTER; runs user code (signals
  such as SIGINT reach Python code only here) and, with ``%gui``, a toolkit's
  event loop (see :mod:`kernel.eventloops`).
- ``control``: the control ROUTER; answers kernel_info, interrupt and shutdown
  even while the main thread is busy.
- ``iopub``: the XPUB socket (:mod:`kernel.iopub`).
- ``heartbeat``: a ZeroMQ proxy echoing pings in C, so it keeps answering while
  Python code holds the GIL.
- ``parent-watch``: ends the kernel when the process that launched it dies.

The engine (:mod:`kernel.shell`) is built on a warm-up thread so that the
kernel answers ``kernel_info_request`` before IPython has finished importing.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Optional

import zmq

from . import iostream, lifecycle
from .connect import ConnectionInfo
from .eventloops import ZmqLoop
from .fdcapture import FdCapture
from .fields import BadRequest
from .interrupts import InterruptHandling
from .iopub import IOPubThread
from .logutil import RateLimitedLog
from .requests import RequestHandlers
from .stdin import InputRequests, StdinNotAvailable
from .zmqutil import EVENTS, POLLIN, recv_waiting, send_frames
from .wire import Session, WireError

log = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_SIZE = 64 << 20
#: Seconds a shutdown waits for running code before the process is ended hard.
SHUTDOWN_GRACE = 1.0
EXIT_PORTS_TAKEN = 3


#: Distinct unknown message types warned about by name; beyond this, a
#: rate-limited summary, so a client inventing types cannot flood the log.
MAX_NAMED_UNKNOWN_TYPES = 32


class PortsTaken(OSError):
    """A port from the connection file could not be bound."""


class KernelApp(RequestHandlers):
    """A running kernel: bound sockets plus the loops that serve them."""

    def __init__(
        self,
        info: ConnectionInfo,
        connection_file: Optional[Path] = None,
        *,
        owns_connection_file: bool = False,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        engine_factory: Optional[Callable[["KernelApp"], Any]] = None,
        username: Optional[str] = None,
        capture_fds: bool = False,
    ):
        self.info = info
        #: Forward what reaches descriptors 1 and 2 (see kernel.fdcapture): for
        #: a kernel process of its own, never for one inside another program.
        self.capture_fds = capture_fds
        self.fd_capture: Optional[FdCapture] = None
        self.connection_file = connection_file
        self.owns_connection_file = owns_connection_file
        self.max_message_size = max_message_size
        self._engine_factory = engine_factory or _default_engine
        self.session = Session(
            info.key, info.signature_scheme, username=username or _login_name(),
            max_message_size=max_message_size,
        )
        self.context = zmq.Context()
        self.hb_context = zmq.Context()
        self.stopping = False
        self.shutdown_requested = False
        self.interrupts = InterruptHandling(self.wake)
        self.event_loop: Any = None  # set by serve_forever; %gui swaps it
        self.parent: dict = {}
        self.parent_idents: list = []
        self._deferred: deque = deque()
        self._engine: Any = None
        self._engine_error: Optional[BaseException] = None
        self._engine_ready = threading.Event()
        self.wake_fd, self._wake_w = os.pipe()
        os.set_blocking(self.wake_fd, False)
        os.set_blocking(self._wake_w, False)
        self._dropped = RateLimitedLog(log)
        self._unknown_types: set = set()
        self._exit_hooks: list = []
        self.pid = os.getpid()  # user code may fork; see _leave_if_forked_child
        self.launcher_died = False
        self.shell_handlers = self.shell_request_handlers()
        self.control_handlers = self.control_request_handlers()

    # -- sockets ------------------------------------------------------------------
    def bind(self) -> None:
        """Bind all five sockets; ports that are 0 in ``info`` are chosen here."""
        ctx = self.context
        self.shell_socket = self._router(ctx)
        self.control_socket = self._router(ctx)
        self.stdin_socket = self._router(ctx)
        self.stdin_socket.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.stdin = InputRequests(self.stdin_socket, self.session, self.receive, self.wake_fd,
                                   lambda: self.stopping)
        self.hb_socket = self._router(self.hb_context)
        self.iopub = IOPubThread(ctx, self.session)
        for name, sock in (("shell", self.shell_socket), ("control", self.control_socket),
                           ("stdin", self.stdin_socket), ("iopub", self.iopub.socket),
                           ("hb", self.hb_socket)):
            self._bind_one(name, sock)

    def _router(self, ctx: zmq.Context) -> zmq.Socket:
        sock = ctx.socket(zmq.ROUTER)
        sock.linger = 1000
        sock.setsockopt(zmq.MAXMSGSIZE, self.max_message_size)
        return sock

    def _bind_one(self, name: str, sock: zmq.Socket) -> None:
        info = self.info
        port = getattr(info, f"{name}_port")
        if info.transport == "ipc":
            if not port:
                port = 1
                while Path(f"{info.ip}-{port}").exists():
                    port += 1
                setattr(info, f"{name}_port", port)
            sock.bind(info.url(name))
            return
        if port:
            try:
                sock.bind(info.url(name))
            except zmq.ZMQError as exc:
                raise PortsTaken(f"cannot bind the {name} channel to {info.url(name)}: {exc}") from None
        else:
            ip = f"[{info.ip}]" if ":" in info.ip else info.ip
            if ":" in info.ip:
                sock.setsockopt(zmq.IPV6, 1)
            setattr(info, f"{name}_port", sock.bind_to_random_port(f"tcp://{ip}"))

    # -- life cycle ---------------------------------------------------------------
    def start(self) -> None:
        """Start the helper threads and the engine warm-up."""
        self.streams = iostream.CapturedStreams(self._send_stream, self.iopub.call_later)
        self.streams.set_checkpoint(self.interrupts.checkpoint)
        self.streams.install()
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            # Helper threads inherit a mask that blocks SIGINT, so an interrupt
            # is delivered to the main thread and wakes whatever it waits in
            # (time.sleep, a poll for input) instead of a helper's poll.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.iopub.start()
            if self.capture_fds:
                self.fd_capture = FdCapture(self.streams.write_descriptor_text)
                self.fd_capture.install()
            threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True).start()
            self.control_thread = threading.Thread(target=self._control_loop, name="control", daemon=True)
            self.control_thread.start()
            threading.Thread(target=self._warm_up, name="engine-warm-up", daemon=True).start()
            parent = os.environ.get("JPY_PARENT_PID")
            if parent and parent.isdigit() and int(parent) > 1:
                threading.Thread(target=self._watch_parent, args=(int(parent),), name="parent-watch",
                                 daemon=True).start()
        finally:
            if in_main:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        if in_main:
            self.interrupts.install()
        self.iopub.send("status", {"execution_state": "starting"})

    def serve_forever(self) -> None:
        """Run event loops until shutdown; ``%gui`` may swap the loop in between."""
        if self.event_loop is None:
            self.event_loop = ZmqLoop()
        while not self.stopping:
            try:
                self.event_loop.run(self)
            except KeyboardInterrupt:
                continue
            except Exception:
                log.exception("event loop %r failed; falling back to the plain loop", self.event_loop)
                failed, self.event_loop = self.event_loop, ZmqLoop()
                try:
                    failed.deactivate()
                except Exception:
                    log.exception("event loop %r failed to deactivate", failed)
        self._close()

    def request_stop(self) -> None:
        """Ask the main loop to end; a busy main thread gets SHUTDOWN_GRACE."""
        if self.stopping:
            return
        self.stopping = True
        self.wake()
        threading.Thread(target=self._hard_exit_after, args=(SHUTDOWN_GRACE,), name="exit-watchdog", daemon=True).start()

    def wake(self) -> None:
        """Make the main loop look at its sockets and flags now."""
        try:
            os.write(self._wake_w, b"\0")
        except OSError:
            pass

    def add_exit_hook(self, fn: Callable[[], None]) -> None:
        self._exit_hooks.append(fn)

    def _hard_exit_after(self, grace: float) -> None:
        time.sleep(grace)
        log.warning("main thread still busy %.1fs after shutdown was requested; exiting now", grace)
        self._remove_connection_file()
        self.iopub.flush(0.5)
        lifecycle.end_own_process_group()
        os._exit(0)

    def _close(self) -> None:
        for hook in self._exit_hooks:
            try:
                hook()
            except Exception:
                log.exception("exit hook failed")
        if self._engine is not None:
            self._engine.shutdown()
        self.flush_streams()
        self.iopub.flush(2.0)
        self.iopub.stop()
        self.control_thread.join(1.0)
        self.hb_context.term()
        for sock in (self.shell_socket, self.stdin_socket):
            sock.close(linger=0)
        self.streams.restore()
        self._remove_connection_file()
        lifecycle.end_own_process_group()

    def _remove_connection_file(self) -> None:
        """Ours to remove if we wrote it; also if our launcher died, when
        the file still describes this kernel, since nobody else will."""
        if self.owns_connection_file and self.connection_file is not None:
            try:
                os.unlink(self.connection_file)
            except FileNotFoundError:
                pass
        elif self.launcher_died:
            lifecycle.remove_connection_file_if_ours(self.connection_file, self.info.key)

    def _leave_if_forked_child(self, failed: bool = False) -> None:
        lifecycle.leave_if_forked_child(self.pid, failed)

    # -- engine -------------------------------------------------------------------
    def _warm_up(self) -> None:
        try:
            self._engine = self._engine_factory(self)
        except BaseException as exc:  # reported on every request that needs it
            log.exception("the engine failed to start")
            self._engine_error = exc
        finally:
            self._engine_ready.set()
        prime = getattr(self._engine, "prime", None)
        if prime is not None:
            prime()  # still on the warm-up thread: requests are already served

    @property
    def engine(self) -> Any:
        self._engine_ready.wait()
        if self._engine is None:
            raise RuntimeError(f"the Python engine failed to start: {self._engine_error!r}")
        return self._engine

    # -- threads --------------------------------------------------------------------
    def _heartbeat(self) -> None:
        try:
            zmq.proxy(self.hb_socket, self.hb_socket)
        except zmq.ZMQError:
            pass  # the heartbeat context was terminated: shutting down
        finally:
            self.hb_socket.close(linger=0)

    def _watch_parent(self, pid: int) -> None:
        """End the kernel as soon as its launcher dies."""
        lifecycle.wait_for_exit(pid)
        log.warning("parent process %d exited; shutting down", pid)
        self.launcher_died = True
        self.request_stop()

    def _control_loop(self) -> None:
        sock = self.control_socket
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        try:
            while not self.stopping:
                if not poller.poll(200):
                    continue
                while (received := self.receive(sock, "control")) is not None:
                    try:
                        self.handle(sock, *received, self.control_handlers)
                    except Exception:  # a bug must not cost the kernel its control channel
                        log.exception("failed to handle a message on control")
        except Exception:
            log.exception("control thread failed")
        finally:
            sock.close(linger=500)

    # -- the shell channel (main thread) -------------------------------------------
    def shell_pending(self) -> bool:
        """Whether a shell message waits to be handled. Also re-arms the shell
        socket's edge-triggered FD, so loops call it before they sleep."""
        return bool(self._deferred) or bool(self.shell_socket.getsockopt(EVENTS) & POLLIN)

    def process_shell(self) -> None:
        """Handle every shell message that is waiting, then return; return
        early if a request switched event loops, so the next messages are
        served by the new loop."""
        loop = self.event_loop
        while not self.stopping and self.event_loop is loop:
            received = self._deferred.popleft() if self._deferred else self.receive(self.shell_socket, "shell")
            if received is None:
                return
            self.handle(self.shell_socket, *received, self.shell_handlers)

    def receive(self, sock: zmq.Socket, channel: str) -> Optional[tuple]:
        """The next verified message waiting on ``sock``, as (identities,
        message), or None when nothing waits. Messages that fail the wire's
        checks are dropped here, with one rate-limited log line per reason."""
        while True:
            frames = recv_waiting(sock)
            if frames is None:
                return None
            try:
                return self.session.deserialize(frames)
            except WireError as exc:
                self._dropped.warning(f"{channel}:{type(exc).__name__}:{exc.reason}",
                                      "dropped a message on %s: %s", channel, exc.reason)

    def handle(self, sock: zmq.Socket, idents: list, msg: dict, handlers: dict) -> None:
        msg_type = msg["msg_type"]
        on_shell = sock is self.shell_socket
        if on_shell:
            self.parent, self.parent_idents = msg["header"], idents
        self.iopub.send("status", {"execution_state": "busy"}, parent=msg["header"])
        try:
            handler = handlers.get(msg_type)
            if handler is None:
                if msg_type in self._unknown_types:
                    pass
                elif len(self._unknown_types) < MAX_NAMED_UNKNOWN_TYPES:
                    self._unknown_types.add(msg_type)
                    log.warning("ignoring unknown message type %r (no reply is sent)", msg_type)
                else:
                    self._dropped.warning("unknown-types", "ignoring more unknown message types, "
                                          "e.g. %r (no reply is sent)", msg_type)
                return
            if not isinstance(msg["content"], dict):
                raise BadRequest("content must be an object")
            handler(sock, idents, msg)
        except Exception as exc:
            if not isinstance(exc, BadRequest):
                log.exception("handler for %s failed", msg_type)
            self.reply(sock, idents, msg, {
                "status": "error", "ename": type(exc).__name__, "evalue": str(exc), "traceback": [],
            })
        finally:
            self._leave_if_forked_child()
            if on_shell:
                self.streams.flush()
            self.iopub.send("status", {"execution_state": "idle"}, parent=msg["header"])
            if self.shutdown_requested:
                self.request_stop()  # only now: the idle above must still go out

    def reply(self, sock: zmq.Socket, idents: list, parent: dict, content: dict,
              msg_type: Optional[str] = None, metadata: Optional[dict] = None) -> dict:
        self._leave_if_forked_child(failed=content.get("status") == "error")
        if msg_type is None:
            msg_type = parent["msg_type"].rsplit("_", 1)[0] + "_reply"
        msg = self.session.msg(msg_type, content, parent=parent["header"], metadata=metadata)
        send_frames(sock, self.session.serialize(msg, idents))
        return msg

    @property
    def executing(self) -> bool:
        return self.interrupts.executing

    def _set_executing(self, executing: bool) -> None:
        """From here on, SIGINT raises KeyboardInterrupt in the main thread (or,
        with ``False``, is ignored between requests)."""
        self.interrupts.set_executing(executing)

    # -- the engine's outlet ------------------------------------------------------------
    def publish(self, msg_type: str, content: dict, metadata: Optional[dict] = None) -> None:
        if os.getpid() != self.pid:
            return  # display() in a forked child: the parent's sockets are not its to use
        self.flush_streams()
        self.iopub.send(msg_type, content, parent=self.parent, metadata=metadata)

    def flush_streams(self) -> None:
        """Send the output written so far, descriptor output included."""
        if os.getpid() == self.pid:
            if self.fd_capture is not None:
                self.fd_capture.drain()
            self.streams.flush()

    def checkpoint(self) -> None:
        self.interrupts.checkpoint()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        self.iopub.call_later(delay, fn)

    def _send_stream(self, name: str, text: str) -> None:
        self.iopub.send("stream", {"name": name, "text": text}, parent=self.parent,
                        topic=b"stream." + name.encode())

    def request_input(self, prompt: str, password: bool) -> str:
        """Ask the frontend that sent the current request for one line."""
        from IPython.core.error import StdinNotImplementedError

        if os.getpid() != self.pid:
            # As for any child of a multiprocessing pool: no terminal to ask.
            raise EOFError("input() is not available in a forked child process")
        self.streams.flush()
        # Output written before input() must be on the wire before the prompt
        # is: the two travel on different sockets.
        self.iopub.flush(1.0)
        try:
            return self.stdin.ask(prompt, password, self.parent, self.parent_idents)
        except StdinNotAvailable as exc:
            raise StdinNotImplementedError(str(exc)) from None


def _default_engine(app: KernelApp) -> Any:
    from .guiswitch import GuiSwitch
    from .magics import ConnectionMagics
    from .shell import PythonEngine

    engine = PythonEngine(outlet=app)
    GuiSwitch(app).install(engine.shell)  # %gui and %matplotlib <toolkit> swap app.event_loop
    engine.shell.register_magics(ConnectionMagics(engine.shell, app.connection_file, app.info))
    return engine


def _login_name() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:
        return "kernel"
