"""``make demo`` (``python -m thoughtcredits._cli.demo``) runs end to end in a few seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def test_demo_runs_the_main_job_through_the_cli(tmp_path: Path) -> None:
    """The demo shows each command, exports thousands of actions, stops the server, exits 0."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "thoughtcredits._cli.demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    for command in (
        "$ thoughtcredits serve-fake --port 0 --seed-demo --quiet &",
        "$ thoughtcredits accounts create ",
        "$ thoughtcredits batches create ",
        "$ thoughtcredits batches update ",
        "$ thoughtcredits batches list ",
        "$ thoughtcredits actions list ",
    ):
        assert command in out
    assert "(server exited with 0)" in out
    export = tmp_path / "thoughtcredits-demo" / "debit-actions.jsonl"
    lines = export.read_text().splitlines()
    assert len(lines) > 5000
    assert {json.loads(line)["action"] for line in lines} == {"debit"}
    assert f"exported {len(lines):,} debit actions" in out
    assert "items" in done.stderr  # the progress bar, forced on
    assert elapsed < 30
    # Its closing hint works in a new shell, where .venv/bin is not on PATH.
    scripts = Path(sys.executable).parent
    if scripts not in (Path("/usr/bin"), Path("/bin")):  # the PATH it was given
        here = Path.cwd()
        shown = scripts.relative_to(here) if scripts.is_relative_to(here) else scripts
        assert f"source {shown}/activate" in out


def test_the_readme_reaches_the_venv_before_using_it() -> None:
    """In the README, `source .venv/bin/activate` comes before the first shell command that
    needs what `make demo` installed (`thoughtcredits ...`, `python ...`)."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    shell = []
    for block in re.findall(r"```console\n(.*?)```", readme, re.S):
        shell += [line.removeprefix("$ ").strip() for line in block.splitlines()]
    shell += re.findall(r"`(python [\w.]+\.py)`", readme)
    needs = [i for i, line in enumerate(shell) if line.startswith(("thoughtcredits ", "python "))]
    activate = [i for i, line in enumerate(shell) if line.startswith("source .venv/bin/activate")]
    assert needs
    assert activate
    assert activate[0] < needs[0], shell
