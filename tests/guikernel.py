"""Helpers for tests that run GUI event loops inside real kernels."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from helpers import run, shell_reply, stdout_of, wait_until


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


def median_round_trip(kc, send, n: int = 25) -> float:
    """Median seconds from sending a shell request to its reply."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        shell_reply(kc, send())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
