"""Kernel figures, measured the same way for our kernel and for ipykernel.

Both kernels are driven by the same client (ours), so differences come from
the kernels. Wall-clock times are what users feel; the kernel's own CPU
time comes from the operating system's accounting (/proc/<pid>/stat).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Optional

import zmq

from kernel.manager import KernelManager

OURS: Optional[str] = None       # kernel_name for our kernel
THEIRS = "python3"               # ipykernel's kernelspec
TICKS = os.sysconf("SC_CLK_TCK")
TIMEOUT = 120.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Kernel:
    """A started kernel plus a ready client."""

    def __init__(self, name: Optional[str]):
        self.t0 = time.perf_counter()
        self.km = KernelManager(kernel_name=name)
        self.km.start()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.ready_after = None

    def wait_ready(self) -> None:
        self.kc.wait_for_ready(timeout=TIMEOUT)

    def request(self, send, want: str = "reply", timeout: float = TIMEOUT) -> tuple:
        """Send with ``send(kc) -> msg_id``; return (seconds to reply, seconds to idle, reply)."""
        kc = self.kc
        poller = zmq.Poller()
        poller.register(kc.shell_channel.socket, zmq.POLLIN)
        poller.register(kc.iopub_channel.socket, zmq.POLLIN)
        t0 = time.perf_counter()
        msg_id = send(kc)
        reply = t_reply = t_idle = None
        deadline = t0 + timeout
        while t_reply is None or (want == "idle" and t_idle is None):
            if not poller.poll(max(1, int((deadline - time.perf_counter()) * 1000))):
                raise TimeoutError(f"no answer to {msg_id}")
            while (m := kc.shell_channel.recv_nowait()) is not None:
                if m["parent_header"].get("msg_id") == msg_id:
                    reply, t_reply = m, time.perf_counter()
            while (m := kc.iopub_channel.recv_nowait()) is not None:
                if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                        and m["content"]["execution_state"] == "idle"):
                    t_idle = time.perf_counter()
        return t_reply - t0, (t_idle - t0) if t_idle else None, reply

    def run_collect(self, code: str) -> tuple:
        """Execute; return (seconds until idle with all output, characters of stream text)."""
        kc = self.kc
        t0 = time.perf_counter()
        msg_id = kc.execute(code)
        chars = 0
        while True:
            m = kc.get_iopub_msg(timeout=TIMEOUT)
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            if m["msg_type"] == "stream":
                chars += len(m["content"]["text"])
            elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        elapsed = time.perf_counter() - t0
        while kc.shell_channel.recv_nowait() is not None:
            pass
        return elapsed, chars

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown(now=True)


class Pool:
    """One warm kernel per side, reused by the figures that allow it."""

    def __init__(self):
        self._kernels: dict = {}

    def get(self, name: Optional[str]) -> Kernel:
        if name not in self._kernels:
            k = Kernel(name)
            k.wait_ready()
            k.request(lambda kc: kc.execute("pass"), "idle")
            self._kernels[name] = k
        return self._kernels[name]

    def close(self) -> None:
        for k in self._kernels.values():
            k.close()
        self._kernels.clear()


POOL = Pool()


# -- figures ------------------------------------------------------------------

def start_time(name: Optional[str]) -> list:
    """Process launch to the first kernel_info_reply (ms), on a fresh kernel."""
    k = Kernel(name)
    try:
        elapsed, _, _ = k.request(lambda kc: kc.kernel_info())
        return [(time.perf_counter() - k.t0) * 1000]
    finally:
        k.close()


def start_cpu(name: Optional[str]) -> list:
    """CPU time (user+system, ms) the kernel process used until it answered kernel_info."""
    k = Kernel(name)
    try:
        k.request(lambda kc: kc.kernel_info())
        return [cpu_seconds(k.km.process.pid) * 1000]
    finally:
        k.close()


def rss_after_start(name: Optional[str]) -> list:
    """Resident memory (MiB) once the kernel has answered and run one cell."""
    k = Kernel(name)
    try:
        k.wait_ready()
        k.request(lambda kc: kc.execute("pass"), "idle")
        return [rss_mib(k.km.process.pid)]
    finally:
        k.close()


def _latencies(name, send, n, which) -> list:
    k = POOL.get(name)
    for _ in range(20):
        k.request(send, "idle")
    out = []
    for _ in range(n):
        to_reply, to_idle, _ = k.request(send, "idle")
        out.append((to_reply if which == "reply" else to_idle) * 1000)
    return out


def execute_pass_reply(name, n) -> list:
    return _latencies(name, lambda kc: kc.execute("pass"), n, "reply")


def execute_pass_idle(name, n) -> list:
    return _latencies(name, lambda kc: kc.execute("pass"), n, "idle")


def idle_over_floor(name, n, block: int = 50) -> list:
    """execute("pass") → idle over the floor's round trip, p50 over p50, the
    two measured in alternating blocks of ``block`` requests. This machine's
    speed drifts within a minute (the floor's p50 anywhere from 0.14 ms to
    0.29 ms), so a ratio of runs taken apart measures the drift as much as
    the kernel."""
    from .floor import Floor

    k = POOL.get(name)
    send = lambda kc: kc.execute("pass")  # noqa: E731
    ours, base = [], []
    with Floor() as floor:
        for _ in range(20):
            k.request(send, "idle")
        while len(ours) < n:
            base.extend(floor.round_trips(block))
            ours.extend(k.request(send, "idle")[1] * 1000 for _ in range(block))
    return [statistics.median(ours) / statistics.median(base)]


def kernel_info_rtt(name, n) -> list:
    return _latencies(name, lambda kc: kc.kernel_info(), n, "reply")


def prints_200k(name) -> list:
    expected = sum(len(f"{i}\n") for i in range(200_000))
    elapsed, chars = POOL.get(name).run_collect("for i in range(200000): print(i)")
    if chars != expected:
        raise AssertionError(f"lost output: {chars} of {expected} characters")
    return [elapsed]


def write_50mb(name) -> list:
    size = 50_000_000
    elapsed, chars = POOL.get(name).run_collect(f"import sys; sys.stdout.write('x' * {size})")
    if chars != size:
        raise AssertionError(f"lost output: {chars} of {size} characters")
    return [size / elapsed / 1e6]


def complete_first(name) -> list:
    """The first completion a fresh kernel serves, asked the way a user asks:
    the kernel has started, run a first cell, and a second has passed (nobody
    presses Tab faster). Both kernels get the same treatment."""
    k = Kernel(name)
    try:
        k.wait_ready()
        k.request(lambda kc: kc.execute("pass"), "idle")
        time.sleep(1.0)
        elapsed, _, reply = k.request(lambda kc: kc.complete("import o", 8))
        if "os" not in reply["content"]["matches"]:
            raise AssertionError("completion did not offer 'os'")
        return [elapsed * 1000]
    finally:
        k.close()


def complete_warm(name, n) -> list:
    k = POOL.get(name)
    k.request(lambda kc: kc.execute("import os"), "idle")
    return _latencies(name, lambda kc: kc.complete("os.pa", 5), n, "reply")


def inspect_print(name, n) -> list:
    return _latencies(name, lambda kc: kc.inspect("print", 5, 0), n, "reply")
