"""The extract files checked before a load writes anything: complete, readable, as announced.

A load takes the rows it reads as what the source system knows, so a file that lost rows on the
way (a copy cut short, a partial export) would otherwise be loaded as if those people had lost
their data. Every file a load will read is scanned first (:func:`scan`), in one pass:

- an empty file (0 bytes), a row with more fields than the header, a header without the mapped
  columns, a file most of whose non-ASCII lines do not decode in its encoding (a GBK export read
  as UTF-8), or an unreadable Parquet file fail the load, naming the file and the line;
- a CSV whose last row is cut (no final newline and fewer fields than the header, or a quoted
  field never closed) is corrupt: it fails the load, whatever the options;
- ``manifest.json`` in a system's folder, when present, vouches for its files: every listed file
  must exist and have the listed ``rows`` (data rows, header excluded) and ``sha256``;
- the rows of every file are kept, so the loader can refuse a file far shorter than its previous
  load (:func:`shrunk_files`; ``LOAD_SHRINK_TOLERANCE``, ``c360 load --allow-shrink``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

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
        try:
            raw.decode("gb18030")
            guess = "it reads as GBK/GB18030: convert it with `iconv -f GB18030 -t UTF-8` or "
            guess += "set `encoding: gb18030` in the mapping"
        except UnicodeDecodeError:
            guess = "convert it with iconv, or set `encoding:` in the mapping to its encoding"
        return (
            f"{self.name} is not {self.encoding.upper()}: {what} (the first: byte 0x{byte:02x} "
            f"at offset {offset}, line {line}); {guess}"
        )


def _ends_inside_quotes(text: str) -> bool:
    """Whether CSV text ends inside a quoted field (the csv module's states, non-strict)."""
    start, plain, quoted, after_quote = range(4)
    state = start
    for ch in text:
        if state == quoted:
            if ch == '"':
                state = after_quote
        elif state == after_quote and ch == '"':
            state = quoted  # a doubled quote inside a quoted field
        elif ch in ",\r\n":
            state = start
        elif state == start and ch == '"':
            state = quoted
        else:
            state = plain
    return state == quoted


def scan_csv(path: Path, name: str, *, encoding: str = "utf-8", digest: bool = False) -> Scan:
    """Rows and header of a CSV extract, or an :class:`ExtractError` saying why it is unusable."""
    if path.stat().st_size == 0:
        raise ExtractError(
            f"{name} is empty (0 bytes, not even a header): the export wrote nothing or the copy "
            "failed; re-export or re-copy it (a file without data rows still has its header)"
        )
    sha = hashlib.sha256() if digest else None
    decoder = _Decoder(name, encoding)
    record: list[str] = []  # the raw lines of the record being parsed

    def lines() -> Iterator[str]:
        offset = 0
        with open(path, "rb") as f:
            for number, raw in enumerate(f, 1):
                if sha is not None:
                    sha.update(raw)
                record.append(decoder.decode(raw, number, offset))
                offset += len(raw)
                yield record[-1]

    reader = csv.reader(lines())
    header = next(reader)
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]  # a byte-order mark, which pandas drops as well
    record.clear()
    rows, last, last_text, last_line = 0, header, "", 1
    for fields in reader:
        text = "".join(record)
        record.clear()
        if not fields:
            continue  # a blank line (pandas skips them too)
        rows += 1
        if len(fields) > len(header):
            raise ExtractError(
                f"{name}, line {reader.line_num}: {len(fields)} fields where the header has "
                f"{len(header)} (a delimiter or quote inside an unquoted value?); fix the export "
                "so that such values are quoted"
            )
        last, last_text, last_line = fields, text, reader.line_num
    decoder.verdict()
    tail = last_text or "".join(record)
    if rows and _ends_inside_quotes(tail):
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
    return Scan(name, rows, tuple(header), sha.hexdigest() if sha else None)


def scan_parquet(path: Path, name: str, *, digest: bool = False) -> Scan:
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as exc:
        raise ExtractError(
            f"{name} is not a readable Parquet file ({exc}); a copy cut short loses the footer: "
            "re-copy or re-export it"
        ) from None
    sha = None
    if digest:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
        sha = h.hexdigest()
    return Scan(name, meta.num_rows, tuple(meta.schema.names), sha)


def scan(path: Path, name: str, *, encoding: str = "utf-8", digest: bool = False) -> Scan:
    if path.suffix == ".parquet":
        return scan_parquet(path, name, digest=digest)
    return scan_csv(path, name, encoding=encoding, digest=digest)


def check_columns(found: Scan, mapped: list[str]) -> None:
    missing = [c for c in mapped if c not in found.columns]
    if missing:
        raise ExtractError(
            f"{found.name} lacks the columns its mapping reads: {', '.join(missing)} (its header: "
            f"{', '.join(found.columns)}); fix the export or the mapping's `columns`"
        )


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
