"""Parquet output: models streamed to row groups, so memory stays flat however long the listing.

A parquet file cannot be appended to once closed, so resuming an interrupted export copies the
row groups of ``FILE.partial`` into the new file one at a time, then goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ..._serde.arrow import ArrowRows, require_pyarrow
from ..errors import OutputError

__all__ = ["ROW_GROUP_ROWS", "ParquetWriter"]

ROW_GROUP_ROWS = 65_536
"""Rows per row group."""
_BATCH_ROWS = 4_096
# Rows wait as Python objects only until a small record batch is full; a row group is then
# gathered from compact Arrow batches (about 200 bytes a row), not from millions of objects.


class ParquetWriter:
    """Writes models of one class to a parquet file, one row group per ``row_group_rows``.

    Args:
        stream: the binary file to write.
        cls: the model class.
        extra: string columns to put first (e.g. ``creditAccountId``, ``actionType``).
        previous: a parquet file whose rows come first (the partial file being resumed).
        row_group_rows: rows per row group (default :data:`ROW_GROUP_ROWS`).
    """

    def __init__(
        self,
        stream: IO[bytes],
        cls: type[Any],
        *,
        extra: Sequence[str] = (),
        previous: Path | None = None,
        row_group_rows: int | None = None,
    ) -> None:
        require_pyarrow()  # a clear "install the parquet extra" when it is missing
        import pyarrow.parquet as pq

        self._group_rows = row_group_rows or ROW_GROUP_ROWS
        self._rows = ArrowRows(cls, extra, batch_rows=min(_BATCH_ROWS, self._group_rows))
        self._batches: list[Any] = []
        self._pending = 0
        self._writer = pq.ParquetWriter(stream, self._rows.schema, compression="zstd")
        if previous is not None:
            source = pq.ParquetFile(previous)
            if not source.schema_arrow.equals(self._rows.schema):
                raise ValueError(f"{previous} has other columns than this export writes")
            for index in range(source.num_row_groups):
                self._writer.write_table(source.read_row_group(index))

    def write(self, item: object, extra: Mapping[str, object] | None = None) -> None:
        """Add one model; a full row group is written out.

        Raises:
            OutputError: an amount does not fit the parquet column; nothing of the item is
                written, and what came before stays writable.
        """
        try:
            self._rows.add(item, extra)
        except ValueError as exc:
            raise OutputError(str(exc)) from None
        if self._rows.full:
            self._batches.append(self._rows.take())
            self._pending += self._batches[-1].num_rows
            if self._pending >= self._group_rows:
                self._write_group()

    def _write_group(self) -> None:
        if len(self._rows):
            self._batches.append(self._rows.take())
        if self._batches:
            import pyarrow as pa

            table = pa.Table.from_batches(self._batches, schema=self._rows.schema)
            self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self._batches, self._pending = [], 0

    def flush(self) -> None:
        """Nothing to do: rows are written a whole row group at a time."""

    def close(self) -> None:
        """Write the last row group and the footer (the file is then readable)."""
        if self._writer.is_open:
            self._write_group()
            self._writer.close()

    suspend = close
