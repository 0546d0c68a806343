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
from pathlib import Path

import attrs
import pytest

import thoughtcredits as tc
from thoughtcredits._serde.exact_json import camel

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("thoughtcredits", "thoughtcredits.testing", "thoughtcredits.reconcile",
            "thoughtcredits.fastapi")  # fmt: skip


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The built reference page's HTML (``mkdocs build --strict``)."""
    if os.environ.get("CI") != "true":
        pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
    site = tmp_path_factory.mktemp("site")
    done = subprocess.run(  # noqa: S603 - our own interpreter and mkdocs
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "WARNING" not in done.stderr, done.stderr[-3000:]
    return (site / "reference" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_has_a_reference_entry(reference: str, package: str) -> None:
    """Each name in ``__all__`` (but ``__version__``) is an anchor of the reference page."""
    module = importlib.import_module(package)
    missing = [
        name
        for name in module.__all__
        if not name.startswith("__") and f'id="{package}.{name}"' not in reference
    ]
    assert missing == []


def test_every_model_lists_its_fields_with_their_wire_names(reference: str) -> None:
    """A model's entry has a row per field: attribute, wire name (as to_json writes it)."""
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


def test_the_built_site_loads_nothing_from_the_web(reference: str) -> None:
    """No web fonts, scripts or styles from another host: the docs build works offline."""
    loaded = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', reference)
    assert loaded == []
