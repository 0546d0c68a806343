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
    """The printed table has a row for each of the sections (a) and (c) to (h)."""
    done, _ = quick_run
    sections = {line.split()[0] for line in done.stdout.splitlines()[1:] if line[:1].isalpha()}
    assert {"a", "c", "d", "e", "f", "g", "h"} <= sections


def test_quick_run_writes_every_ratio(quick_run: tuple[Any, Any]) -> None:
    """results.json holds a finite, positive headline figure for every section."""
    _, results = quick_run
    assert results is not None
    assert results["mode"] == "quick"
    headline = {
        ("a_walk", "a_ratio_sdk_vs_aiohttp"),
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
    walk = results["a_walk"]["cpu_ratio_vs_aiohttp_json"]
    floors_and_variants = {"aiohttp_orjson", "aiohttp_msgspec", "aiohttp_orjson_typed"}
    floors_and_variants |= {f"aiohttp_orjson_{kind}_as_str" for kind in ("uuid", "datetime")}
    assert {"sdk", "aiohttp_orjson_amount_as_number", "aiohttp_orjson_all_as_wire"} <= set(walk)
    assert floors_and_variants <= set(walk)
    assert all(math.isfinite(value) and value > 0 for value in walk.values())
    shapes = results["h_structuring"]["shapes"]
    assert {"actions_server", "batches_fractional", "batches_sparse_odd", "accounts"} <= set(shapes)
    assert all(shape["us_per_item"] > 0 for shape in shapes.values())
    assert math.isfinite(results["g_memory"]["g_growth_mb"])
    assert results["f_rate_limit"]["server_429s"] >= 0
    assert {"nproc", "cpu_model", "python", "date"} <= set(results["machine"])


def test_quick_run_walks_exactly_the_requested_items(quick_run: tuple[Any, Any]) -> None:
    """Every contender of (a) walked the same number of items, and (g) streamed them all."""
    _, results = quick_run
    walk = results["a_walk"]
    for runs in walk["samples"].values():
        assert {run["count"] for run in runs} == {walk["items"]}
    streamed = results["g_memory"]["large"]["items"]
    assert streamed == sum(results["server"]["big_counts"].values())
    assert results["g_memory"]["small"]["items"] == results["sizes"]["memory_small"]


def test_compare_runs_both_sides_and_pairs_every_round(tmp_path: Path) -> None:
    """``compare.py --quick`` measures a git revision against the working tree, (a) and (d)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    output = tmp_path / "compare.json"
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-W", "error", str(ROOT / "benchmarks" / "compare.py"), "--base",
         "HEAD", "--quick", "--rounds", "3", "--output", str(output)],
        capture_output=True, text=True, timeout=180, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    results = json.loads(output.read_text())
    assert results["base"].startswith("HEAD (")
    assert results["new"].startswith("working tree (")
    assert set(results["figures"]) == {"a_cpu", "d_wall", "d_cpu"}
    for figure in results["figures"].values():
        assert len(figure["ratios"]) == 3
        assert all(math.isfinite(ratio) and ratio > 0 for ratio in figure["ratios"])
    for section, count in (("a", 300), ("d", 64 * 2)):
        for side in ("base", "new"):
            assert [s["count"] for s in results["samples"][section][side]] == [count] * 3
