"""The public contract: one sorted ``__all__``, the version, and docstrings on everything public."""

from __future__ import annotations
import __future__

import importlib
import importlib.util
import inspect
import types
import typing
from importlib.metadata import version
from typing import Any

import pytest

import thoughtcredits as tc

PUBLIC_MODULES = [
    "thoughtcredits",
    "thoughtcredits.testing",
    "thoughtcredits.fastapi",
    "thoughtcredits.reconcile",
    "thoughtcredits.workers",
]
# Each engine integration where its engine is installed (make test-workers: one environment each).
PUBLIC_MODULES += [
    f"thoughtcredits.workers.{engine}"
    for engine in ("arq", "celery")
    if importlib.util.find_spec(engine) is not None
]


def load(name: str) -> types.ModuleType:
    """Import a public module, skipping when it (or its optional dependency) is absent."""
    if name == "thoughtcredits":
        return tc
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        pytest.skip(f"{name} not available: {exc}")


def public_names(module: types.ModuleType) -> set[str]:
    """Public-looking names bound in ``module``, minus submodules and import idioms."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and name != "TYPE_CHECKING"  # the typing idiom, not an export
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, __future__._Feature)
    }


def isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 "isort-style" order: CONSTANTS, then CamelCase, then everything else."""
    if name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted(name: str) -> None:
    """``__all__`` is sorted (isort-style, as ruff enforces), so additions are easy to review."""
    module = load(name)
    assert list(module.__all__) == sorted(module.__all__, key=isort_key)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_matches_the_public_names(name: str) -> None:
    """Every name in ``__all__`` resolves, and every public name bound in the module is in it."""
    module = load(name)
    assert len(module.__all__) == len(set(module.__all__)), "duplicates in __all__"
    for item in module.__all__:
        assert getattr(module, item) is not None, item
    assert public_names(module) - set(module.__all__) == set()


def test_issue_names_are_exported() -> None:
    """Every name the design promises is importable from ``thoughtcredits``."""
    promised = {
        "Client", "RetryPolicy", "AsyncPaginator", "Page", "PageInfo",
        "CreditBatch", "CreditAction", "CreditAccount", "Sublicense",
        "CreditBatchStatus", "CreditAccountStatus", "CreditAccountType",
        "ThoughtCreditsError", "APIConnectionError", "APITimeoutError", "APIStatusError",
        "BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError",
        "ConflictError", "UnprocessableEntityError", "RateLimitError", "InternalServerError",
        "ResponseValidationError", "PaginationError", "__version__",
    }  # fmt: skip
    assert promised <= set(tc.__all__)


def test_version_matches_metadata() -> None:
    """``__version__`` is the installed distribution's version."""
    assert tc.__version__ == version("thoughtcredits")
    assert isinstance(tc.__version__, str)


def test_unknown_attribute_raises_attribute_error() -> None:
    """A misspelt name raises AttributeError, as for any module."""
    with pytest.raises(AttributeError, match="no_such_thing"):
        tc.no_such_thing  # type: ignore[attr-defined]  # noqa: B018


def own_doc(obj: Any) -> str | None:
    """The object's own docstring (a class does not inherit its base's)."""
    if inspect.isclass(obj):
        return obj.__dict__.get("__doc__")
    return inspect.getdoc(obj)


def members(cls: type) -> list[tuple[str, Any]]:
    """Public methods and properties defined by a class of this package."""
    found = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, property):
            found.append((name, value))
        elif hasattr(value, "func") and inspect.isfunction(value.func):  # cached_property
            found.append((name, value.func))
    return found


def documented_objects(module: types.ModuleType) -> list[tuple[str, Any]]:
    """Every public class and function of ``module``, and their public members."""
    found: list[tuple[str, Any]] = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        found.append((name, obj))
        if inspect.isclass(obj) and obj.__module__.startswith("thoughtcredits"):
            found += [(f"{name}.{member}", value) for member, value in members(obj)]
    return found


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(name: str) -> None:
    """Every public class, function, method and property has a docstring."""
    module = load(name)
    assert module.__doc__
    missing = [label for label, obj in documented_objects(module) if not own_doc(obj)]
    assert missing == []


def test_resource_namespaces_are_documented() -> None:
    """The resource objects reached through the client document every method."""
    client = tc.Client("https://acme.test", "k")
    for namespace in (client.credit_batches, client.credit_actions, client.credit_accounts):
        assert own_doc(type(namespace))
        for label, obj in members(type(namespace)):
            assert own_doc(obj), label


def test_models_are_frozen() -> None:
    """Models and the retry policy are immutable."""
    import attrs

    policy = tc.RetryPolicy()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        policy.attempts = 10  # type: ignore[misc]
    info = tc.PageInfo()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        info.cursor = "x"  # type: ignore[misc]


def test_py_typed_is_shipped() -> None:
    """The package ships its PEP 561 marker."""
    from importlib.resources import files

    assert files("thoughtcredits").joinpath("py.typed").is_file()


def test_redis_rate_limit_is_exported_and_redis_stays_optional() -> None:
    """``tc.RedisRateLimit`` is public, and ``import thoughtcredits`` works without redis-py."""
    import subprocess
    import sys

    assert "RedisRateLimit" in tc.__all__
    code = (
        "import sys; sys.modules['redis'] = None\n"  # as if redis-py were not installed
        "import thoughtcredits as tc\n"
        "try:\n    tc.RedisRateLimit('redis://localhost', key='k')\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'thoughtcredits[redis]'" in result.stdout


def _holds_any(hint: object) -> bool:
    """Whether a resolved annotation is, or holds anywhere inside it, ``typing.Any``."""
    if hint is Any:
        return True
    if isinstance(hint, list | tuple):
        return any(_holds_any(part) for part in hint)
    return any(_holds_any(part) for part in typing.get_args(hint))


def _signatures(module: types.ModuleType) -> dict[str, object]:
    """Every public callable and class of ``module``'s ``__all__``, with its public methods."""
    found: dict[str, object] = {}
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value):
            found[name] = value
            own = [cls for cls in value.__mro__ if cls.__module__.startswith("thoughtcredits")]
            members = {key: item for cls in reversed(own) for key, item in vars(cls).items()}
            for attribute, member in members.items():
                if attribute.startswith("_") and attribute not in ("__init__", "__call__"):
                    continue
                if isinstance(member, property):
                    member = member.fget
                if isinstance(member, staticmethod | classmethod):
                    member = member.__func__
                if inspect.isfunction(member):
                    found[f"{name}.{attribute}"] = member
        elif inspect.isfunction(value):
            found[name] = value
    return found


def _type_checking_names() -> dict[str, object]:
    """Names the package imports only for type checkers, where their package is installed."""
    found: dict[str, object] = {}
    for module_name, name in [("redis.asyncio", "Redis"), ("pyarrow", "pyarrow")]:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        found[name] = module if name == module_name else getattr(module, name)
    return found


_TYPE_CHECKING_NAMES = _type_checking_names()


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_no_public_signature_holds_any(module_name: str) -> None:
    """A public function, method or field never says ``Any``: a user's type checker can check
    every argument they pass and every value they get back."""
    module = load(module_name)
    names = {**vars(typing), **{name: getattr(tc, name) for name in tc.__all__}}
    names.update({name: getattr(module, name) for name in module.__all__})
    names.update(_TYPE_CHECKING_NAMES)
    holding = []
    for where, value in _signatures(module).items():
        hints = typing.get_type_hints(value, localns=names)
        holding += [f"{where}: {key}" for key, hint in hints.items() if _holds_any(hint)]
    assert holding == []
