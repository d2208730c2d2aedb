"""How kernels end: port races at start-up, shutdown, stubborn kernels, and a
launcher that dies without cleaning up."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import (iopub_until_idle, process_gone, run, shell_reply, start_kernel_process, stdout_of,
                     wait_until)
from kernel.app import EXIT_PORTS_TAKEN
from kernel.client import KernelClient
from kernel.connect import (CHANNELS, PROCESS_FIELD, jupyter_runtime_dir, new_connection_info,
                            process_record, write_connection_file)
from kernel.manager import SHUTDOWN_WAIT, KernelManager

REPO = Path(__file__).resolve().parent.parent


# -- start-up ---------------------------------------------------------------------------

@pytest.mark.parametrize("channel", CHANNELS)
def test_a_taken_port_ends_the_kernel_promptly_with_a_clear_message(tmp_path, channel):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        info = new_connection_info()
        setattr(info, f"{channel}_port", port)
        path = write_connection_file(tmp_path / "k.json", info)
        t0 = time.monotonic()
        proc = start_kernel_process(["-f", str(path)])
        try:
            _, err = proc.communicate(timeout=60)  # never hangs
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        elapsed = time.monotonic() - t0
    finally:
        blocker.close()
    assert proc.returncode == EXIT_PORTS_TAKEN == 3
    message = err.decode()
    assert f"cannot bind the {channel} channel to tcp://127.0.0.1:{port}" in message
    assert "are taken, choose new ones" in message and str(path) in message
    assert elapsed < 30, f"took {elapsed:.1f} s to give up"
    assert path.exists()  # not the kernel's file to remove


# -- shutdown ----------------------------------------------------------------------------

def _start_child(kc) -> int:
    """A long-running child of the kernel, in the kernel's process group."""
    msg_id = kc.execute("import subprocess, sys\n"
                        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
                        "print(child.pid)")
    reply = shell_reply(kc, msg_id)
    assert reply["content"]["status"] == "ok"
    return int(stdout_of(iopub_until_idle(kc, msg_id)))


def test_shutdown_request_ends_the_kernel_promptly_with_its_children(km, kc):
    proc, path = km.process, km.connection_file
    child = _start_child(kc)
    assert os.getpgid(child) == proc.pid  # the kernel leads the group its children are in
    t0 = time.monotonic()
    kc.shutdown()  # from a client: the manager plays no part until the kernel is gone
    proc.wait(30)
    elapsed = time.monotonic() - t0
    assert elapsed < 10, f"the kernel took {elapsed:.1f} s to exit after shutdown_request"
    wait_until(lambda: process_gone(child), timeout=30, what="the kernel's child to end")
    km.shutdown()
    assert not path.exists()


def test_a_kernel_ignoring_sigint_and_sigterm_is_killed_after_the_grace_period(km, kc, caplog):
    """The cell ignores SIGINT and SIGTERM and then holds the GIL in C code, so
    neither the control thread nor the kernel's own exit watchdog can run:
    only the manager's SIGKILL can end it."""
    caplog.set_level(logging.WARNING, logger="kernel.manager")
    proc, path = km.process, km.connection_file
    run(kc, "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)")
    msg_id = kc.execute("signal.signal(signal.SIGINT, signal.SIG_IGN)\nsum(range(10**15))")
    while True:  # the cell is running once its input is broadcast
        m = kc.get_iopub_msg(timeout=60)
        if m["msg_type"] == "execute_input" and m["parent_header"].get("msg_id") == msg_id:
            break
    t0 = time.monotonic()
    km.shutdown()
    elapsed = time.monotonic() - t0
    assert proc.returncode == -signal.SIGKILL
    assert SHUTDOWN_WAIT <= elapsed < 30, f"shutdown took {elapsed:.1f} s"
    assert "did not shut down when asked" in caplog.text
    assert not path.exists()


# -- a kernel that dies ------------------------------------------------------------------

def test_an_attached_client_sees_a_killed_kernel_stop_beating_within_3_s(km):
    kc = KernelClient.from_connection_file(km.connection_file)  # attached, not the owner
    try:
        kc.wait_for_ready(timeout=60)
        assert kc.is_alive()
        os.kill(km.process.pid, signal.SIGKILL)
        t0 = time.monotonic()
        while kc.is_alive():  # each check waits up to HEARTBEAT_TIMEOUT for an echo
            assert time.monotonic() - t0 < 30, "the heartbeat kept answering after SIGKILL"
        elapsed = time.monotonic() - t0
    finally:
        kc.stop_channels()
    assert elapsed < 3.0, f"noticed after {elapsed:.1f} s"


# -- a launcher that dies -------------------------------------------------------------

LAUNCHER = """
import sys
from kernel.manager import KernelManager
km = KernelManager()
km.start()
print(km.connection_file, km.process.pid, flush=True)
sys.stdin.read()
"""


def _launch_elsewhere() -> tuple:
    """A process that starts a kernel with KernelManager, as a console does."""
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, cwd=str(REPO))
    line = launcher.stdout.readline().decode().split()
    assert len(line) == 2, f"the launcher failed (exit code {launcher.wait()})"
    path, pid = Path(line[0]), int(line[1])
    kc = KernelClient.from_connection_file(path)
    try:
        kc.wait_for_ready(timeout=60)
    finally:
        kc.stop_channels()
    return launcher, path, pid


def _kill(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def test_a_kernel_follows_its_killed_launcher_and_removes_its_connection_file():
    launcher, path, pid = _launch_elsewhere()
    try:
        record = json.loads(path.read_text())[PROCESS_FIELD]
        assert record["pid"] == pid
        _kill(launcher)
        t0 = time.monotonic()
        wait_until(lambda: process_gone(pid), timeout=30, what="the kernel to exit")
        elapsed = time.monotonic() - t0
        assert elapsed < 10, f"the kernel outlived its launcher by {elapsed:.1f} s"
        assert not path.exists()  # nobody else would have removed it
    finally:
        if launcher.poll() is None:
            _kill(launcher)
        if not process_gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_the_next_start_removes_only_files_whose_kernel_is_provably_gone(tmp_path):
    launcher, stale, pid = _launch_elsewhere()
    try:  # kernel first, so it cannot clean up after its launcher
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: process_gone(pid), timeout=30, what="the kernel to die")
    finally:
        _kill(launcher)
    assert stale.exists()
    rdir = jupyter_runtime_dir()
    info = new_connection_info()
    foreign = write_connection_file(rdir / "kernel-other-tool.json", info)  # no record: not ours to judge
    info.extra[PROCESS_FIELD] = process_record(os.getpid())
    alive = write_connection_file(rdir / "kernel-alive.json", info)      # names a live process
    elsewhere = dict(process_record(pid), boot_id="another-boot")
    info.extra[PROCESS_FIELD] = elsewhere
    other_host = write_connection_file(rdir / "kernel-elsewhere.json", info)  # that pid means nothing here
    km = KernelManager()
    try:
        km.start()
        assert not stale.exists()
        assert foreign.exists() and alive.exists() and other_host.exists()
        assert km.connection_file.exists()
    finally:
        km.shutdown()
        for p in (foreign, alive, other_host):
            p.unlink()
