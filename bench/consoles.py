"""Console figures: our console against qtconsole (with ipykernel), each run in
a fresh process by bench.console_driver, offscreen."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Optional

from .console_driver import DEFAULT_FIGURES
from .harness import Figure

TIMEOUT = {"launch": 90.0, "flood": 120.0, "longline": 90.0, "figures_png": 120.0, "figures_svg": 120.0}
#: qtconsole needs minutes for some of these (its time grows with the square
#: of the output); past this it counts as "at least this long".
PEER_RENDER_CAP = 30.0
#: Time allowed for a console to start before its render phase begins.
LAUNCH_MARGIN = 30.0
#: --quick must finish in two minutes: qtconsole's flood and long line get
#: a shorter cap (they are lower bounds either way), and half the figures.
QUICK_PEER_RENDER_CAP = 10.0
QUICK_LAUNCH_MARGIN = 15.0
QUICK_FIGURES = 100
#: Results of a scenario run kept for the figures that read the same run
#: (RSS from a launch, the stall from a render), so each run happens once.
_memo: dict = defaultdict(list)
#: Peer runs that had not finished at the cap (reported in the notes).
UNFINISHED: set = set()


def run_driver(which: str, scenario: str, timeout: float = 0.0, margin: float = LAUNCH_MARGIN,
               env_extra: Optional[dict] = None) -> dict:
    env = dict(os.environ)
    env.update(env_extra or {})
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["BENCH_SETTINGS"] = os.path.join(tempfile.mkdtemp(prefix="bench-settings-"), "settings.ini")
    timeout = timeout or TIMEOUT[scenario]
    started = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.console_driver", which, scenario, "--started", repr(started),
         "--timeout", str(timeout)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout + margin)
    except subprocess.TimeoutExpired:
        # Frozen in one event (qtconsole on a huge output): its own timeout
        # cannot fire, so the whole process group goes, kernel included.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"completed": False, "render_s": timeout, "stall_s": timeout, "frozen": True}
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{which} {scenario}: no result (exit {proc.returncode}): {stderr[-500:]}")
    result = json.loads(lines[-1])
    if "error" in result:
        raise RuntimeError(f"{which} {scenario}: {result['error']}")
    return result


def _launch(which: str) -> list:
    r = run_driver(which, "launch")
    _memo[(which, "rss")].append(r["rss_mib"])
    return [r["ready_s"] * 1000]


def _rss(which: str) -> list:
    if not _memo[(which, "rss")]:
        _launch(which)
    return [_memo[(which, "rss")].pop(0)]


def _render(which: str, scenario: str, quick: bool = False) -> list:
    cap, margin, env = TIMEOUT[scenario], LAUNCH_MARGIN, {}
    if scenario.startswith("figures"):
        env["BENCH_FIGURES"] = str(_figure_count(quick))
    if which == "theirs":
        # Not the figures in quick mode: capped, they would say nothing.
        short = quick and not scenario.startswith("figures")
        cap = QUICK_PEER_RENDER_CAP if short else PEER_RENDER_CAP
        margin = QUICK_LAUNCH_MARGIN if short else LAUNCH_MARGIN
    r = run_driver(which, scenario, cap, margin, env)
    if not r.get("completed"):
        if which == "ours":
            raise RuntimeError(f"{which} {scenario}: output not rendered within {cap} s")
        UNFINISHED.add((f"qtconsole {scenario}", cap))  # the figures below are lower bounds
    _memo[(which, scenario + "_stall")].append(r["stall_s"] * 1000)
    return [r["render_s"]]


def _figure_count(quick: bool) -> int:
    return QUICK_FIGURES if quick else DEFAULT_FIGURES


def _stall(which: str, scenario: str, quick: bool = False) -> list:
    if not _memo[(which, scenario + "_stall")]:
        _render(which, scenario, quick)
    return [_memo[(which, scenario + "_stall")].pop(0)]


def figures(quick: bool) -> list:
    have_peer = importlib.util.find_spec("qtconsole") is not None
    theirs = (lambda f: f) if have_peer else (lambda f: None)
    return [
        Figure("console_launch", "console launch → ready prompt", "ms", peer="qtconsole", target=0.45,
               runs=5, quick_runs=2, ours=lambda: _launch("ours"), theirs=theirs(lambda: _launch("theirs"))),
        Figure("console_rss", "console RSS at the prompt", "MiB", peer="qtconsole", target=0.85,
               runs=5, quick_runs=2, ours=lambda: _rss("ours"), theirs=theirs(lambda: _rss("theirs"))),
        Figure("render_100k", "100,000 lines rendered (ours: full scrollback; qtconsole: its 500-line cap)", "s",
               peer="qtconsole", target=0.5, runs=2, quick_runs=1,
               ours=lambda: _render("ours", "flood", quick),
               theirs=theirs(lambda: _render("theirs", "flood", quick))),
        Figure("render_100k_stall", "100,000 lines: longest event-loop stall", "ms", peer="qtconsole",
               runs=2, quick_runs=1, abs_target=30.0,
               ours=lambda: _stall("ours", "flood", quick),
               theirs=theirs(lambda: _stall("theirs", "flood", quick))),
        Figure("render_long_line", "one 1,000,000-character line rendered", "s", peer="qtconsole",
               target=None, runs=2, quick_runs=1, abs_target=0.2,
               ours=lambda: _render("ours", "longline", quick),
               theirs=theirs(lambda: _render("theirs", "longline", quick))),
        Figure("render_long_line_stall", "1,000,000-character line: longest stall", "ms", peer="qtconsole",
               runs=2, quick_runs=1, abs_target=50.0,
               ours=lambda: _stall("ours", "longline", quick),
               theirs=theirs(lambda: _stall("theirs", "longline", quick))),
        *(_figures_figures(fmt, theirs, quick) for fmt in ("png", "svg")),
    ]


def _figures_figures(fmt: str, theirs, quick: bool) -> Figure:
    scenario = f"figures_{fmt}"
    title = f"{_figure_count(quick)} inline {fmt.upper()} figures drawn, sent and shown"
    return Figure(f"inline_{fmt}", title, "s",
                  peer="qtconsole", target=0.8, runs=2, quick_runs=1,
                  ours=lambda: _render("ours", scenario, quick),
                  theirs=theirs(lambda: _render("theirs", scenario, quick)))


def notes() -> list:
    return [f"{what} had not finished after {cap:.0f} s: its figures are lower bounds"
            for what, cap in sorted(UNFINISHED)]
