"""The benchmark script runs end to end at its tiny size (numbers are not checked, only shape)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "run.py"

pytest.importorskip("httpx")
pytest.importorskip("msgspec")
pytest.importorskip("pydantic")


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Any]:
    """``benchmarks/run.py --quick`` once, with warnings as errors, writing to a temp file."""
    output = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-W", "error", str(SCRIPT), "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        check=False,
    )
    results = json.loads(output.read_text()) if output.exists() else None
    return done, results


def test_quick_run_succeeds_without_warnings(quick_run: tuple[Any, Any]) -> None:
    """The quick run exits 0 and writes nothing to stderr (no warning, no leaked resource)."""
    done, _ = quick_run
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_quick_run_prints_every_section(quick_run: tuple[Any, Any]) -> None:
    """The printed table has a row for each of the sections (a) to (g)."""
    done, _ = quick_run
    sections = {line.split()[0] for line in done.stdout.splitlines()[1:] if line[:1].isalpha()}
    assert {"a", "b", "c", "d", "e", "f", "g"} <= sections


def test_quick_run_writes_every_ratio(quick_run: tuple[Any, Any]) -> None:
    """results.json holds a finite, positive headline figure for every section."""
    _, results = quick_run
    assert results is not None
    assert results["mode"] == "quick"
    headline = {
        ("a_b_walk", "a_ratio_sdk_vs_aiohttp"),
        ("a_b_walk", "b_ratio_sdk_vs_httpx"),
        ("c_decode", "c_ratio_sdk_vs_pydantic"),
        ("d_concurrency", "d_ratio_sdk_vs_aiohttp"),
        ("e_prefetch", "e_ratio_prefetch_vs_fetch_only"),
        ("f_rate_limit", "f_ratio_achieved_vs_allowed"),
    }
    for section, key in headline:
        value = results[section][key]
        assert math.isfinite(value), (section, key, value)
        assert value > 0, (section, key, value)
    assert set(results["c_decode"]["ratio_to_json_loads"]) >= {"sdk", "pydantic", "msgspec"}
    assert math.isfinite(results["g_memory"]["g_growth_mb"])
    assert results["f_rate_limit"]["server_429s"] >= 0
    assert {"nproc", "cpu_model", "python", "date"} <= set(results["machine"])


def test_quick_run_walks_exactly_the_requested_items(quick_run: tuple[Any, Any]) -> None:
    """Every contender of (a)/(b) walked the same number of items, and (g) streamed them all."""
    _, results = quick_run
    walk = results["a_b_walk"]
    for runs in walk["samples"].values():
        assert {run["count"] for run in runs} == {walk["items"]}
    streamed = results["g_memory"]["large"]["items"]
    assert streamed == sum(results["server"]["big_counts"].values())
    assert results["g_memory"]["small"]["items"] == results["sizes"]["memory_small"]
