"""Before and after: the SDK at a git revision against the working tree, sections (a) and (d).

    .venv/bin/python benchmarks/compare.py --base d011bc5        # about 4 min on 2 cores
    .venv/bin/python benchmarks/compare.py --base main --sections d --rounds 21
    .venv/bin/python benchmarks/compare.py --base HEAD~3 --new HEAD   # two revisions
    make bench-compare BASE=d011bc5

Each side is one process whose ``PYTHONPATH`` holds one tree of the SDK: the revision's
``thoughtcredits/`` taken with ``git archive``, or the working tree. Both talk to one server
process (``_bench_server``, from the working tree). Every round measures each section once
for each side, back to back, the side that goes first alternating from round to round; the
figure is the median over the rounds of the paired ratio new / base, so a ratio above 1 means
the new code costs more. On a shared machine the load drifts over minutes but hardly between
two runs a second apart, which pairing cancels.

* ``a``: the walk of ``make bench`` (a): debit actions of one account, 100 a page, through
  ``client.credit_actions.list``; the figure is the client process's CPU time.
* ``d``: the 64 tasks of ``make bench`` (d), each listing one small page 40 times on one
  shared client; the figures are the wall time (the inverse of requests a second) and the
  client process's CPU time.

``--otel`` sets up OpenTelemetry the same way in both workers: ``absent`` (it cannot be
imported), ``installed`` (the API, no provider: the default), ``imported`` (the same, the API
imported by both sides, as an application's other libraries may), ``noop`` (its no-op
providers set), or ``sdk`` (the SDK's providers: spans and metrics made, none exported).

Prints a table and writes the figures and every sample as JSON (``--output``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from _bench_server import ServerConfig, ServerProcess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKER = HERE / "_compare_worker.py"

FULL: dict[str, Any] = {
    "big_actions": 20_000, "walk_items": 3_000, "page_size": 100,
    "tasks": 64, "per_task": 4, "calls": 200, "rounds": 151,
}  # fmt: skip
QUICK: dict[str, Any] = {
    **FULL, "big_actions": 2_000, "walk_items": 300, "per_task": 2, "calls": 10, "rounds": 2,
}  # fmt: skip
MEASURES = {"a": ("cpu",), "d": ("wall", "cpu"), "p": ("cpu",)}
# How OpenTelemetry is set up in both workers (the worker reads the variable first of all).
OTEL_VARIABLE = "TC_COMPARE_OTEL"
OTEL_STATES = ("absent", "installed", "imported", "noop", "sdk")
WHAT = {
    ("a", "cpu"): "walk, client CPU",
    ("d", "wall"): "64 tasks, wall (1 / requests a second)",
    ("d", "cpu"): "64 tasks, client CPU",
    ("p", "cpu"): "SDK alone (mock transport), CPU",
}


def git(*args: str) -> bytes:
    """A git command's output, run in this repository."""
    command = [shutil.which("git") or "git", "-C", str(ROOT), *args]
    return subprocess.run(command, capture_output=True, check=True).stdout  # noqa: S603 - git


def git_text(*args: str) -> str:
    """A git command's output as text."""
    return git(*args).decode().strip()


def sdk_tree(rev: str | None, scratch: Path) -> tuple[Path, str]:
    """The directory holding ``thoughtcredits/`` at ``rev`` (None: the working tree), and its
    name for the report."""
    if rev is None:
        dirty = " + uncommitted changes" if git("status", "--porcelain", "thoughtcredits") else ""
        return ROOT, f"working tree ({git_text('rev-parse', '--short', 'HEAD')}{dirty})"
    commit = git_text("rev-parse", "--verify", f"{rev}^{{commit}}")
    archive = git("archive", "--format=tar", commit, "thoughtcredits")
    target = scratch / commit[:12]
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target, f"{rev} ({commit[:12]})"


class Side:
    """One worker process: the SDK of one tree, measured on request."""

    def __init__(self, name: str, tree: Path, info: dict[str, Any], otel: str) -> None:
        self.name = name
        env = {**os.environ, "PYTHONPATH": str(tree), OTEL_VARIABLE: otel}
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tree,
        )
        ready = self._ask(info)
        loaded = Path(ready["ready"]).resolve()
        if not loaded.is_relative_to(tree.resolve()):  # an installed copy shadowed the tree
            raise RuntimeError(f"{name}: imported {loaded}, not the tree at {tree}")

    def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps(message) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the worker exited ({self._process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, section: str) -> dict[str, float]:
        """One measurement of ``section``."""
        return self._ask({"section": section})

    def close(self) -> None:
        """End the worker."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


def median_interval(ratios: list[float], draws: int = 2000) -> tuple[float, float]:
    """A 95 % bootstrap interval of the median of ``ratios`` (seeded: reproducible)."""
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    return medians[int(draws * 0.025)], medians[int(draws * 0.975) - 1]


def compare(
    info: dict[str, Any],
    trees: dict[str, Path],
    sections: list[str],
    size: dict[str, Any],
    otel: str = "installed",
) -> dict[str, Any]:
    """Alternate the two sides round by round; the paired ratios and every sample."""
    expected = {"a": size["walk_items"], "d": size["tasks"] * size["per_task"], "p": size["calls"]}
    sides = [Side(name, tree, {**info, **size}, otel) for name, tree in trees.items()]
    samples: dict[str, dict[str, list[dict[str, float]]]] = {
        section: {side.name: [] for side in sides} for section in sections
    }
    try:
        for number in range(size["rounds"]):
            order = sides if number % 2 == 0 else sides[::-1]
            for section in sections:
                for side in order:
                    sample = side.run(section)
                    if sample["count"] != expected[section]:
                        raise RuntimeError(f"{side.name} counted {sample['count']} in ({section})")
                    samples[section][side.name].append(sample)
    finally:
        for side in sides:
            side.close()
    figures: dict[str, Any] = {}
    for section in sections:
        base, new = samples[section]["base"], samples[section]["new"]
        for measure in MEASURES[section]:
            ratios = [n[measure] / b[measure] for b, n in zip(base, new, strict=True)]
            figures[f"{section}_{measure}"] = {
                "median_ratio": statistics.median(ratios),
                "interval_95": list(median_interval(ratios)),
                "range": [min(ratios), max(ratios)],
                "ratios": ratios,
                "median_seconds": {
                    "base": statistics.median(s[measure] for s in base),
                    "new": statistics.median(s[measure] for s in new),
                },
            }
    return {"figures": figures, "samples": samples}


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision of the baseline")
    parser.add_argument("--new", default=None, help="git revision to compare (default: the "
                        "working tree)")  # fmt: skip
    parser.add_argument("--sections", default="a,d", help="comma-separated: a, d, p (default a,d)")
    parser.add_argument("--limit", type=float, default=None, help="exit 1 when a median ratio "
                        "is over this (e.g. 1.03)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=None, help="paired rounds (default 15)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--output", type=Path, default=None, help="write the JSON here")
    parser.add_argument("--otel", choices=OTEL_STATES, default="installed", help="OpenTelemetry "
                        "in both workers: absent (not importable), installed (the API, no "
                        "provider set: the default), imported (the same, and the API imported "
                        "by both sides), noop (its no-op providers set) or sdk (the SDK's "
                        "providers, spans and metrics made, none exported)")  # fmt: skip
    args = parser.parse_args(argv)
    sections = [part.strip() for part in args.sections.split(",") if part.strip()]
    if not sections or set(sections) - set(MEASURES):
        parser.error(f"--sections: expected a comma-separated subset of a,d,p: {args.sections!r}")
    size = dict(QUICK if args.quick else FULL)
    if args.rounds is not None:
        if args.rounds < 1:
            parser.error("--rounds: at least 1")
        size["rounds"] = args.rounds
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tc-compare-") as scratch:
        try:
            base_tree, base_name = sdk_tree(args.base, Path(scratch))
            new_tree, new_name = sdk_tree(args.new, Path(scratch))
        except subprocess.CalledProcessError as exc:
            parser.error(f"git: {exc.stderr.decode(errors='replace').strip()}")
        config = ServerConfig(size["big_actions"], rate_per_minute=60, burst=1)
        with ServerProcess(config) as server:
            if server.info["big_counts"].get("debit", 0) < size["walk_items"]:
                raise RuntimeError("the big account holds fewer debits than the walk needs")
            trees = {"base": base_tree, "new": new_tree}
            result = compare(server.info, trees, sections, size, args.otel)
    result = {"base": base_name, "new": new_name, "sizes": size, "sections": sections,
              "otel": args.otel, "seconds": time.perf_counter() - started,
              "load_average": os.getloadavg(), **result}  # fmt: skip
    print(f"base: {base_name}\nnew:  {new_name}\n{size['rounds']} paired rounds, "
          f"OpenTelemetry {args.otel}")  # fmt: skip
    print(f"{'':2} {'measure':40} {'new/base':>8}  {'95% interval':>13}  {'range':>13}  "
          f"{'base s':>7} {'new s':>7}")  # fmt: skip
    over = []
    for key, figure in result["figures"].items():
        section, measure = key.split("_")
        ratio, (low, high), (least, most) = (
            figure["median_ratio"], figure["interval_95"], figure["range"]
        )  # fmt: skip
        seconds = figure["median_seconds"]
        verdict = ""
        if args.limit is not None:
            verdict = "ok" if ratio <= args.limit else f"OVER {args.limit:g}"
            if ratio > args.limit:
                over.append(key)
        print(
            f"{section:2} {WHAT[section, measure]:40} {ratio:8.3f}  {low:6.3f}-{high:6.3f}  "
            f"{least:6.3f}-{most:6.3f}  {seconds['base']:7.3f} {seconds['new']:7.3f}  {verdict}"
        )
    if args.output is not None:
        args.output.write_text(json.dumps(result, indent=2) + "\n")
        print(f"results: {args.output}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
