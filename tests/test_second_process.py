"""A second ``qtapp --existing`` process on the kernel of a first console:
both stay live. The second process reports its prompt in its debug log, so
the test can see it follow the first console's work and a restart."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from console_helpers import TIMEOUT_MS, run, wait_text
from test_tabs import open_window

REPO = Path(__file__).resolve().parent.parent


class LogWatcher:
    """Lines of a process's stderr, read on a thread so the test never blocks on it."""

    def __init__(self, stream):
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.seen: list = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in iter(stream.readline, ""):
            self.lines.put(line)

    def wait_for(self, needle: str, timeout: float = 60.0, app_wait=None) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.05)
            except queue.Empty:
                if app_wait is not None:
                    app_wait(10)  # keep the first console's event loop turning
                continue
            self.seen.append(line)
            if needle in line:
                return line
        raise AssertionError(f"{needle!r} not logged within {timeout} s; last lines:\n" + "".join(self.seen[-15:]))


def test_a_second_process_and_the_first_both_stay_live_on_one_kernel(qtbot, tmp_path):
    window, app = open_window(qtbot, tmp_path)
    first = window.console
    manager = first.manager
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, "-m", "qtapp", "--debug", "--settings", str(tmp_path / "second.ini"),
           "--existing", str(manager.connection_file), "--username", "bob"]
    second = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                              cwd=str(REPO))
    try:
        log = LogWatcher(second.stderr)
        log.wait_for("console ready: In [1]:", app_wait=qtbot.wait)
        # the second console's own requests reached the kernel: the first sees bob
        qtbot.waitUntil(lambda: any(p.username == "bob" for p in first.controller.peers.others()),
                        timeout=TIMEOUT_MS)
        # it follows the first console's work as it happens
        run(qtbot, first, "a = 1")
        run(qtbot, first, "b = 2")
        log.wait_for("console ready: In [3]:", app_wait=qtbot.wait)
        # a restart by the first: the second takes the new key and starts over at In [1]
        first.restart_kernel(confirm=False)
        qtbot.waitUntil(lambda: first.is_ready and first.controller.next_count == 1, timeout=TIMEOUT_MS)
        log.wait_for("the kernel's key changed", app_wait=qtbot.wait)
        log.wait_for("console ready: In [1]:", app_wait=qtbot.wait)
        run(qtbot, first, "c = 3")
        log.wait_for("console ready: In [2]:", app_wait=qtbot.wait)
        # the second leaves; the first and its kernel carry on
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
        assert manager.is_alive()
        run(qtbot, first, "print('first still live')")
        wait_text(qtbot, first, "first still live\n")
    finally:
        if second.poll() is None:
            second.kill()
            second.wait(30)
        second.stderr.close()
