"""Arrow tables of SDK models, with exact decimals (``pip install 'thoughtcredits[parquet]'``).

Columns are the wire's camelCase names. Amounts are ``decimal128(38, 12)``: 12 decimal places
(the SDK's bound) and 26 integer digits, the widest decimal that polars, DuckDB, Snowflake and
BigQuery load as a number. pandas (through ``ArrowDtype``) and polars then read exact
decimals, not floats. An amount beyond 10**26 credits, which the SDK would accept, raises
``ValueError`` rather than being rounded. Timestamps are ``timestamp("us", tz="UTC")``; ids
and enum values are strings.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import AsyncIterable, Coroutine, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Union, overload
from uuid import UUID

import attrs

from .._models import attribute_names, camel

if TYPE_CHECKING:
    import pyarrow

__all__ = ["AMOUNT_TYPE", "ArrowRows", "arrow_schema", "require_pyarrow", "to_arrow"]

AMOUNT_PRECISION = 38
AMOUNT_SCALE = 12
AMOUNT_TYPE = (AMOUNT_PRECISION, AMOUNT_SCALE)
"""``decimal128`` precision and scale: 26 integer digits and 12 decimal places.

38 is decimal128's maximum; a wider decimal256 would fit the SDK's 30 integer digits but is
not loadable by polars or most warehouses.
"""

_INSTALL = "Arrow and parquet output need pyarrow: pip install 'thoughtcredits[parquet]'"


def require_pyarrow() -> Any:
    """Import pyarrow, or raise an ``ImportError`` that says which extra to install."""
    try:
        import pyarrow
    except ImportError:
        raise ImportError(_INSTALL) from None
    return pyarrow


def _unoptional(tp: Any) -> Any:
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _arrow_type(pa: Any, tp: Any) -> Any:
    tp = _unoptional(tp)
    origin = typing.get_origin(tp)
    if origin in (tuple, list):
        return pa.list_(_arrow_type(pa, typing.get_args(tp)[0]))
    if tp is Decimal:
        return pa.decimal128(AMOUNT_PRECISION, AMOUNT_SCALE)
    if tp is datetime:
        return pa.timestamp("us", tz="UTC")
    if tp is bool:
        return pa.bool_()
    if tp is int:
        return pa.int64()
    if isinstance(tp, type) and attrs.has(tp):
        return pa.struct([pa.field(name, typ) for name, typ in _fields(pa, tp)])
    # str, UUID and the open enums: text.
    return pa.string()


def _fields(pa: Any, cls: type[Any]) -> list[tuple[str, Any]]:
    hints = typing.get_type_hints(cls)
    return [(camel(field.name), _arrow_type(pa, hints[field.name])) for field in attrs.fields(cls)]


def arrow_schema(cls: type[Any], extra: Sequence[str] = ()) -> pyarrow.Schema:
    """The Arrow schema of model ``cls``; ``extra`` string columns come first."""
    pa = require_pyarrow()
    fields = [pa.field(name, pa.string()) for name in extra]
    fields += [pa.field(name, typ) for name, typ in _fields(pa, cls)]
    return pa.schema(fields)


def _value(value: object) -> object:
    if isinstance(value, UUID | enum.Enum):
        return str(value.value if isinstance(value, enum.Enum) else value)
    if isinstance(value, tuple | list):
        return [_value(item) for item in value]
    if attrs.has(type(value)):
        return {camel(name): _value(getattr(value, name)) for name in attribute_names(type(value))}
    return value


class ArrowRows:
    """Collects models column by column and hands them out as Arrow record batches.

    Args:
        cls: the model class of every item.
        extra: names of string columns to put first (given per item to :meth:`add`).
        batch_rows: how many rows a record batch (a parquet row group) holds.
    """

    def __init__(self, cls: type[Any], extra: Sequence[str] = (), batch_rows: int = 65_536):
        self.schema = arrow_schema(cls, extra)
        self._extra = tuple(extra)
        self._names = attribute_names(cls)
        hints = typing.get_type_hints(cls)
        self._amounts = tuple(n for n in self._names if _unoptional(hints[n]) is Decimal)
        self._columns: list[list[object]] = [[] for _ in self.schema]
        self._batch_rows = batch_rows

    def __len__(self) -> int:
        return len(self._columns[0])

    def add(self, item: object, extra: Mapping[str, object] | None = None) -> None:
        """Add one model (and its ``extra`` column values).

        Raises:
            ValueError: an amount does not fit ``decimal128(38, 12)``; nothing is added.
        """
        for name in self._amounts:
            _check_amount(item, name)
        columns = iter(self._columns)
        for name in self._extra:
            next(columns).append(None if extra is None else extra.get(name))
        for name, column in zip(self._names, columns, strict=True):
            column.append(_value(getattr(item, name)))

    @property
    def full(self) -> bool:
        """True when a whole record batch is waiting."""
        return len(self) >= self._batch_rows

    def take(self) -> pyarrow.RecordBatch:
        """The rows collected so far as one record batch; the collector is emptied."""
        pa = require_pyarrow()
        try:
            arrays = [
                pa.array(column, type=field.type)
                for column, field in zip(self._columns, self.schema, strict=True)
            ]
        except pa.ArrowInvalid as exc:
            raise ValueError(
                f"cannot store this listing in Arrow exactly: {exc} (amounts must have at "
                f"most {AMOUNT_PRECISION - AMOUNT_SCALE} integer digits)"
            ) from None
        self._columns = [[] for _ in self.schema]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


_INTEGER_DIGITS = AMOUNT_PRECISION - AMOUNT_SCALE


def _check_amount(item: object, name: str) -> None:
    value = getattr(item, name)
    if value is None:
        return
    if value.is_finite():
        if not value:
            return
        exponent = value.as_tuple().exponent
        if value.adjusted() < _INTEGER_DIGITS and (
            (isinstance(exponent, int) and exponent >= -AMOUNT_SCALE)
            or value == round(value, AMOUNT_SCALE)  # trailing zeros past the scale: exact
        ):
            return
        which = getattr(item, "id", None)
        raise ValueError(
            f"cannot store {camel(name)} {value} exactly as decimal128({AMOUNT_PRECISION}, "
            f"{AMOUNT_SCALE}): at most {_INTEGER_DIGITS} integer digits and {AMOUNT_SCALE} "
            f"decimal places" + (f" (item {which})" if which is not None else "")
        )


def _chunks(rows: ArrowRows, items: Iterable[object]) -> Iterator[pyarrow.RecordBatch]:
    for item in items:
        rows.add(item)
        if rows.full:
            yield rows.take()
    yield rows.take()


@overload
def to_arrow(items: Iterable[object], cls: type[object] | None = None) -> pyarrow.Table: ...


@overload
def to_arrow(
    items: AsyncIterable[object], cls: type[object] | None = None
) -> Coroutine[None, None, pyarrow.Table]: ...


def to_arrow(
    items: Iterable[object] | AsyncIterable[object], cls: type[object] | None = None
) -> pyarrow.Table | Coroutine[None, None, pyarrow.Table]:
    """SDK models as a ``pyarrow.Table`` with exact ``decimal128(38, 12)`` amounts.

    Needs ``pip install 'thoughtcredits[parquet]'``. Columns are the wire's camelCase names;
    timestamps are UTC. ``table.to_pandas(types_mapper=pd.ArrowDtype)`` or
    ``polars.from_arrow(table)`` keep the decimals exact.

    A listing (an :class:`~thoughtcredits.AsyncPaginator`, or any async iterable) is read
    to its end: ``await tc.to_arrow(client.credit_batches.list(client_id))``. Its rows are
    gathered into Arrow batches as they arrive, never as a list of models.

    >>> import thoughtcredits as tc
    >>> table = tc.to_arrow([], tc.CreditBatch)
    >>> str(table.schema.field("currentBalance").type)
    'decimal128(38, 12)'

    Args:
        items: models of one class (e.g. the batches of a listing), or an async listing of
            them (then the result is awaited).
        cls: the model class; needed only when ``items`` may be empty.

    Raises:
        ValueError: ``items`` is empty and ``cls`` is not given, the items are not models,
            or an amount does not fit ``decimal128(38, 12)``.
        ImportError: pyarrow is not installed (raised at once, also for a listing).
    """
    pa = require_pyarrow()
    if not isinstance(items, Iterable) and isinstance(items, AsyncIterable):
        return _to_arrow_async(pa, items, cls)
    iterator = iter(items)
    first = next(iterator, None)
    rows = ArrowRows(_model_class(first, cls))
    rest: Iterable[object] = iterator if first is None else _prepend(first, iterator)
    return pa.Table.from_batches(list(_chunks(rows, rest)), schema=rows.schema)


def _model_class(first: object, cls: type[Any] | None) -> type[Any]:
    if cls is None:
        if first is None:
            raise ValueError("to_arrow: no items; pass cls= to get an empty table")
        cls = type(first)
    if not attrs.has(cls):
        raise ValueError(f"to_arrow: expected SDK models, got {cls.__name__}")
    return cls


async def _to_arrow_async(
    pa: Any, items: AsyncIterable[object], cls: type[Any] | None
) -> pyarrow.Table:
    iterator = aiter(items)
    first = await anext(iterator, None)
    rows = ArrowRows(_model_class(first, cls))
    batches = []
    if first is not None:
        rows.add(first)
        async for item in iterator:
            rows.add(item)
            if rows.full:
                batches.append(rows.take())
    batches.append(rows.take())
    return pa.Table.from_batches(batches, schema=rows.schema)


def _prepend(first: object, rest: Iterator[object]) -> Iterator[object]:
    yield first
    yield from rest
