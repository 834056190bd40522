"""Extract files on disk: which files a system's folder holds, how a CSV is sniffed and how a file
in an encoding DuckDB cannot read becomes UTF-8.

- :func:`extract_files`: every extract of a system folder (CSV/TSV, Parquet, JSON), by the name
  its view gets (the file name without extension).
- :func:`sniff`: DuckDB's ``sniff_csv`` on a UTF-8 sample of the file (the sample is decoded
  with the file's encoding first, so a GB18030 or UTF-16 file is sniffed as well): the
  delimiter, quote, header and columns DuckDB finds. Used for ``delimiter: auto`` and to say
  why a file's columns are not the mapped ones.
- :func:`transcode`: a streaming copy of a file into UTF-8 with Python's codecs (undecodable
  bytes become U+FFFD, which validation refuses as ``broken_encoding``), for GBK/GB18030 and
  every encoding DuckDB's CSV reader does not know without its downloadable extension.
- :func:`read_chunks`: the pandas reader the loader used before etl/engine.py (kept for tools
  and tests that read one file without a mapping).

Every chunk of :func:`read_chunks` is all text, indexed by the 1-based data row number in its
file (the header is not a row), so a reject names the row a person can find in the file.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from etl.extracts import ExtractError, guess_encoding
from etl.mapping import ReadOptions

EXTENSIONS = (".csv", ".parquet")  # find_extract's order, as before
TEXT_EXTENSIONS = (".csv",)
EXTRACT_EXTENSIONS = (*TEXT_EXTENSIONS, ".parquet", ".json", ".jsonl", ".ndjson")
# what DuckDB's CSV reader decodes itself (codecs' names -> DuckDB's)
NATIVE_ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "iso8859-1": "latin-1"}
SAMPLE_BYTES = 1 << 18
BLOCK = 1 << 20


def find_extract(directory: Path, system: str, name: str) -> Path | None:
    for ext in EXTENSIONS:
        path = directory / system / f"{name}{ext}"
        if path.exists():
            return path
    return None


def extract_files(folder: Path) -> dict[str, Path]:
    """The extract files of a system folder by view name; of two files with one name (a CSV and
    its Parquet copy) the first in :data:`EXTRACT_EXTENSIONS` order."""
    found: dict[str, Path] = {}
    for ext in EXTRACT_EXTENSIONS:
        for path in sorted(folder.glob(f"*{ext}")):
            if path.is_file():
                found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def is_text(path: Path) -> bool:
    return path.suffix in TEXT_EXTENSIONS


def duckdb_encoding(encoding: str) -> str | None:
    """DuckDB's name of an encoding its CSV reader decodes itself, or None (transcode first)."""
    return NATIVE_ENCODINGS.get(codecs.lookup(encoding).name)


def transcode(source: Path, target: Path, encoding: str) -> None:
    """Copy ``source`` (in ``encoding``) to ``target`` in UTF-8, a block at a time."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with open(source, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        while block := src.read(BLOCK):
            dst.write(decoder.decode(block))
        dst.write(decoder.decode(b"", final=True))


def head(path: Path, size: int = SAMPLE_BYTES) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def utf8_sample(path: Path, encoding: str, size: int = SAMPLE_BYTES) -> str:
    """The first whole lines of a file (about ``size`` bytes), decoded."""
    raw = head(path, size)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(raw, final=False)
    if len(raw) == size and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


@dataclass(frozen=True)
class Sniffed:
    delimiter: str
    quote: str
    header: bool
    columns: tuple[str, ...]


def sniff(
    con: duckdb.DuckDBPyConnection, path: Path, encoding: str, skip: int, workdir: Path
) -> Sniffed:
    """DuckDB's reading of the file's first lines (decoded with ``encoding``)."""
    sample = workdir / f"sniff-{path.stem}.csv"
    sample.write_text(utf8_sample(path, encoding), encoding="utf-8")
    try:
        row = con.execute(
            "SELECT Delimiter, Quote, HasHeader, Columns FROM sniff_csv(?, skip = ?)",
            [str(sample), skip],
        ).fetchone()
    except duckdb.Error as exc:
        raise ExtractError(f"{path.name}: DuckDB cannot sniff it ({_first_line(exc)})") from None
    finally:
        sample.unlink(missing_ok=True)
    assert row is not None
    return Sniffed(row[0], row[1] or "", bool(row[2]), tuple(c["name"] for c in row[3]))


def diagnose(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    opts: ReadOptions,
    mapped: list[str],
    workdir: Path,
    where: str,
) -> str:
    """Why a file's columns may not be the mapped ones: how it was read, how DuckDB's sniffer
    reads it and which encoding its bytes suggest; the likely cause when one stands out."""
    guessed = guess_encoding(head(path))
    encoding = opts.encoding
    try:
        codecs.getincrementaldecoder(encoding)().decode(head(path), final=False)
    except UnicodeDecodeError:
        encoding = guessed
    said = f"read as {opts.describe()}"
    try:
        s = sniff(con, path, encoding, opts.skip, workdir)
    except ExtractError as exc:
        return f"{said}; {exc}"
    said += (
        f"; DuckDB's sniffer reads it with delimiter {s.delimiter!r} into {len(s.columns)} "
        f"column(s) ({', '.join(s.columns[:12])}{', …' if len(s.columns) > 12 else ''}); its "
        f"bytes look like {guessed}"
    )
    hits = sum(c in s.columns for c in mapped)
    if s.delimiter != opts.delimiter and hits:
        said += (
            f". The delimiter is the likely cause: the file is {s.delimiter!r}-separated "
            f"({hits} of the {len(mapped)} mapped columns found so); declare it: "
            f"`read: {{delimiter: {s.delimiter!r}}}` (or under `files: {{{where}: ...}}`)"
        )
    elif codecs.lookup(guessed).name != codecs.lookup(opts.encoding).name:
        said += f". The encoding may be the cause: set `encoding: {guessed}` for {where}"
    return said


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


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
