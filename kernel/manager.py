"""KernelManager: start a kernel process, interrupt, restart and stop it.

The manager owns the process and its connection file. It writes the file
(0600, fresh ports, a fresh 256-bit key) before launching, so the key never
appears in argv or the environment, and it removes the file when the kernel
is gone. Restarts keep the ports, so attached consoles reconnect by
themselves, but change the key, so nothing captured before a restart is
accepted after it.

Our own kernel tells the manager through a pipe when its sockets are bound
(or that a port was taken in the meantime, and then the manager retries with
new ports), so ``start()`` returns a kernel that is already listening.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Callable, Optional

import zmq

from .client import KernelClient, _login_name
from .connect import (LOCALHOST, PATH_FIELD, PROCESS_FIELD, ConnectionInfo, jupyter_runtime_dir, new_connection_info,
                      new_kernel_id, new_key, process_record, sweep_stale_connection_files,
                      write_connection_file)
from .kernelspec import OWN_NAME, READY_FD_ENV, KernelSpec, get_kernel_spec, own_kernel_spec
from .wire import Session, new_id

log = logging.getLogger(__name__)

#: How long a polite shutdown_request may take before signals are used.
SHUTDOWN_WAIT = 2.0
#: Attempts to find free ports when a port is taken between choice and bind.
BIND_ATTEMPTS = 5


class KernelStartError(RuntimeError):
    """The kernel process could not be started; ``output`` is what it printed."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message + (f"\n--- kernel output ---\n{output.rstrip()}" if output.strip() else ""))
        self.reason = message
        self.output = output


class KernelManager:
    """Launches and controls one kernel process.

    ``kernel_cmd``: an argv list containing ``{connection_file}``.
    ``kernel_name``: a kernelspec name from the Jupyter data paths
    (``"python3"`` is ipykernel where installed). Neither: our own kernel.
    """

    def __init__(self, kernel_cmd: Optional[list] = None, kernel_name: Optional[str] = None, *,
                 connection_file: Optional[Path | str] = None, ip: str = LOCALHOST,
                 env: Optional[dict] = None, cwd: Optional[str] = None,
                 autorestart: bool = False, max_restarts: int = 5, restart_window: float = 30.0,
                 capture_output: bool = True, username: Optional[str] = None):
        if kernel_cmd is not None and kernel_name is not None:
            raise ValueError("give kernel_cmd or kernel_name, not both")
        if kernel_cmd is not None:
            if not any("{connection_file}" in a for a in kernel_cmd):
                raise ValueError("kernel_cmd must contain '{connection_file}'")
            self.spec = KernelSpec(name="", argv=list(kernel_cmd))
        elif kernel_name is not None and kernel_name != OWN_NAME:
            self.spec = get_kernel_spec(kernel_name)
        else:
            self.spec = own_kernel_spec()
        self.kernel_name = self.spec.name
        self._connection_file = Path(connection_file) if connection_file else None
        self.ip = ip
        self.extra_env = dict(env or {})
        self.cwd = cwd
        self.autorestart = autorestart
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.capture_output = capture_output
        self.info: Optional[ConnectionInfo] = None
        self.process: Optional[subprocess.Popen] = None
        self._output = None
        self._clients: "weakref.WeakSet[KernelClient]" = weakref.WeakSet()
        self._control: Optional[zmq.Socket] = None
        self._session: Optional[Session] = None
        #: who the manager's own requests (shutdown, restart) come from, as other
        #: frontends see them in the parent header of the kernel's broadcasts
        self.username = username or _login_name()
        self.session_id = new_id()
        self._callbacks: dict = {"restart": [], "dead": []}
        self._expect_exit = False
        self._restart_times: list = []
        self._lock = threading.RLock()
        self._background_start: Optional[_BackgroundStart] = None

    # -- properties -------------------------------------------------------------
    @property
    def connection_file(self) -> Optional[Path]:
        return self._connection_file

    @property
    def is_own_kernel(self) -> bool:
        argv = self.spec.argv
        return "-m" in argv and argv[argv.index("-m") + 1:][:1] == ["kernel"]

    @property
    def interrupt_mode(self) -> str:
        return self.spec.interrupt_mode or "signal"

    # -- starting -----------------------------------------------------------------
    def start_in_background(self, timeout: float = 30.0) -> None:
        """Begin :meth:`start` on a thread and return at once.

        For a launcher that has other work to do meanwhile (a console builds
        its window while the kernel boots). A later ``start()`` from any
        thread waits for this one and raises what it raised.
        """
        self._background_start = _BackgroundStart(lambda: self._start(timeout))

    @property
    def start_pending(self) -> bool:
        """:meth:`start_in_background` was called and no :meth:`start` has
        collected its outcome yet (it may have finished meanwhile)."""
        return self._background_start is not None

    def start(self, timeout: float = 30.0) -> None:
        """Launch the kernel. For our own kernel, returns once its sockets are bound."""
        pending, self._background_start = self._background_start, None
        if pending is not None:
            pending.wait()
            return
        self._start(timeout)

    def _start(self, timeout: float) -> None:
        with self._lock:
            if self.is_alive():
                raise RuntimeError("the kernel is already running")
            for stale in sweep_stale_connection_files():
                log.info("removed %s: its kernel process is gone", stale)
            if self._connection_file is None:
                self._connection_file = jupyter_runtime_dir() / f"kernel-{new_kernel_id()}.json"
            for attempt in range(BIND_ATTEMPTS):
                if self.info is None or attempt:
                    self.info = new_connection_info(self.ip, kernel_name=self.kernel_name)
                else:
                    # started again after a shutdown: same ports, never the same key
                    self.info.key = new_key()
                self._write_connection_file()
                if self._launch(timeout):
                    break
                log.info("a kernel port was taken before the kernel could bind it; retrying with new ports")
            else:
                raise KernelStartError(f"could not find free ports after {BIND_ATTEMPTS} attempts", self.kernel_output())
            self._expect_exit = False
            self._sync_key()
            if self.autorestart:
                self._watch(self.process)

    def _write_connection_file(self, pid: Optional[int] = None) -> None:
        """Without a pid: for a kernel about to start (no process named, so
        no sweep can take the file). With one: naming the kernel's process,
        so the file can be swept once that process is gone for good."""
        assert self.info is not None and self._connection_file is not None
        if pid is None:
            self.info.extra.pop(PROCESS_FIELD, None)
        else:
            self.info.extra[PROCESS_FIELD] = process_record(pid)
        self.info.extra[PATH_FIELD] = str(self._connection_file)
        write_connection_file(self._connection_file, self.info)

    def _command(self) -> list:
        argv = []
        for arg in self.spec.argv:
            arg = arg.replace("{connection_file}", str(self._connection_file))
            if self.spec.resource_dir is not None:
                arg = arg.replace("{resource_dir}", str(self.spec.resource_dir))
            argv.append(arg)
        exe = argv[0]
        if exe in ("python", "python3", "python%d.%d" % sys.version_info[:2]):
            in_prefix = self.spec.resource_dir is None or str(self.spec.resource_dir).startswith(sys.prefix)
            argv[0] = sys.executable if in_prefix else (shutil.which(exe) or exe)
        return argv

    def _launch(self, timeout: float) -> bool:
        """Start the process; False if our kernel reports a port race."""
        env = dict(os.environ)
        env.update(self.spec.env)
        env.update(self.extra_env)
        env["JPY_PARENT_PID"] = str(os.getpid())
        argv = self._command()
        ready_r = ready_w = None
        pass_fds: tuple = ()
        if self.is_own_kernel:
            ready_r, ready_w = os.pipe()
            env[READY_FD_ENV] = str(ready_w)
            pass_fds = (ready_w,)
        if self._output is None and self.capture_output:
            self._output = tempfile.TemporaryFile(prefix="kernel-output-")
        out = self._output if self.capture_output else None
        try:
            self.process = subprocess.Popen(
                argv, env=env, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True, pass_fds=pass_fds, close_fds=True,
            )
        except OSError as exc:
            raise KernelStartError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None
        finally:
            if ready_w is not None:
                os.close(ready_w)
        log.info("started kernel pid %d: %s", self.process.pid, " ".join(argv))
        if ready_r is None:
            self._write_connection_file(self.process.pid)
            return True
        try:
            status = self._read_ready(ready_r, timeout)
        finally:
            os.close(ready_r)
        if status == b"bound":
            self._write_connection_file(self.process.pid)
            return True
        code = self.process.wait()
        if status == b"ports-taken":
            return False
        raise KernelStartError(f"the kernel exited during start-up (exit code {code})", self.kernel_output())

    def _read_ready(self, fd: int, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        data = b""
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                self._kill_group(signal.SIGKILL)
                raise KernelStartError(f"the kernel did not start within {timeout:.0f} s", self.kernel_output())
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 64)
                if not chunk:
                    break  # the process closed the pipe: it exited
                data += chunk
        return data.strip()

    def kernel_output(self, limit: int = 8000) -> str:
        """The tail of what the kernel process printed itself (not user output)."""
        if self._output is None:
            return ""
        fd = self._output.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - limit)
        return os.pread(fd, size - start, start).decode("utf-8", "replace")

    # -- clients ------------------------------------------------------------------------
    def client(self, **kwargs) -> KernelClient:
        """A client for this kernel; it follows key changes across restarts."""
        if self.info is None:
            raise RuntimeError("start the kernel before asking for a client")
        info = dataclasses.replace(self.info, extra=dict(self.info.extra))
        kc = KernelClient(info, connection_file=self._connection_file, **kwargs)
        self._clients.add(kc)
        return kc

    def _sync_key(self) -> None:
        assert self.info is not None
        for kc in list(self._clients):
            if kc.session.key != self.info.key.encode():
                kc.update_key(self.info.key, self.info.signature_scheme)
        if self._session is not None:
            self._session.key = self.info.key

    def _control_socket(self) -> tuple:
        if self._control is None:
            assert self.info is not None
            self._session = Session(self.info.key, self.info.signature_scheme, username=self.username,
                                    session_id=self.session_id)
            self._control = zmq.Context.instance().socket(zmq.DEALER)
            self._control.linger = 0
            self._control.connect(self.info.url("control"))
        return self._control, self._session

    def _send_control(self, msg_type: str, content: dict) -> None:
        sock, session = self._control_socket()
        session.username = self.username
        while True:  # replies to earlier requests are of no interest
            try:
                sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
        sock.send_multipart(session.serialize(session.msg(msg_type, content)))

    # -- control ---------------------------------------------------------------------------
    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def interrupt(self) -> None:
        if not self.is_alive():
            raise RuntimeError("cannot interrupt: the kernel is not running")
        if self.interrupt_mode == "message":
            self._send_control("interrupt_request", {})
        else:
            self._signal_group(signal.SIGINT)

    def signal_kernel(self, signum: int) -> None:
        if self.is_alive():
            self._signal_group(signum)

    def restart(self, now: bool = False) -> None:
        """Stop the kernel and start a fresh one on the same ports with a new key."""
        with self._lock:
            self._expect_exit = True
            self._stop_process(now=now, restart=True)
            assert self.info is not None
            self.info.key = new_key()
            self._write_connection_file()
            if not self._launch(30.0):  # a port was taken meanwhile: new ports
                self.info = None
                self.start()
                return
            self._expect_exit = False
            self._sync_key()
            if self.autorestart:
                self._watch(self.process)

    def shutdown(self, now: bool = False) -> None:
        """Stop the kernel, its process group and remove the connection file."""
        pending, self._background_start = self._background_start, None
        if pending is not None:  # a start under way: let it finish, then stop what it started
            try:
                pending.wait()
            except Exception:
                pass  # it failed: there is no process, only files to clean up
        with self._lock:
            self._expect_exit = True
            self._stop_process(now=now, restart=False)
            self.cleanup()

    def cleanup(self) -> None:
        if self._control is not None:
            self._control.close(linger=0)
            self._control = None
            self._session = None
        if self._connection_file is not None:
            try:
                self._connection_file.unlink()
            except FileNotFoundError:
                pass
        if self._output is not None:
            self._output.close()
            self._output = None

    def _stop_process(self, now: bool, restart: bool) -> None:
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            if not now:
                try:
                    self._send_control("shutdown_request", {"restart": restart})
                    proc.wait(SHUTDOWN_WAIT)
                except (subprocess.TimeoutExpired, zmq.ZMQError):
                    log.warning("kernel %d did not shut down when asked; terminating it", proc.pid)
            for signum, wait in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 5.0)):
                if proc.poll() is not None:
                    break
                self._signal_group(signum)
                try:
                    proc.wait(wait)
                except subprocess.TimeoutExpired:
                    pass
        # Whatever the kernel started in its process group goes with it.
        self._kill_group(signal.SIGTERM)

    def _signal_group(self, signum: int) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass
        except PermissionError:
            self.process.send_signal(signum)

    def _kill_group(self, signum: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass
        if signum == signal.SIGKILL:
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                pass

    # -- auto-restart --------------------------------------------------------------------
    def add_restart_callback(self, fn: Callable[[], None], event: str = "restart") -> None:
        """``event``: 'restart' (auto-restarted after dying) or 'dead' (gave up)."""
        self._callbacks[event].append(fn)

    def remove_restart_callback(self, fn: Callable[[], None], event: str = "restart") -> None:
        if fn in self._callbacks[event]:
            self._callbacks[event].remove(fn)

    def _watch(self, proc: subprocess.Popen) -> None:
        threading.Thread(target=self._wait_for_death, args=(proc,), name="kernel-restarter", daemon=True).start()

    def _wait_for_death(self, proc: subprocess.Popen) -> None:
        code = proc.wait()
        with self._lock:
            if self._expect_exit or proc is not self.process:
                return
            log.warning("kernel %d died unexpectedly (exit code %s)", proc.pid, code)
            now = time.monotonic()
            self._restart_times = [t for t in self._restart_times if now - t < self.restart_window]
            if len(self._restart_times) >= self.max_restarts:
                log.error("kernel died %d times within %.0f s; not restarting", len(self._restart_times), self.restart_window)
                self._fire("dead")
                return
            self._restart_times.append(now)
            try:
                self._kill_group(signal.SIGTERM)
                self.restart(now=True)
            except Exception:
                log.exception("automatic restart failed")
                self._fire("dead")
                return
        self._fire("restart")

    def _fire(self, event: str) -> None:
        for fn in list(self._callbacks[event]):
            try:
                fn()
            except Exception:
                log.exception("%s callback failed", event)

    def __del__(self):
        try:
            if self.is_alive():
                self.shutdown(now=True)
        except Exception:
            pass


class _BackgroundStart:
    """A kernel start running on its own thread; :meth:`wait` re-raises its error."""

    def __init__(self, start: Callable[[], None]):
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, args=(start,), name="kernel-start", daemon=True)
        self._thread.start()

    def _run(self, start: Callable[[], None]) -> None:
        try:
            start()
        except BaseException as exc:  # handed to whoever waits
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error
