"""The kernel behind a console: start, watch, interrupt, restart, stop.

Two situations:

- *owned*: the console has a :class:`~kernel.manager.KernelManager`. The
  process is watched through a pidfd (readable the moment it exits; a cheap
  timer checks ``is_alive`` where pidfds do not exist). An unexpected death
  is reported at once and the kernel is restarted automatically, at most
  ``max_restarts`` times within ``restart_window`` seconds.
- *attached*: only a client. Death shows up as a silent heartbeat (see the
  bridge); interrupt and restart go as messages on the control channel, and
  whoever owns the kernel restarts it. The client may come from a
  *connector* (a kernel on another machine, reached through a tunnel that
  is set up when the console starts and released when it closes).

Starting and restarting wait for a process to come up, so they run on a
worker thread and report back through queued signals: the GUI thread never
blocks on them.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Callable, List, Optional, Protocol

from PyQt5.QtCore import QObject, QSocketNotifier, QTimer, pyqtSignal

from kernel.client import KernelClient
from kernel.connect import CHANNELS
from kernel.manager import KernelManager, KernelStartError

log = logging.getLogger(__name__)


class Connector(Protocol):
    """Makes the client of an attached console (for instance through a tunnel)."""

    def connect(self, username: Optional[str]) -> KernelClient: ...
    def release(self) -> None: ...
    def follow_restart(self, old_key: bytes) -> bool: ...

#: Automatic restarts within the window; the death after them is the last:
#: five quick deaths in a row and the console stops and offers a manual restart.
DEFAULT_MAX_RESTARTS = 4
DEFAULT_RESTART_WINDOW = 60.0
#: Fallback liveness check interval where pidfd_open is unavailable.
ALIVE_CHECK_MS = 500


def describe_exit(code: Optional[int]) -> str:
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class KernelLifecycle(QObject):
    """Process-level control of one console's kernel."""

    #: the kernel process is up (owned) and this client may be bridged
    client_ready = pyqtSignal(object)
    #: start-up failed: reason, the kernel's own output
    start_failed = pyqtSignal(str, str)
    #: the kernel died unexpectedly: a description
    died = pyqtSignal(str)
    restarting = pyqtSignal()
    #: a restart finished: True if it was automatic
    restarted = pyqtSignal(bool)
    restart_failed = pyqtSignal(str, str)
    #: died again too often: no more automatic restarts
    gave_up = pyqtSignal(str)
    shut_down = pyqtSignal()
    #: the kernel exited because some frontend asked it to stop: how it exited
    ended = pyqtSignal(str)
    #: this console now owns a kernel manager it did not start with
    adopted = pyqtSignal()

    _work_done = pyqtSignal(object, object)  # callback, exception (from the worker thread)
    _manager_event = pyqtSignal(str)  # manager auto-restart callbacks, marshalled

    def __init__(self, manager: Optional[KernelManager] = None, client: Optional[KernelClient] = None, *,
                 username: Optional[str] = None, autorestart: bool = True,
                 max_restarts: int = DEFAULT_MAX_RESTARTS, restart_window: float = DEFAULT_RESTART_WINDOW,
                 connector: Optional[Connector] = None, parent: Optional[QObject] = None):
        super().__init__(parent)
        if manager is None and client is None and connector is None:
            raise ValueError("a console needs a kernel manager, a client, or a connector")
        self.manager = manager
        self.client = client
        self.connector = connector
        self._connected = False
        self.username = username
        if manager is not None and username:
            manager.username = username  # what it asks the kernel is this console's doing
        self.autorestart = autorestart
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.busy = False  # a start/restart/shutdown is in progress
        #: this console started the kernel and nobody can have run code in it yet
        self.started_new = False
        # A console closed while its kernel is still starting: the worker
        # thread stops the kernel once it is up (see _in_thread and shutdown).
        self._work_lock = threading.Lock()
        self._working = False
        self._closed = False
        self.dead = False
        self._send_control: Optional[Callable[..., object]] = None
        self._expect_exit = False
        self._restart_on_exit = False
        self._starting = False
        self._restart_times: List[float] = []
        self._pidfd: Optional[int] = None
        self._pid_notifier: Optional[QSocketNotifier] = None
        self._alive_timer = QTimer(self)
        self._alive_timer.setInterval(ALIVE_CHECK_MS)
        self._alive_timer.timeout.connect(self._check_alive)
        self._work_done.connect(self._on_work_done)
        self._manager_event.connect(self._on_manager_event)
        self._listening = False  # to the manager's own auto-restart callbacks

    @property
    def owned(self) -> bool:
        return self.manager is not None

    def set_control_sender(self, send: Callable[..., object]) -> None:
        """How to send control messages (the bridge's ``send``), for attached kernels."""
        self._send_control = send

    # -- starting ---------------------------------------------------------------------
    def start(self) -> None:
        if self.manager is None:
            if self.client is None and self.connector is not None:
                self._connect()
                return
            assert self.client is not None
            self.client_ready.emit(self.client)
            return
        if self.manager.is_alive() and not self.manager.start_pending:
            self._on_started(None)  # someone else's start: who knows what it has run
            return
        self.busy = True
        self._starting = True
        self._closed = False
        manager = self.manager
        self._in_thread(manager.start, self._on_own_start, cleanup=lambda: manager.shutdown(now=True))

    def _on_own_start(self, exc: Optional[BaseException]) -> None:
        self.started_new = exc is None  # a kernel this console started has run nothing yet
        self._on_started(exc)

    def _connect(self) -> None:
        connector = self.connector
        assert connector is not None
        self.busy = True
        self._closed = False
        made: List[KernelClient] = []
        self._in_thread(lambda: made.append(connector.connect(self.username)),
                        lambda exc: self._on_connected(exc, made),
                        cleanup=lambda: made and connector.release())

    def _on_connected(self, exc: Optional[BaseException], made: List[KernelClient]) -> None:
        self.busy = False
        if isinstance(exc, _Closed):
            return
        if exc is not None:
            reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
            log.error("cannot reach the kernel: %s", reason)
            self.start_failed.emit(reason, getattr(exc, "details", ""))
            return
        self._connected = True
        self.client = made[0]
        self.client_ready.emit(self.client)

    def _on_started(self, exc: Optional[BaseException]) -> None:
        self.busy = False
        if isinstance(exc, _Closed):
            return
        if exc is not None:
            reason, output = _failure(exc, self.manager)
            log.error("the kernel failed to start: %s", reason)
            self.start_failed.emit(reason, output)
            return
        self.dead = False
        self._watch()
        info = self.manager.info
        if self.client is None or any(self.client.info.url(ch) != info.url(ch) for ch in CHANNELS):
            # first start, or started again on other ports (they were taken meanwhile)
            if self.client is not None:
                self.client.stop_channels()
            self.client = self.manager.client(username=self.username)
        self.client_ready.emit(self.client)

    def mark_ready(self) -> None:
        """The kernel answered: from now on an exit is a death, not a failed start.

        Other kernels than ours do not report when they are listening, so
        their start-up only ends with the console's handshake.
        """
        self._starting = False

    # -- control ---------------------------------------------------------------------
    def interrupt(self) -> None:
        if self.manager is not None and self.manager.is_alive() and not self.busy:
            self.manager.interrupt()
        elif self._send_control is not None:
            self._send_control("interrupt")
        else:
            raise RuntimeError("cannot interrupt: no kernel to talk to")

    def restart(self) -> None:
        """Restart now (owned), or ask the kernel's owner to (attached)."""
        if self.busy:
            return
        if self.manager is None:
            if self._send_control is None:
                raise RuntimeError("cannot restart: not connected")
            self._send_control("shutdown", restart=True)
            return
        self._restart_times.clear()  # a restart by hand starts the count of quick deaths again
        self._begin_restart(automatic=False)

    def adopt(self, manager: KernelManager) -> None:
        """Own ``manager`` from now on: a kernel another console handed on
        (already running: it is watched from now on), or a new one to start
        in place of a kernel that was shut down elsewhere."""
        self.detach()
        self.manager = manager
        if self.username:
            manager.username = self.username
        self.dead = not manager.is_alive()
        self._expect_exit = False
        self._restart_on_exit = False
        self._restart_times.clear()
        if manager.is_alive():
            self._watch()
        self.adopted.emit()

    def _begin_restart(self, automatic: bool) -> None:
        self.busy = True
        self._expect_exit = True
        self._unwatch()
        self.restarting.emit()
        manager = self.manager
        assert manager is not None
        self._starting = True
        self._in_thread(lambda: manager.restart(now=automatic),
                        lambda exc: self._on_restarted(exc, automatic),
                        cleanup=lambda: manager.shutdown(now=True))

    def _on_restarted(self, exc: Optional[BaseException], automatic: bool) -> None:
        self.busy = False
        if isinstance(exc, _Closed):
            return
        self._expect_exit = False
        if exc is not None:
            reason, output = _failure(exc, self.manager)
            log.error("restarting the kernel failed: %s", reason)
            self.dead = True
            self.restart_failed.emit(reason, output)
            return
        self.dead = False
        self._watch()
        self._follow_key()
        self.restarted.emit(automatic)

    def _follow_key(self) -> None:
        """The restarted kernel has a new key; a client the manager did not
        make (one this console had before it adopted the kernel) takes it here."""
        info = self.manager.info if self.manager is not None else None
        if self.client is not None and info is not None and self.client.session.key != info.key.encode():
            self.client.update_key(info.key, info.signature_scheme)

    def detach(self) -> None:
        """Stop watching the kernel (the console closes but the kernel stays);
        a connector is released (the last console closes its tunnel)."""
        self._unwatch()
        if self.connector is not None:
            with self._work_lock:
                self._closed = True  # a connection being made is released by its thread
            if self._connected:
                self._connected = False
                self.connector.release()
        if self.manager is not None and self._listening:
            self.manager.remove_restart_callback(self._emit_manager_restart, "restart")
            self.manager.remove_restart_callback(self._emit_manager_dead, "dead")
            self._listening = False

    def shutdown(self, now: bool = False) -> None:
        """Stop an owned kernel (blocking briefly); attached kernels are left alone."""
        self.detach()
        if self.manager is None:
            return
        self._expect_exit = True
        with self._work_lock:
            self._closed = True
            in_progress = self._working
        if not in_progress and self.manager.process is not None:
            self.manager.shutdown(now=now)
        self.dead = True
        self.shut_down.emit()

    def expect_exit(self, restart: bool) -> None:
        """Someone asked the kernel to stop (a shutdown_reply was seen): its
        exit is not a crash; restart it afterwards if that was asked."""
        self._expect_exit = True
        self._restart_on_exit = restart

    # -- watching --------------------------------------------------------------------
    def _watch(self) -> None:
        self._unwatch()
        if self.manager is None or self.manager.process is None:
            return
        if self.manager.autorestart:
            # the manager watches its process on its own thread and tells us
            if not self._listening:
                self.manager.add_restart_callback(self._emit_manager_restart, "restart")
                self.manager.add_restart_callback(self._emit_manager_dead, "dead")
                self._listening = True
            return
        pid = self.manager.process.pid
        try:
            self._pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError) as exc:
            log.debug("pidfd_open unavailable (%s); checking liveness with a timer", exc)
            self._alive_timer.start()
            return
        self._pid_notifier = QSocketNotifier(self._pidfd, QSocketNotifier.Read, self)
        self._pid_notifier.activated.connect(lambda _fd: self._on_exit())

    def _unwatch(self) -> None:
        """Stop watching the process (the manager's callbacks stay: see detach)."""
        self._alive_timer.stop()
        if self._pid_notifier is not None:
            self._pid_notifier.setEnabled(False)
            self._pid_notifier.deleteLater()
            self._pid_notifier = None
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def _check_alive(self) -> None:
        if self.manager is not None and not self.manager.is_alive():
            self._on_exit()

    def _on_exit(self) -> None:
        self._unwatch()
        if self.manager is None:
            return
        code = self.manager.process.poll() if self.manager.process else None
        if code is None and self.manager.process is not None:
            try:
                code = self.manager.process.wait(1)
            except Exception:
                code = None
        if self._starting:
            self._starting = False
            self.dead = True
            output = self.manager.kernel_output()
            reason = f"the kernel exited during start-up ({describe_exit(code)})"
            log.error("%s", reason)
            self.start_failed.emit(reason, output)
            return
        if self._expect_exit:
            self._expect_exit = False
            if self._restart_on_exit:
                self._restart_on_exit = False
                self._begin_restart(automatic=True)
            else:
                self.dead = True
                self.ended.emit(describe_exit(code))
            return
        self.dead = True
        what = f"the kernel died unexpectedly ({describe_exit(code)})"
        log.warning("%s", what)
        self.died.emit(what)
        if not self.autorestart:
            return
        now = time.monotonic()
        self._restart_times = [t for t in self._restart_times if now - t < self.restart_window]
        if len(self._restart_times) >= self.max_restarts:
            self.gave_up.emit(f"it died {len(self._restart_times) + 1} times within "
                              f"{self.restart_window:.0f} s; not restarting it automatically")
            return
        self._restart_times.append(now)
        self._begin_restart(automatic=True)

    # manager.autorestart: its thread restarts the kernel and calls these
    def _emit_manager_restart(self) -> None:
        self._manager_event.emit("restart")

    def _emit_manager_dead(self) -> None:
        self._manager_event.emit("dead")

    def _on_manager_event(self, event: str) -> None:
        if event == "restart":
            self.dead = False
            self.died.emit("the kernel died unexpectedly")
            self.restarted.emit(True)
        else:
            self.dead = True
            self.gave_up.emit("the kernel keeps dying; not restarting it automatically")

    # -- threads ---------------------------------------------------------------------
    def _in_thread(self, work: Callable[[], object], done: Callable[[Optional[BaseException]], None],
                   cleanup: Optional[Callable[[], object]] = None) -> None:
        """Run ``work`` on a thread and ``done`` back on this one; ``cleanup``
        undoes the work if the console closed meanwhile."""

        def run() -> None:
            failure: Optional[BaseException] = None
            try:
                work()
            except BaseException as exc:  # reported on the GUI thread
                failure = exc
            with self._work_lock:
                self._working = False
                closed = self._closed
            if closed:
                # the console was closed meanwhile: nobody else will undo this
                if cleanup is not None:
                    try:
                        cleanup()
                    except Exception:
                        log.exception("cleaning up after a closed console failed")
                failure = _Closed()
            try:
                self._work_done.emit(done, failure)
            except RuntimeError:
                pass  # the console is gone


        with self._work_lock:
            self._working = True
        threading.Thread(target=run, name="kernel-lifecycle", daemon=True).start()

    def _on_work_done(self, done: Callable, exc: Optional[BaseException]) -> None:
        done(exc)


class _Closed(Exception):
    """The console closed while its kernel was starting; the kernel was stopped."""


def _failure(exc: BaseException, manager: Optional[KernelManager]) -> tuple:
    if isinstance(exc, KernelStartError):
        return exc.reason, exc.output
    output = manager.kernel_output() if manager is not None else ""
    return f"{type(exc).__name__}: {exc}", output
