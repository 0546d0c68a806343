"""Parquet output: models streamed to row groups, so memory stays flat however long the listing.

A parquet file is readable only once closed, so an export writes closed segments (its
checkpoints) and merges them at the end, row group by row group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ..._serde.arrow import ArrowRows, require_pyarrow
from ..errors import OutputError, UsageError
from ..exports.files import ExportFile

__all__ = ["ROW_GROUP_ROWS", "ParquetWriter", "require_parquet"]

ROW_GROUP_ROWS = 65_536
"""Rows per row group."""
_BATCH_ROWS = 4_096
# Rows wait as Python objects only until a small record batch is full; a row group is then
# gathered from compact Arrow batches (about 200 bytes a row), not from millions of objects.


def require_parquet() -> None:
    """Refuse parquet output when pyarrow is missing: a usage error (exit 2) that names the
    extra, raised before anything is sent or written."""
    try:
        require_pyarrow()
    except ImportError as exc:
        raise UsageError(str(exc)) from None


class ParquetWriter:
    """Writes models of one class to an export as parquet segments, then merges them.

    Each segment is a closed parquet file (see :mod:`..exports.files`): :meth:`suspend` closes
    the current one, and the next :meth:`write` opens another. :meth:`close` merges every
    segment, in order, into one file with row groups of ``row_group_rows``.

    Args:
        export: the export whose segments are written.
        cls: the model class.
        extra: string columns to put first (e.g. ``creditAccountId``, ``actionType``).
        row_group_rows: rows per row group (default :data:`ROW_GROUP_ROWS`).

    Raises:
        ValueError: a resumed segment has other columns than this export writes.
    """

    def __init__(
        self,
        export: ExportFile,
        cls: type[Any],
        *,
        extra: Sequence[str] = (),
        row_group_rows: int | None = None,
    ) -> None:
        require_parquet()
        import pyarrow.parquet as pq

        self._export = export
        self._group_rows = row_group_rows or ROW_GROUP_ROWS
        self._rows = ArrowRows(cls, extra, batch_rows=min(_BATCH_ROWS, self._group_rows))
        self._batches: list[Any] = []
        self._pending = 0
        for part in export.parts:
            segment = export.target.with_name(part.file)
            if not pq.read_schema(segment).equals(self._rows.schema):
                raise ValueError(f"{segment} has other columns than this export writes")
        self._writer: Any = self._open(export.stream)
        export.merge = self._merge

    def _open(self, stream: IO[bytes]) -> Any:
        import pyarrow.parquet as pq

        return pq.ParquetWriter(stream, self._rows.schema, compression="zstd")

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
        if self._writer is None:
            self._writer = self._open(self._export.next_stream())
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

    def suspend(self) -> None:
        """Close the current segment (its rows, then its footer): it is a whole file now."""
        if self._writer is not None:
            self._write_group()
            self._writer.close()
            self._writer = None
            self._export.seal()

    def close(self) -> None:
        """Close the last segment and merge every segment into the export's final file."""
        self.suspend()
        files = [self._export.target.with_name(part.file) for part in self._export.parts]
        self._merge(files, self._export.next_stream())

    def _merge(self, files: Sequence[Path], stream: IO[bytes]) -> None:
        """The rows of ``files``, in order, as one parquet file in row groups of the size."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = self._open(stream)
        held: list[Any] = []
        rows = 0
        for file in files:
            for batch in pq.ParquetFile(file).iter_batches(batch_size=self._group_rows):
                held.append(batch)
                rows += batch.num_rows
                while rows >= self._group_rows:
                    table = pa.Table.from_batches(held, schema=self._rows.schema)
                    writer.write_table(table.slice(0, self._group_rows))
                    rest = table.slice(self._group_rows)
                    held, rows = rest.to_batches(), rest.num_rows
        if rows or not files:
            writer.write_table(pa.Table.from_batches(held, schema=self._rows.schema))
        writer.close()
