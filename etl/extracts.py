"""The extract files checked before a load writes anything: complete, readable, as announced.

A load takes the rows it reads as what the source system knows, so a file that lost rows on the
way (a copy cut short, a partial export) would otherwise be loaded as if those people had lost
their data. Every file a load will read is scanned first (:func:`scan`), in one pass:

- an empty file (0 bytes), a row with more fields than the header, a header without the mapped
  columns (the message lists the columns found, the delimiter and encoding the file seems to
  have, and the closest names), a file most of whose non-ASCII lines do not decode in its
  encoding (a GBK export read as UTF-8: the message suggests the encoding it reads as), or an
  unreadable Parquet or JSON file fail the load, naming the file and the line;
- each CSV is read with its mapping's read options (delimiter, quote, encoding, header or
  ``names``, lines to skip: etl/mapping.ReadOptions); the scan also counts the lines with
  undecodable bytes (a few are rows to reject: the file is transcoded so that they reach
  validation as U+FFFD) and the rows shorter than the header (read padded with nulls);
- a CSV whose last row is cut (no final newline and fewer fields than the header, or a quoted
  field never closed) is corrupt: it fails the load, whatever the options;
- ``manifest.json`` in a system's folder, when present, vouches for its files: every listed file
  must exist and have the listed ``rows`` (data rows, header excluded) and ``sha256``;
- the rows of every file are kept, so the loader can refuse a file far shorter than its previous
  load (:func:`shrunk_files`; ``LOAD_SHRINK_TOLERANCE``, ``c360 load --allow-shrink``).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from etl.mapping import ReadOptions

MANIFEST = "manifest.json"
SHA256 = re.compile(r"[0-9a-f]{64}")
MIN_BAD_LINES = 3  # fewer undecodable lines are rows to reject, not a file in another encoding


class ExtractError(ValueError):
    """An extract file cannot be loaded as it is: the message names it and says what to do."""


@dataclass(frozen=True)
class Scan:
    name: str  # "<system>/<file>", as the rejects and the LoadRun name it
    rows: int  # data rows, header excluded
    columns: tuple[str, ...]
    sha256: str | None = None
    undecodable: int = 0  # lines with bytes that do not decode in the file's encoding
    short_rows: int = 0  # rows with fewer fields than the header


def ascii_compatible(encoding: str) -> bool:
    """Whether the encoding writes ASCII (newlines, delimiters, quotes) as ASCII bytes, so a file
    can be split into lines as bytes (not UTF-16 or UTF-32)."""
    probe = 'aZ09\n\r,;|\t"'
    return codecs.lookup(encoding).name == "utf-8-sig" or probe.encode(encoding) == probe.encode()


def guess_encoding(sample: bytes) -> str:
    """The encoding a file's first bytes most likely are in: a byte-order mark, else UTF-8 if
    they decode, else GB18030 when the non-ASCII bytes come in runs (two or more bytes per
    character, as in Chinese text) and Latin-1 when they stand alone (accented letters)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    high = [i for i, b in enumerate(sample) if b >= 0x80]
    alone = sum(
        1
        for i in high
        if (i == 0 or sample[i - 1] < 0x80) and (i + 1 >= len(sample) or sample[i + 1] < 0x80)
    )
    if 2 * alone > len(high):
        return "latin-1"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        return "latin-1"


def _suggestion(sample: bytes) -> str:
    guess = guess_encoding(sample)
    if guess == "gb18030":
        return (
            "it reads as GBK/GB18030: convert it with `iconv -f GB18030 -t UTF-8` or set "
            "`encoding: gb18030` in the mapping (under `read:`, or under `files:` for this file)"
        )
    if guess in ("utf-8", "utf-8-sig", "utf-16"):
        return f"it reads as {guess.upper()}: set `encoding: {guess}` in the mapping"
    return (
        f"it reads as {guess} (accented letters one byte each): set `encoding: {guess}` (or "
        "cp1252) in the mapping, or convert it with iconv"
    )


class _Decoder:
    """Decodes the lines of one file and keeps the evidence of a wrong encoding."""

    def __init__(self, name: str, encoding: str) -> None:
        self.name = name
        self.encoding = encoding
        self.non_ascii = 0
        self.bad = 0
        self.first_bad: tuple[int, int, int, bytes] | None = None  # byte, offset, line, line bytes

    def decode(self, raw: bytes, line: int, offset: int) -> str:
        if raw.isascii():
            return raw.decode("ascii")
        self.non_ascii += 1
        try:
            return raw.decode(self.encoding)
        except UnicodeDecodeError as exc:
            self.bad += 1
            if self.first_bad is None:
                self.first_bad = (raw[exc.start], offset + exc.start, line, raw)
            if line == 1:
                raise ExtractError(self._message("its header does not decode")) from None
            return raw.decode(self.encoding, "replace")

    def verdict(self) -> None:
        if self.bad >= MIN_BAD_LINES and 2 * self.bad > self.non_ascii:
            raise ExtractError(
                self._message(
                    f"{self.bad:,} of its {self.non_ascii:,} lines with non-ASCII bytes do not "
                    "decode"
                )
            )

    def _message(self, what: str) -> str:
        assert self.first_bad is not None
        byte, offset, line, raw = self.first_bad
        return (
            f"{self.name} is not {self.encoding.upper()}: {what} (the first: byte 0x{byte:02x} "
            f"at offset {offset}, line {line}); {_suggestion(raw)}"
        )


def _ends_inside_quotes(text: str, delimiter: str = ",", quote: str = '"') -> bool:
    """Whether CSV text ends inside a quoted field (the csv module's states, non-strict)."""
    start, plain, quoted, after_quote = range(4)
    state = start
    ends = (delimiter, "\r", "\n")
    for ch in text:
        if state == quoted:
            if ch == quote:
                state = after_quote
        elif state == after_quote and ch == quote:
            state = quoted  # a doubled quote inside a quoted field
        elif ch in ends:
            state = start
        elif state == start and quote and ch == quote:
            state = quoted
        else:
            state = plain
    return state == quoted


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def scan_csv(
    path: Path,
    name: str,
    *,
    encoding: str = "utf-8",
    digest: bool = False,
    options: ReadOptions | None = None,
) -> Scan:
    """Rows and header of a CSV extract, or an :class:`ExtractError` saying why it is unusable.
    ``options`` (delimiter, quote, header or names, lines to skip) default to a comma-separated
    file with a header; ``encoding`` is the options' when they are given."""
    opts = options or ReadOptions(encoding=encoding)
    if opts.delimiter is None:
        raise ValueError("scan_csv needs a delimiter: sniff it first (etl/sources.py)")
    if path.stat().st_size == 0:
        raise ExtractError(
            f"{name} is empty (0 bytes, not even a header): the export wrote nothing or the copy "
            "failed; re-export or re-copy it (a file without data rows still has its header)"
        )
    if ascii_compatible(opts.encoding):
        return _scan_lines(path, name, opts, digest)
    try:
        with open(path, encoding=opts.encoding, newline="") as f:
            found = _scan_records(f, name, opts, None)
    except UnicodeError as exc:
        with open(path, "rb") as raw:
            sample = raw.read(1 << 16)
        what = (
            f"byte 0x{exc.object[exc.start]:02x} does not decode"
            if isinstance(exc, UnicodeDecodeError)
            else str(exc)
        )
        raise ExtractError(
            f"{name} is not {opts.encoding.upper()}: {what}; {_suggestion(sample)}"
        ) from None
    return Scan(found.name, found.rows, found.columns, _file_sha256(path) if digest else None)


def _scan_lines(path: Path, name: str, opts: ReadOptions, digest: bool) -> Scan:
    """The scan of a file in an ASCII-compatible encoding: line by line as bytes, so that an
    undecodable line is named with its byte and offset."""
    sha = hashlib.sha256() if digest else None
    decoder = _Decoder(name, opts.encoding)

    def lines() -> Iterator[str]:
        offset = 0
        with open(path, "rb") as f:
            for number, raw in enumerate(f, 1):
                if sha is not None:
                    sha.update(raw)
                yield decoder.decode(raw, number, offset)
                offset += len(raw)

    found = _scan_records(lines(), name, opts, decoder)
    decoder.verdict()
    return Scan(
        found.name,
        found.rows,
        found.columns,
        sha.hexdigest() if sha else None,
        undecodable=decoder.bad,
        short_rows=found.short_rows,
    )


def _scan_records(
    source: Iterator[str] | IO[str], name: str, opts: ReadOptions, decoder: _Decoder | None
) -> Scan:
    assert opts.delimiter is not None
    record: list[str] = []  # the raw lines of the record being parsed
    skipped = 0

    def lines() -> Iterator[str]:
        nonlocal skipped
        for text in source:
            if skipped < opts.skip:
                skipped += 1
                continue
            record.append(text)
            yield text

    if opts.quote:
        reader = csv.reader(lines(), delimiter=opts.delimiter, quotechar=opts.quote)
    else:
        reader = csv.reader(lines(), delimiter=opts.delimiter, quoting=csv.QUOTE_NONE)
    if opts.header:
        header = next(reader, [])
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]  # a byte-order mark, which pandas drops as well
        record.clear()
    else:
        header = list(opts.names)
    if not header:
        raise ExtractError(f"{name} has no header line (after {opts.skip} skipped lines)")
    rows, short, last, last_text, last_line = 0, 0, header, "", opts.skip + 1
    for fields in reader:
        text = "".join(record)
        record.clear()
        if not fields:
            continue  # a blank line (pandas and DuckDB skip them too)
        rows += 1
        line = reader.line_num + opts.skip
        if len(fields) > len(header):
            what = "the header has" if opts.header else "`names:` gives"
            raise ExtractError(
                f"{name}, line {line}: {len(fields)} fields where {what} {len(header)} (a "
                f"delimiter or quote inside an unquoted value? read as {opts.describe()}); fix "
                "the export so that such values are quoted, or the mapping's read options"
            )
        short += len(fields) < len(header)
        last, last_text, last_line = fields, text, line
    tail = last_text or "".join(record)
    if rows and _ends_inside_quotes(tail, opts.delimiter, opts.quote):
        raise ExtractError(
            f"{name} is cut off: the quoted field of its last row (line {last_line}) is never "
            f"closed; the file was truncated ({rows:,} rows read): re-copy or re-export it"
        )
    if rows and not tail.endswith(("\n", "\r")) and len(last) < len(header):
        raise ExtractError(
            f"{name} is cut off: its last row (line {last_line}) has {len(last)} of the header's "
            f"{len(header)} fields and no final newline; the file was truncated ({rows:,} rows "
            "read): re-copy or re-export it"
        )
    return Scan(name, rows, tuple(header), short_rows=short)


def scan_parquet(path: Path, name: str, *, digest: bool = False) -> Scan:
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as exc:
        raise ExtractError(
            f"{name} is not a readable Parquet file ({exc}); a copy cut short loses the footer: "
            "re-copy or re-export it"
        ) from None
    return Scan(
        name, meta.num_rows, tuple(meta.schema.names), _file_sha256(path) if digest else None
    )


def scan_json(path: Path, name: str, *, digest: bool = False) -> Scan:
    """Rows and keys of a JSON extract (an array of objects or one object a line), read with
    DuckDB as the load will read it."""
    if path.stat().st_size == 0:
        raise ExtractError(f"{name} is empty (0 bytes): re-export or re-copy it")
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        reader = f"read_json_auto('{_literal(str(path))}')"
        columns = tuple(con.sql(f"SELECT * FROM {reader}").columns)  # noqa: S608
        rows = con.execute(f"SELECT count(*) FROM {reader}").fetchone()  # noqa: S608
    except duckdb.Error as exc:
        raise ExtractError(f"{name} is not a readable JSON file ({exc}); re-export it") from None
    finally:
        con.close()
    return Scan(name, int(rows[0]) if rows else 0, columns, _file_sha256(path) if digest else None)


def _literal(text: str) -> str:
    return text.replace("'", "''")


def scan(
    path: Path,
    name: str,
    *,
    encoding: str = "utf-8",
    digest: bool = False,
    options: ReadOptions | None = None,
) -> Scan:
    if path.suffix == ".parquet":
        return scan_parquet(path, name, digest=digest)
    if path.suffix in (".json", ".jsonl", ".ndjson"):
        return scan_json(path, name, digest=digest)
    return scan_csv(path, name, encoding=encoding, digest=digest, options=options)


def check_columns(
    found: Scan, mapped: list[str], *, diagnose: Callable[[], str] | None = None
) -> None:
    """Every column the mapping reads is in the file; else an error listing the columns found,
    the closest names, and what ``diagnose`` says of the file (its delimiter and encoding as
    sniffed: a mismatch there is the likely cause)."""
    missing = [c for c in mapped if c not in found.columns]
    if not missing:
        return
    close = [
        f"{c} ~ {match[0]}"
        for c in missing
        if (match := difflib.get_close_matches(c, found.columns, n=1, cutoff=0.6))
    ]
    said = (
        f"{found.name} lacks the columns its mapping reads: {', '.join(missing)} (its "
        f"{len(found.columns)} column(s): {', '.join(found.columns)})"
    )
    if close:
        said += f"; closest names: {', '.join(close)}"
    if diagnose is not None:
        said += f"; {diagnose()}"
    raise ExtractError(f"{said}; fix the export or the mapping's `columns`")


def read_manifest(folder: Path, system: str) -> dict[str, dict[str, Any]] | None:
    """``<folder>/manifest.json``: ``{"customers.csv": {"rows": 1000, "sha256": "…"}, …}``."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    where = f"{system}/{MANIFEST}"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExtractError(f"{where} is not valid JSON ({exc}); rewrite it") from None
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise ExtractError(
            f'{where} must map each file name to {{"rows": <data rows>, "sha256": "<hex>"}}'
        )
    for file, entry in doc.items():
        rows, sha = entry.get("rows"), entry.get("sha256")
        if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 0):
            raise ExtractError(f"{where}: rows of {file} must be a whole number, not {rows!r}")
        if sha is not None and not (isinstance(sha, str) and SHA256.fullmatch(sha.lower())):
            raise ExtractError(f"{where}: sha256 of {file} must be 64 hex digits")
    return doc


def check_manifest(folder: Path, system: str, manifest: dict, scans: dict[str, Scan]) -> None:
    """Every file the manifest lists exists and matches; ``scans`` by file name (the mapped ones)."""
    for file, entry in manifest.items():
        name = f"{system}/{file}"
        if not (folder / file).is_file():
            raise ExtractError(f"{name} is listed in {system}/{MANIFEST} but missing")
        found = scans.get(file)
        if found is None:
            continue  # not a file this load reads
        rows = entry.get("rows")
        if rows is not None and rows != found.rows:
            raise ExtractError(
                f"{name} has {found.rows:,} rows, {system}/{MANIFEST} says {rows:,}: the file is "
                "incomplete or not the one announced; re-copy it"
            )
        sha = entry.get("sha256")
        if sha is not None and sha.lower() != found.sha256:
            raise ExtractError(
                f"{name} has sha256 {found.sha256}, {system}/{MANIFEST} says {sha.lower()}: the "
                "file is damaged or not the one announced; re-copy it"
            )


def shrunk_files(
    scans: list[Scan], previous: dict[str, tuple[int, str]], tolerance: float
) -> list[str]:
    """One sentence per file with fewer than ``(1 - tolerance)`` × the rows of its previous load
    (``previous``: name -> (rows, run id))."""
    out = []
    for s in scans:
        if s.name not in previous:
            continue
        before, run_id = previous[s.name]
        if before and s.rows < before * (1 - tolerance):
            out.append(
                f"{s.name} has {s.rows:,} rows, its previous load (run {run_id}) had {before:,}: "
                f"{1 - s.rows / before:.0%} fewer"
            )
    return out
