"""Reading extracts in chunks (CSV or Parquet): memory bounded by the chunk, not the file.

Every chunk is all text, indexed by the 1-based data row number in its file (the header is not
a row), so a reject names the row a person can find in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

EXTENSIONS = (".csv", ".parquet")


def find_extract(directory: Path, system: str, name: str) -> Path | None:
    for ext in EXTENSIONS:
        path = directory / system / f"{name}{ext}"
        if path.exists():
            return path
    return None


def count_rows(path: Path) -> int:
    """Data rows of an extract (for progress bars): Parquet metadata, or newlines of a CSV."""
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    lines = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            lines += block.count(b"\n")
    return max(0, lines - 1)


def read_chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
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
        encoding="utf-8",
        encoding_errors="replace",  # undecodable bytes become U+FFFD and the row is refused
    )
    with reader:
        for frame in reader:
            frame = frame.astype(object)
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame
