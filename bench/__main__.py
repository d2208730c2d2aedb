"""``python -m bench [--quick]``: measure, compare with the peers, report."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

from . import floor, kernels, report
from .harness import Figure, run_figure


def peer_status() -> tuple:
    if importlib.util.find_spec("ipykernel") is None:
        return False, "ipykernel not installed (pip install .[bench])"
    from kernel.kernelspec import find_kernel_specs

    if "python3" not in find_kernel_specs():
        return False, "ipykernel's python3 kernelspec not found"
    return True, ""


def kernel_figures(quick: bool) -> list:
    n = 300 if quick else 2000
    ours, theirs = kernels.OURS, kernels.THEIRS
    return [
        Figure("kernel_start", "kernel start → kernel_info_reply", "ms", target=0.35, runs=8, quick_runs=3,
               ours=lambda: kernels.start_time(ours), theirs=lambda: kernels.start_time(theirs)),
        Figure("kernel_start_cpu", "kernel CPU until kernel_info_reply (OS accounting)", "ms", runs=5, quick_runs=2,
               ours=lambda: kernels.start_cpu(ours), theirs=lambda: kernels.start_cpu(theirs)),
        Figure("kernel_rss", "kernel RSS after start", "MiB", runs=3, quick_runs=1,
               ours=lambda: kernels.rss_after_start(ours), theirs=lambda: kernels.rss_after_start(theirs)),
        Figure("execute_pass_reply", "execute(\"pass\") → execute_reply", "ms", latency=True, runs=2, quick_runs=1,
               ours=lambda: kernels.execute_pass_reply(ours, n), theirs=lambda: kernels.execute_pass_reply(theirs, n)),
        Figure("execute_pass_idle", "execute(\"pass\") → status: idle", "ms", latency=True, target=0.2, runs=2,
               quick_runs=1, ours=lambda: kernels.execute_pass_idle(ours, n),
               theirs=lambda: kernels.execute_pass_idle(theirs, n)),
        Figure("kernel_info_rtt", "kernel_info round trip", "ms", latency=True, runs=2, quick_runs=1,
               ours=lambda: kernels.kernel_info_rtt(ours, n), theirs=lambda: kernels.kernel_info_rtt(theirs, n)),
        Figure("prints_200k", "200,000 print lines received + idle", "s", target=0.25, runs=4, quick_runs=2,
               ours=lambda: kernels.prints_200k(ours), theirs=lambda: kernels.prints_200k(theirs)),
        Figure("write_50mb", "one 50 MB write received", "MB/s", lower_is_better=False, target=3.0, runs=4,
               quick_runs=2, ours=lambda: kernels.write_50mb(ours), theirs=lambda: kernels.write_50mb(theirs)),
        Figure("complete_first", "completion, first call (`import o`)", "ms", target=0.6, runs=4, quick_runs=2,
               ours=lambda: kernels.complete_first(ours), theirs=lambda: kernels.complete_first(theirs)),
        Figure("complete_warm", "completion warm (`os.pa`)", "ms", latency=True, target=1.0, runs=2, quick_runs=1,
               ours=lambda: kernels.complete_warm(ours, n // 4), theirs=lambda: kernels.complete_warm(theirs, n // 4)),
        Figure("inspect_print", "inspect of `print`", "ms", latency=True, runs=2, quick_runs=1,
               ours=lambda: kernels.inspect_print(ours, n // 4), theirs=lambda: kernels.inspect_print(theirs, n // 4)),
        Figure("floor", "floor: raw DEALER/ROUTER + HMAC + JSON round trip", "ms", latency=True, peer="–",
               runs=2, quick_runs=1, ours=lambda: floor.round_trips(n)),
        Figure("idle_vs_floor", "execute(\"pass\") → idle, p50 over the floor's p50 (alternating blocks)", "x",
               peer="floor", abs_target=2.0, runs=4, quick_runs=2, ours=lambda: kernels.idle_over_floor(ours, n)),
    ]


def extra_figures(quick: bool) -> list:
    """Figures contributed by other modules (the console's live in bench.consoles)."""
    if importlib.util.find_spec("bench.consoles") is None:
        return []
    from . import consoles

    return consoles.figures(quick)


def precompile() -> None:
    """Byte-compile our packages first: an editable install run with
    PYTHONDONTWRITEBYTECODE would otherwise compile them at every launch,
    while the peers' installed packages come compiled."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in ("kernel", "qtapp"):
        compileall.compile_dir(str(root / package), quiet=1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer runs: under two minutes")
    p.add_argument("--only", nargs="*", metavar="NAME", help="run only these figures")
    p.add_argument("--no-peers", action="store_true", help="measure ours only")
    p.add_argument("--out", default=str(Path(__file__).parent / "results"), help="where results go")
    args = p.parse_args(argv)

    precompile()
    peer_ok, reason = (False, "--no-peers given") if args.no_peers else peer_status()
    figures = kernel_figures(args.quick) + extra_figures(args.quick)
    if args.only:
        figures = [f for f in figures if f.name in args.only]
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    log(f"{len(figures)} figures, {'quick' if args.quick else 'full'} run; peers: {'yes' if peer_ok else reason}")
    t0 = time.monotonic()
    results = []
    try:
        for fig in figures:
            results.append(run_figure(fig, args.quick, peer_ok, reason, log))
    finally:
        kernels.POOL.close()
    rows = [r.to_dict() for r in results]
    notes = []
    if importlib.util.find_spec("bench.consoles") is not None:
        from . import consoles
        notes = consoles.notes()
    out = report.write(rows, args.quick, Path(args.out), notes)
    print(out["markdown"])
    log(f"total {time.monotonic() - t0:.0f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
