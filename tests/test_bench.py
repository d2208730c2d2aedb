"""``python -m bench`` end to end on a few quick figures: it starts real
kernels, measures, and writes the JSON and Markdown reports. (The speed
itself is measured by ``make bench``, never asserted here.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ["kernel_start", "execute_pass_idle", "floor", "idle_vs_floor"]


def test_a_quick_run_of_some_figures_writes_both_reports(tmp_path):
    out = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--no-peers", "--only", *FIGURES, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]

    report = json.loads((out / "results.json").read_text())
    assert report["meta"]["quick"] is True and report["meta"]["machine"]["cores"] >= 1
    rows = {r["name"]: r for r in report["results"]}
    assert set(rows) == set(FIGURES)
    for name in FIGURES:
        ours = rows[name]["ours"]
        assert not rows[name]["error"], (name, rows[name]["error"])
        assert ours["n"] >= 1 and 0 < ours["min"] <= ours["median"] <= ours["max"], (name, ours)
        assert rows[name]["skipped_theirs"] == "--no-peers given"
    latency = rows["execute_pass_idle"]["ours"]
    assert latency["n"] > 100 and latency["p50"] <= latency["p99"]
    # Execute over the floor: one ratio per pair of back-to-back blocks,
    # judged against its 2x target.
    paired = rows["idle_vs_floor"]
    assert paired["ours"]["n"] == 2 and all(r > 0 for r in paired["ours_samples"])
    assert paired["abs_target"] == 2.0 and paired["meets_target"] == (paired["ours"]["median"] <= 2.0)

    markdown = (out / "results.md").read_text()
    assert markdown.startswith(f"Measured {report['meta']['date']}")
    assert "| figure | ours | peer | theirs | ours/theirs | target | met |" in markdown
    for row in report["results"]:
        assert f"| {row['title']} |" in markdown
    assert markdown in run.stdout  # the table is also printed
