"""Run the scripts in ``examples/`` against the local credits server.

The server runs in the test's event loop, so a script runs as a subprocess awaited with
``asyncio.create_subprocess_exec``: the loop keeps serving while the script talks to it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from thoughtcredits.testing import FakeCreditsServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass(frozen=True)
class Run:
    """How a script ended: its exit code (negative: killed by that signal) and its output."""

    returncode: int
    stdout: str
    stderr: str


def example_env(server: FakeCreditsServer) -> dict[str, str]:
    """The environment a user would set: the two variables, pointed at ``server``."""
    return {
        **os.environ,
        "THOUGHTCREDITS_BASE_URL": server.url,
        "THOUGHTCREDITS_API_KEY": server.api_key,
    }


async def start_example(
    name: str, *args: str, server: FakeCreditsServer, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """Start ``python examples/<name> ARGS`` with the server's URL and key in its environment."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / name),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**example_env(server), **(env or {})},
    )


async def finish(process: asyncio.subprocess.Process) -> Run:
    """Wait for a started script (killing it after a minute) and collect its output."""
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.communicate()
        raise
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


async def run_example(
    name: str, *args: str, server: FakeCreditsServer, env: dict[str, str] | None = None
) -> Run:
    """Run ``python examples/<name> ARGS`` to the end against ``server``."""
    return await finish(await start_example(name, *args, server=server, env=env))


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>`` as a fresh module (examples are not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{Path(name).stem}", EXAMPLES / name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
