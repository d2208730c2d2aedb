"""Helpers for tests that run GUI event loops inside real kernels."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from helpers import iopub_until_idle, run, shell_reply, stdout_of, wait_until


def ok(kc, code: str, **kwargs) -> list:
    """Execute; the cell must succeed. Returns its IOPub messages."""
    reply, msgs = run(kc, code, **kwargs)
    content = reply["content"]
    assert content["status"] == "ok", (content, stdout_of(msgs, "stderr"))
    return msgs


def value(kc, expression: str) -> str:
    """What ``print(expression)`` prints in the kernel, stripped."""
    return stdout_of(ok(kc, f"print({expression})")).strip()


def error(kc, code: str) -> tuple:
    """Execute; the cell must fail. Returns (reply content, stderr text)."""
    reply, msgs = run(kc, code)
    content = reply["content"]
    assert content["status"] == "error", content
    return content, stdout_of(msgs, "stderr")


def count_lines(path: Path) -> int:
    try:
        return path.read_text().count("\n")
    except FileNotFoundError:
        return 0


def wait_for_lines(path: Path, at_least: int, what: str, timeout: float = 30.0) -> None:
    """Wait, sending the kernel nothing, until ``path`` has that many lines.
    A kernel callback writes them: they prove the loop runs while idle."""
    wait_until(lambda: count_lines(path) >= at_least, timeout=timeout, what=what)


def median_round_trip(kc, send, n: int = 25, gap: float = 0.02) -> float:
    """Median seconds from sending a shell request to its reply. Each request
    is sent ``gap`` seconds after the kernel went idle, so that it finds the
    kernel asleep in its loop: what is measured is how fast the loop wakes."""
    times = []
    for _ in range(n):
        time.sleep(gap)
        t0 = time.perf_counter()
        msg_id = send()
        shell_reply(kc, msg_id)
        times.append(time.perf_counter() - t0)
        iopub_until_idle(kc, msg_id)
    return statistics.median(times)


def assert_execute_not_delayed(kc, gui: str, attempts: int = 3, slack: float = 0.003) -> None:
    """The median execute round trip with ``%gui <gui>`` is within ``slack``
    of the plain loop's. A loop that polled every N ms would add about N/2 ms
    to every attempt; scheduling noise on a busy machine does not repeat, so
    one good attempt out of a few is the verdict."""
    results = []
    for _ in range(attempts):
        with_gui = median_round_trip(kc, lambda: kc.execute("pass", silent=True))
        ok(kc, "%gui")
        try:
            plain = median_round_trip(kc, lambda: kc.execute("pass", silent=True))
        finally:
            ok(kc, f"%gui {gui}")
        if with_gui < plain + slack:
            return
        results.append(f"{with_gui * 1000:.2f} ms with {gui}, {plain * 1000:.2f} ms without")
    raise AssertionError("execute round trips delayed by the loop: " + "; ".join(results))


def main_thread_switches(pid: int) -> int:
    """Context switches of a process's main thread so far (Linux)."""
    total = 0
    with open(f"/proc/{pid}/task/{pid}/status") as f:
        for line in f:
            key, _, count = line.partition(":")
            if key.endswith("ctxt_switches"):
                total += int(count)
    return total


def assert_sleeps_while_idle(pid: int, windows: int = 6, window: float = 0.5, at_most: int = 2) -> None:
    """The kernel's main thread sleeps until an event comes: in some
    ``window``-second stretch with nothing to do it wakes at most ``at_most``
    times. A loop that polled every N ms would wake window/N times in each
    (a window system may send a burst of events first, hence a few tries)."""
    seen = []
    for _ in range(windows):
        before = main_thread_switches(pid)
        time.sleep(window)  # the observation window itself
        seen.append(main_thread_switches(pid) - before)
        if seen[-1] <= at_most:
            return
    raise AssertionError(f"the idle kernel woke {seen} times per {window} s")


def assert_events_held_during_a_cell(kc, ticks: Path) -> None:
    """While a cell runs, the toolkit's loop waits: a 10 ms timer (counting
    into ``ticks[0]`` and the ``ticks`` file) does not fire during a one-second
    sleep, and fires again once the cell is over."""
    wait_for_lines(ticks, 5, "the timer running")
    out = stdout_of(ok(kc, "import time\nbefore = ticks[0]\ntime.sleep(1)\nprint(ticks[0] - before)"))
    assert out == "0\n"  # a 10 ms timer, one second, not a tick: the loop waits for the cell
    wait_for_lines(ticks, count_lines(ticks) + 10, "ticks once the cell is over")


def assert_cell_can_process_events(kc, ticks: Path, process: str, setup: str = "") -> None:
    """A cell that processes events itself (``process``, a statement) runs the
    timer: at least five ticks, within half a second or as long as they take."""
    wait_for_lines(ticks, 5, "the timer running")
    out = stdout_of(ok(kc, f"""
import time
{setup}
before, start = ticks[0], time.monotonic()
while time.monotonic() - start < 0.5 or (ticks[0] - before < 5 and time.monotonic() - start < 30):
    {process}
print(ticks[0] - before)
"""))
    assert int(out) >= 5
