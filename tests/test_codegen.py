"""The generated structure functions: readable source, a safe ``__init__`` bypass, and the
same verdict as the detailed converter (cattrs' own functions) on every input."""

from __future__ import annotations

import inspect
import io
import pickle
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thoughtcredits as tc
from thoughtcredits._models import camel
from thoughtcredits._serde import converter as _converter
from thoughtcredits._serde.converter import print_source, structure, structure_hook

MODELS = [tc.CreditBatch, tc.CreditAction, tc.CreditAccount, tc.Sublicense, tc.PageInfo]
ID = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


def test_source_is_inspectable_and_printable() -> None:
    """The generated function's source is in linecache; print_source prints exactly it."""
    function = structure_hook(tc.CreditAction)
    source = inspect.getsource(function)
    assert source.startswith("def structure_CreditAction(o, _):\n")
    assert "fill the slots directly" in source
    assert "a2b_hex" in source  # the own id is parsed inline
    out = io.StringIO()
    assert print_source(tc.CreditAction, file=out) == source
    assert out.getvalue() == source


def test_print_source_of_a_type_that_is_not_generated() -> None:
    """Asking for a non-model says so instead of printing something else."""
    out = io.StringIO()
    assert print_source(Decimal, file=out).startswith("# not generated")


def test_traceback_shows_the_generated_line() -> None:
    """A failure inside the generated function points at a readable line of it."""
    function = structure_hook(tc.Sublicense)
    with pytest.raises(KeyError) as caught:
        function({"deleted": True}, tc.Sublicense)
    assert "v = o['id']" in str(caught.traceback[-1].statement)


@attrs.frozen
class Plain:
    """No validator, converter or hook: built without ``__init__``."""

    id: UUID
    amount: Decimal
    note: str | None = None
    flag: bool = True


@attrs.frozen
class Validated:
    """A validator: ``__init__`` must run."""

    amount: Decimal = attrs.field(validator=attrs.validators.gt(Decimal(0)))


def upper(value: str) -> str:
    """A converter."""
    return value.upper()


@attrs.frozen
class Converted:
    """A converter: ``__init__`` must run."""

    name: str = attrs.field(converter=upper)


@attrs.frozen
class PostInit:
    """``__attrs_post_init__``: ``__init__`` must run."""

    name: str
    seen: list[str] = attrs.field(factory=list, init=False)

    def __attrs_post_init__(self) -> None:
        self.seen.append(self.name)


@attrs.define(slots=False)
class NotSlotted:
    """A dict class: ``__init__`` runs (there are no slots to fill)."""

    name: str


def test_plain_class_is_built_without_init_and_behaves_like_one_built_by_it() -> None:
    """Filled slots give an instance equal, hashable, picklable and evolvable as usual."""
    assert "fill the slots directly" in inspect.getsource(structure_hook(Plain))
    built = structure({"id": ID, "amount": 5}, Plain)
    expected = Plain(UUID(ID), Decimal(5))
    assert built == expected
    assert hash(built) == hash(expected)
    assert pickle.loads(pickle.dumps(built)) == expected  # noqa: S301 - our own bytes
    assert attrs.evolve(built, note="x") == Plain(UUID(ID), Decimal(5), "x")
    assert repr(built) == repr(expected)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.note = "y"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("cls", "data", "why"),
    [
        (Validated, {"amount": 5}, "validator"),
        (Converted, {"name": "abc"}, "converter"),
        (PostInit, {"name": "abc"}, "__attrs_post_init__"),
        (NotSlotted, {"name": "abc"}, "slots"),
    ],
)
def test_init_runs_when_it_does_more_than_store(cls: type[Any], data: Any, why: str) -> None:
    """The generator checks, when it writes the function, that bypassing would be the same."""
    source = inspect.getsource(structure_hook(cls))
    assert "built through __init__" in source
    assert why in source
    assert structure(data, cls) == cls(**data)


def test_init_path_runs_validators_and_hooks() -> None:
    """Through ``__init__``, validators refuse and post-init hooks run."""
    with pytest.raises(tc.ResponseValidationError):
        structure({"amount": -1}, Validated)
    assert structure({"name": "abc"}, Converted).name == "ABC"
    assert structure({"name": "abc"}, PostInit).seen == ["abc"]


# --- the fast and detailed converters agree on every input -------------------------------------

hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**18, -(10**18), 10**30, -(10**30), 10**30 - 1, 10**18 - 1, 2**64]),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [Decimal("1E+600000"), Decimal("1E-200000000"), Decimal("1.5000000000000000"),
         Decimal("0.1234567890123"), Decimal("0.123456789012"), Decimal("3.0"), Decimal("-0"),
         Decimal("1E+17"), Decimal("1E+18"), Decimal("sNaN")]
    ),
    st.text(max_size=40),
    st.sampled_from(
        ["0x" + ID[2:], "{" + ID[1:-1] + "}", ID.replace("-", ""), "urn:uuid:" + ID, ID.upper(),
         ID[:8] + "-" + ID[9:12] + "--" + ID[14:], "+" + ID[1:], ID[:-1] + "_", ID[:-1] + "g",
         ID[:-1] + "٠", "\ud800", "caf\xe9", "a\udc00b", "active", "archived", "client",
         "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000+05:30", "2024-01-01", "yesterday"]
    ),
    st.uuids().map(str),
    st.lists(st.sampled_from(["a@b.test", 1, None, "\ud800", {"id": ID, "deleted": True}])),
    st.just({"id": ID, "deleted": False}),
    st.dictionaries(st.sampled_from(["id", "deleted", "x"]), st.sampled_from([ID, True, 1])),
)  # fmt: skip


def wire_names(cls: type[Any]) -> list[str]:
    """The wire keys of ``cls``."""
    return [camel(a.name) for a in attrs.fields(cls)]


@st.composite
def bodies(draw: st.DrawFn) -> tuple[type[Any], Any]:
    """A model and a body for it: each field missing, valid-looking or hostile."""
    cls = draw(st.sampled_from(MODELS))
    body: dict[str, Any] = {}
    for key in wire_names(cls):
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue  # missing
        body[key] = draw(hostile)
    if draw(st.integers(0, 19)) == 0:
        return cls, draw(hostile)  # not an object at all
    return cls, body


def outcome(converter: Any, data: Any, cls: type[Any]) -> tuple[str, Any]:
    """("ok", model) or ("error", None)."""
    try:
        return "ok", converter.structure(data, cls)
    except Exception:  # any failure is a refusal; which one does not matter here
        return "error", None


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_fast_and_detailed_converters_agree(case: tuple[type[Any], Any]) -> None:
    """Both converters accept the same inputs, building equal models, and refuse the same."""
    cls, data = case
    fast = outcome(_converter._fast, data, cls)
    detailed = outcome(_converter._detailed, data, cls)
    assert fast == detailed
    if fast[0] == "ok":
        assert type(fast[1]) is cls


def valid_action() -> dict[str, Any]:
    """A valid credit action with every field present."""
    return {
        "id": ID, "client": ID, "action": "debit", "amount": 5, "timestamp": "2024-01-01T00:00Z",
        "updatedAt": "2024-01-01T00:00:00.000Z", "target": ID, "targetType": "user",
        "targetBalanceIn": Decimal("1.5"), "targetBalanceOut": 0, "initiator": ID.upper(),
        "initiatorType": "user", "creditAccountName": "Café", "source": ID,
        "sourceType": "creditBatch", "sourceBalanceIn": 10, "sourceBalanceOut": Decimal("5.0"),
    }  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(valid_action())), hostile)
def test_one_bad_field_of_a_valid_action(key: str, value: Any) -> None:
    """One field replaced in an otherwise valid action: the same verdict from both."""
    data = {**valid_action(), key: value}
    assert outcome(_converter._fast, data, tc.CreditAction) == outcome(
        _converter._detailed, data, tc.CreditAction
    )
