"""The API reference: built strictly from the docstrings, with an entry for every public name.

``make test`` runs this, so a docstring mkdocstrings cannot render, a broken cross-reference
or a public name without an entry fails the suite. The build fetches nothing from the web.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import attrs
import pytest

import thoughtcredits as tc
from thoughtcredits._models import camel

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("thoughtcredits", "thoughtcredits.testing", "thoughtcredits.reconcile",
            "thoughtcredits.fastapi")  # fmt: skip


def _build() -> str:
    """``mkdocs build --strict`` into a temporary folder; the reference page's HTML."""
    if os.environ.get("CI") != "true":
        pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
    with tempfile.TemporaryDirectory() as site:
        done = subprocess.run(  # noqa: S603 - our own interpreter and mkdocs
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", site],
            cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert "WARNING" not in done.stderr, done.stderr[-3000:]
        return (Path(site) / "reference" / "index.html").read_text(encoding="utf-8")


def test_the_reference_builds_strictly_with_every_public_name() -> None:
    """One strict build (it takes seconds): every public name has an entry, every model a
    row per field with its wire name, and no page loads anything from the web."""
    reference = _build()
    for package in PACKAGES:
        module = importlib.import_module(package)
        missing = [
            name
            for name in module.__all__
            if not name.startswith("__") and f'id="{package}.{name}"' not in reference
        ]
        assert missing == [], package
    values = [getattr(tc, name) for name in tc.__all__]
    models = [v for v in values if attrs.has(v) and v.__module__ == "thoughtcredits._models"]
    assert {m.__name__ for m in models} >= {"CreditBatch", "CreditAction", "CreditAccount"}
    for model in models:
        start = reference.index(f'id="thoughtcredits.{model.__name__}"')
        for field in attrs.fields(model):
            row = re.compile(
                rf"<code>{field.name}</code></td>\s*<td><code>{camel(field.name)}</code></td>"
            )
            assert row.search(reference, start), (model.__name__, field.name)
    loaded = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', reference)
    assert loaded == []


def _args_section(doc: str) -> set[str]:
    """The names an ``Args:`` section (of a dedented docstring) describes."""
    section = doc.split("\nArgs:\n", 1)[1] if "\nArgs:\n" in doc else ""
    section = re.split(r"^\S", section, maxsplit=1, flags=re.M)[0]  # up to the next heading
    return set(re.findall(r"^ {4}(\w+):", section, re.M))


def test_every_client_argument_is_documented() -> None:
    """``Client(...)``: each parameter of the signature is described in the docstring."""
    parameters = set(inspect.signature(tc.Client).parameters)
    assert parameters >= {"base_url", "api_key", "retry", "rate_limit", "timeout"}
    assert parameters <= _args_section(inspect.getdoc(tc.Client) or "")


def test_every_exception_says_what_it_means() -> None:
    """Each public exception has a docstring of its own (not its base's)."""
    errors = [
        getattr(tc, name)
        for name in tc.__all__
        if isinstance(getattr(tc, name), type) and issubclass(getattr(tc, name), Exception)
    ]
    assert len(errors) >= 10
    assert [e.__name__ for e in errors if not e.__dict__.get("__doc__")] == []
