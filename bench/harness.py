"""Figures, pairing and statistics.

A *figure* is one number users feel (start time, a round trip, a throughput).
Each is measured for "ours" and, when installed, for the peer ("theirs"), in
alternating runs (ours, theirs, ours, theirs...) so that slow phases of a
noisy machine hit both sides alike. Every run yields one or more samples;
the report gives min/median/max (and p50/p99 for latencies) and the ratio of
medians, ours/theirs.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class Figure:
    name: str
    title: str
    unit: str
    lower_is_better: bool = True
    peer: str = "ipykernel"
    #: the target as a ratio ours/theirs (<= for lower-is-better, >= otherwise)
    target: Optional[float] = None
    #: a target for our own median, in the figure's unit (same direction)
    abs_target: Optional[float] = None
    #: how many paired runs in full and quick mode
    runs: int = 5
    quick_runs: int = 2
    #: latency figures report p50/p99 over all samples of all runs
    latency: bool = False
    ours: Optional[Callable[[], list]] = None
    theirs: Optional[Callable[[], list]] = None
    note: str = ""


@dataclass
class Result:
    figure: Figure
    ours: list = field(default_factory=list)
    theirs: list = field(default_factory=list)
    skipped_theirs: str = ""
    error: str = ""

    @staticmethod
    def summary(samples: list, latency: bool) -> dict:
        if not samples:
            return {}
        s = sorted(samples)
        out = {"n": len(s), "min": s[0], "median": statistics.median(s), "max": s[-1]}
        if latency:
            out["p50"] = percentile(s, 50)
            out["p99"] = percentile(s, 99)
        return out

    @property
    def ratio(self) -> Optional[float]:
        if not self.ours or not self.theirs:
            return None
        a, b = statistics.median(self.ours), statistics.median(self.theirs)
        return a / b if b else None

    @property
    def meets_target(self) -> Optional[bool]:
        f = self.figure
        verdicts = []
        if self.ratio is not None and f.target is not None:
            verdicts.append(self.ratio <= f.target if f.lower_is_better else self.ratio >= f.target)
        if self.ours and f.abs_target is not None:
            m = statistics.median(self.ours)
            verdicts.append(m <= f.abs_target if f.lower_is_better else m >= f.abs_target)
        return all(verdicts) if verdicts else None

    def to_dict(self) -> dict:
        f = self.figure
        return {
            "name": f.name, "title": f.title, "unit": f.unit, "peer": f.peer,
            "lower_is_better": f.lower_is_better, "target": f.target, "abs_target": f.abs_target,
            "note": f.note,
            "ours": self.summary(self.ours, f.latency), "theirs": self.summary(self.theirs, f.latency),
            "ours_samples": self.ours, "theirs_samples": self.theirs,
            "ratio": self.ratio, "meets_target": self.meets_target,
            "skipped_theirs": self.skipped_theirs, "error": self.error,
        }


def percentile(sorted_samples: list, p: float) -> float:
    if not sorted_samples:
        return float("nan")
    k = (len(sorted_samples) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_samples) - 1)
    return sorted_samples[lo] + (sorted_samples[hi] - sorted_samples[lo]) * (k - lo)


def run_figure(fig: Figure, quick: bool, peer_available: bool, peer_reason: str, log: Callable[[str], None]) -> Result:
    result = Result(fig)
    if not peer_available or fig.theirs is None:
        result.skipped_theirs = peer_reason or "no peer measurement for this figure"
    runs = fig.quick_runs if quick else fig.runs
    t0 = time.monotonic()
    try:
        for i in range(runs):
            result.ours.extend(fig.ours())
            if not result.skipped_theirs:
                result.theirs.extend(fig.theirs())
    except Exception as exc:  # a broken figure must not sink the whole run
        result.error = f"{type(exc).__name__}: {exc}"
    log(f"  {fig.name}: {time.monotonic() - t0:.1f} s" + (f" ERROR {result.error}" if result.error else ""))
    return result
