"""The pytest plugin: fixtures, their cleanup, a cheap import, life without pytest-asyncio."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer


def run_pytest(
    tmp_path: Path, test_source: str, *args: str, prelude: str = "", ini: str = ""
) -> str:
    """Run pytest in a fresh interpreter on one test file; return its output."""
    (tmp_path / "test_it.py").write_text(textwrap.dedent(test_source))
    (tmp_path / "pytest.ini").write_text(f"[pytest]\n{ini}")
    code = f"import sys; {prelude}import pytest; sys.exit(pytest.main({['-q', *args]!r}))"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env,
        timeout=120, check=False,
    )  # fmt: skip
    return done.stdout + done.stderr


async def test_fixtures_give_a_running_server_and_a_client_for_it(
    credits_server: FakeCreditsServer, credits_client: tc.Client
) -> None:
    """credits_client talks to credits_server: an account it creates lands in the ledger."""
    assert credits_client.base_url == f"{credits_server.url}/incoming/v2"
    cid = credits_server.ledger.add_client()
    account = await credits_client.credit_accounts.create(
        cid, name="Plugin", starting_balance=3, notify_emails=[], license_ids=[]
    )
    assert credits_server.ledger.account(account.id).name == "Plugin"
    assert [r.route for r in credits_server.requests] == ["create_credit_account"]


def test_fixtures_are_cleaned_up_after_each_test(tmp_path: Path) -> None:
    """After a test, its client is closed and its server no longer listens."""
    output = run_pytest(
        tmp_path,
        """
        import aiohttp, pytest
        kept = {}

        async def test_use(credits_server, credits_client):
            kept["server"], kept["client"], kept["url"] = (
                credits_server, credits_client, credits_server.url)

        async def test_after():
            assert kept["client"].closed
            with pytest.raises(RuntimeError):
                kept["server"].url
            async with aiohttp.ClientSession() as session:
                with pytest.raises(aiohttp.ClientConnectionError):
                    await session.get(kept["url"])
        """,
        "-W", "error",
        ini="asyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n",
    )  # fmt: skip
    assert "2 passed" in output, output


def test_without_pytest_asyncio_only_the_fixtures_fail(tmp_path: Path) -> None:
    """Without pytest-asyncio the plugin loads; using a fixture fails with a clear message."""
    output = run_pytest(
        tmp_path,
        """
        def test_plain():
            assert True

        def test_needs_server(credits_server):
            pass
        """,
        "-p", "thoughtcredits.testing._plugin", "-p", "no:cacheprovider",
        prelude="sys.modules['pytest_asyncio'] = None; import os; "
        "os.environ['PYTEST_DISABLE_PLUGIN_AUTOLOAD'] = '1'; ",
    )  # fmt: skip
    assert "1 passed, 1 error" in output, output
    assert "needs pytest-asyncio" in output


def test_plugin_import_is_cheap() -> None:
    """Importing the plugin does not import the server or aiohttp.web."""
    code = (
        "import sys, thoughtcredits.testing._plugin; "
        "print('aiohttp.web' in sys.modules, 'thoughtcredits.testing._server' in sys.modules)"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "False"]


def test_package_exports_are_sorted_and_resolve() -> None:
    """thoughtcredits.testing.__all__ is sorted and every name in it can be imported."""
    import thoughtcredits.testing as testing

    assert testing.__all__ == sorted(testing.__all__, key=lambda n: (not n.isupper(), n))
    for name in testing.__all__:
        assert getattr(testing, name) is not None
