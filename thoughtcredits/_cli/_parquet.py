"""Parquet output: models streamed to row groups, so memory stays flat however long the listing.

A parquet file cannot be appended to once closed, so resuming an interrupted export copies the
row groups of ``FILE.partial`` into the new file one at a time, then goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .._arrow import ArrowRows, require_pyarrow

__all__ = ["ROW_GROUP_ROWS", "ParquetWriter"]

ROW_GROUP_ROWS = 65_536
"""Rows per row group: about 10 MB of actions in memory at most."""


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

        self._rows = ArrowRows(cls, extra, batch_rows=row_group_rows or ROW_GROUP_ROWS)
        self._writer = pq.ParquetWriter(stream, self._rows.schema, compression="zstd")
        if previous is not None:
            source = pq.ParquetFile(previous)
            if not source.schema_arrow.equals(self._rows.schema):
                raise ValueError(f"{previous} has other columns than this export writes")
            for index in range(source.num_row_groups):
                self._writer.write_table(source.read_row_group(index))

    def write(self, item: object, extra: Mapping[str, object] | None = None) -> None:
        """Add one model; a full row group is written out."""
        self._rows.add(item, extra)
        if self._rows.full:
            self._writer.write_batch(self._rows.take())

    def flush(self) -> None:
        """Nothing to do: rows are written a whole row group at a time."""

    def close(self) -> None:
        """Write the last row group and the footer (the file is then readable)."""
        if len(self._rows):
            self._writer.write_batch(self._rows.take())
        self._writer.close()
