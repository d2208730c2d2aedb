"""Results as JSON, a Markdown table, and a bar chart of the ratios."""

from __future__ import annotations

import json
import math
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import os
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def _fmt(v: float, unit: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if unit in ("ms",) and v < 10:
        return f"{v:.2f} {unit}"
    if v >= 100:
        return f"{v:.0f} {unit}"
    return f"{v:.1f} {unit}" if v >= 10 else f"{v:.2f} {unit}"


def _cell(summary: dict, unit: str, latency: bool) -> str:
    if not summary:
        return "–"
    if latency:
        return f"p50 {_fmt(summary['p50'], unit)}, p99 {_fmt(summary['p99'], unit)}"
    return f"{_fmt(summary['median'], unit)} [{_fmt(summary['min'], unit)} – {_fmt(summary['max'], unit)}]"


def markdown(results: list, meta: dict) -> str:
    lines = [
        f"Measured {meta['date']} on {meta['machine']['cpu']} ({meta['machine']['cores']} cores), "
        f"Python {meta['machine']['python']}, {'quick' if meta['quick'] else 'full'} run.",
        "",
        "| figure | ours | peer | theirs | ours/theirs | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lat = r["name"].endswith(("_rtt", "_reply", "_idle", "_warm", "_print")) or "p50" in r["ours"]
        ratio = "–" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        sign = "≤ " if r["lower_is_better"] else "≥ "
        goals = []
        if r["target"] is not None:
            goals.append(f"{sign}{r['target']}x")
        if r.get("abs_target") is not None:
            goals.append(f"{sign}{_fmt(r['abs_target'], r['unit'])}")
        target = ", ".join(goals) or "–"
        met = {True: "yes", False: "**no**", None: "–"}[r["meets_target"]]
        theirs = _cell(r["theirs"], r["unit"], lat) if r["theirs"] else (r["skipped_theirs"] or "–")
        ours = _cell(r["ours"], r["unit"], lat) if r["ours"] else ("error: " + r["error"] if r["error"] else "–")
        lines.append(f"| {r['title']} | {ours} | {r['peer']} | {theirs} | {ratio} | {target} | {met} |")
    notes = [f"- {r['title']}: {r['note']}" for r in results if r.get("note")]
    notes += [f"- {n}" for n in meta.get("notes", [])]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def chart(results: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in results if r["ratio"] is not None]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    names = [r["title"] for r in rows]
    # Plot "how many times better": >1 means ours wins, whatever the direction.
    gains = [(1 / r["ratio"]) if r["lower_is_better"] else r["ratio"] for r in rows]
    colors = ["#2e7d32" if r["meets_target"] in (True, None) else "#c62828" for r in rows]
    ax.barh(names, gains, color=colors)
    for r, y in zip(rows, range(len(rows))):
        if r["target"]:
            goal = (1 / r["target"]) if r["lower_is_better"] else r["target"]
            ax.plot([goal, goal], [y - 0.4, y + 0.4], color="black", linewidth=1.5)
    ax.axvline(1, color="grey", linestyle=":")
    ax.set_xscale("log")
    ax.set_xlabel("times better than the peer (log scale; black tick: target)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(results: list, quick: bool, out_dir: Path, notes: list = ()) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "quick": quick,
            "machine": machine(), "commit": commit, "notes": list(notes)}
    (out_dir / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    md = markdown(results, meta)
    (out_dir / "results.md").write_text(md)
    chart(results, out_dir / "ratios.png")
    return {"meta": meta, "markdown": md}
