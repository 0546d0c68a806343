"""``benchmarks/export_quota.py`` runs end to end at a tiny size (the shape, not the figures)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_export_quota_benchmark_runs_every_configuration(tmp_path: Path) -> None:
    """One round of each configuration, paired: every run answered, no 429, every pair."""
    output = tmp_path / "export_quota.json"
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-W", "error", str(ROOT / "benchmarks" / "export_quota.py"),
         "--rounds", "1", "--accounts", "3", "--actions", "30", "--latency", "0.01",
         "--rate", "6000/100", "--json", str(output)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    results = json.loads(output.read_text())
    (runs,) = results["runs"]
    assert [run["config"] for run in runs] == ["one", "auto", "given", "reconcile"]
    assert all(run["answered"] > 0 and run["rate_limited"] == 0 for run in runs)
    assert set(results["pairs"]) == {"auto/one", "given/one", "auto/reconcile"}
    assert all(0 < value <= 1.5 for value in results["median_quota_used"].values())
