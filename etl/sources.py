"""Reading extracts in chunks (CSV or Parquet): memory bounded by the chunk, not the file.

Every chunk is all text, indexed by the 1-based data row number in its file (the header is not
a row), so a reject names the row a person can find in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from etl.extracts import ExtractError

EXTENSIONS = (".csv", ".parquet")


def find_extract(directory: Path, system: str, name: str) -> Path | None:
    for ext in EXTENSIONS:
        path = directory / system / f"{name}{ext}"
        if path.exists():
            return path
    return None


def read_chunks(
    path: Path, rows: int, *, encoding: str = "utf-8", name: str | None = None
) -> Iterator[pd.DataFrame]:
    """The file's rows, ``rows`` at a time. A file the readers cannot parse raises an
    :class:`ExtractError` naming it (``name``, e.g. ``core/customers.csv``); etl/extracts.py
    catches these before a load starts, this is the safety net."""
    try:
        yield from _chunks(path, rows, encoding)
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeError,
        pa.ArrowException,
    ) as exc:
        raise ExtractError(
            f"{name or path} cannot be read ({type(exc).__name__}: {exc}); fix or re-export it"
        ) from exc


def _chunks(path: Path, rows: int, encoding: str) -> Iterator[pd.DataFrame]:
    start = 1
    if path.suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            frame = batch.to_pandas().astype(object)
            frame = frame.where(frame.notna(), None)
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame
        return
    reader = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        chunksize=rows,
        encoding=encoding,
        encoding_errors="replace",  # undecodable bytes become U+FFFD and the row is refused
    )
    with reader:
        for frame in reader:
            frame = frame.astype(object)
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame
