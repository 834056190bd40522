"""Chunked writers for the extracts: CSV (UTF-8, header once) or Parquet (one row group a chunk).

Every column is written as text, as source-system extracts are: types are the loader's business.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


class ExtractWriter:
    """Appends chunks of rows to one extract file and counts the data rows written."""

    def __init__(self, path: Path, columns: list[str], *, parquet: bool) -> None:
        self.path = path.with_suffix(".parquet" if parquet else ".csv")
        self.columns = columns
        self.parquet = parquet
        self.rows_written = 0
        self._csv: IO[str] | None = None
        self._pq: pq.ParquetWriter | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, rows: list[dict[str, Any]]) -> None:
        frame = pd.DataFrame(rows, columns=self.columns, dtype=object)
        frame = frame.where(frame.notna(), None)
        if self.parquet:
            table = pa.Table.from_pandas(
                frame.astype(object).map(lambda v: None if v is None else str(v)),
                schema=pa.schema([(c, pa.string()) for c in self.columns]),
                preserve_index=False,
            )
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, table.schema)
            self._pq.write_table(table)
        else:
            if self._csv is None:
                # surrogateescape lets a planted "broken encoding" row carry invalid UTF-8 bytes
                self._csv = open(self.path, "w", encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
                frame.iloc[0:0].to_csv(self._csv, index=False)
            frame.to_csv(self._csv, index=False, header=False)
        self.rows_written += len(frame)

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
        if self._pq is not None:
            self._pq.close()
        elif self.parquet and self.rows_written == 0:
            pq.write_table(
                pa.table({c: pa.array([], pa.string()) for c in self.columns}), self.path
            )
        elif not self.parquet and self._csv is None:
            self.path.write_text(",".join(self.columns) + "\n", encoding="utf-8")
