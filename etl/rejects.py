"""The rejects files: ``<rejects_dir>/<entity>.csv`` with source file, row number, reason, row;
and ``<rejects_dir>/warnings.csv`` (file, row, reason_code, message) for the rows loaded with a
value set aside (a customer's impossible birth date, nulled: etl/validation.py).

The writer also counts the rejects per source file and reason, so the loader can fail a load in
which every row of a source was refused, naming the top reasons."""

from __future__ import annotations

import csv
import json
import threading
from collections import Counter
from pathlib import Path
from typing import IO, Any

import pandas as pd

from etl.mapping import Errors
from etl.validation import first_reason

COLUMNS = ["source_file", "row_number", "reason_code", "reason", "row"]
WARNING_COLUMNS = ["file", "row", "reason_code", "message"]
WARNINGS = "warnings"  # the file's name, beside the entities' rejects


class RejectsWriter:
    """Opens each entity's file on its first reject (truncating what an earlier attempt left).
    Two threads of a load may write at once (etl/loader.py): a chunk's rows are written whole."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._files: dict[str, tuple[IO[str], Any]] = {}
        self.by_reason: dict[str, int] = {}
        self.warnings_by_reason: dict[str, int] = {}
        # (entity, source file) -> refused rows by reason, and the first refusal's reason
        self.by_source: dict[tuple[str, str], Counter[str]] = {}
        self.first_reason: dict[tuple[str, str], str] = {}

    def _writer(self, name: str, header: list[str]) -> Any:
        if name not in self._files:
            self.directory.mkdir(parents=True, exist_ok=True)
            f = open(self.directory / f"{name}.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
            writer = csv.writer(f)
            writer.writerow(header)
            self._files[name] = (f, writer)
        return self._files[name][1]

    def write(self, entity: str, source_file: str, raw: pd.DataFrame, errors: Errors) -> None:
        if not errors:
            return
        with self._lock:
            self._write(entity, source_file, raw, errors)

    def _write(self, entity: str, source_file: str, raw: pd.DataFrame, errors: Errors) -> None:
        writer = self._writer(entity, COLUMNS)
        tally = self.by_source.setdefault((entity, source_file), Counter())
        for idx in sorted(errors):
            code, reason = first_reason(errors[idx])
            self.by_reason[code] = self.by_reason.get(code, 0) + 1
            tally[code] += 1
            self.first_reason.setdefault((entity, source_file), f"row {idx}: {reason}")
            row = {k: (None if v is None else str(v)) for k, v in raw.loc[idx].items()}
            writer.writerow([source_file, idx, code, reason, json.dumps(row, ensure_ascii=False)])

    def warn(self, source_file: str, warnings: dict[int, Any]) -> None:
        """Rows loaded with a value set aside: ``{row: [(code, message), ...]}`` (one pair
        alone is taken too)."""
        if not warnings:
            return
        with self._lock:
            self._warn(source_file, warnings)

    def _warn(self, source_file: str, warnings: dict[int, Any]) -> None:
        writer = self._writer(WARNINGS, WARNING_COLUMNS)
        for idx in sorted(warnings):
            found = warnings[idx]
            pairs = [found] if isinstance(found, tuple) else list(found)
            for code, message in pairs:
                self.warnings_by_reason[code] = self.warnings_by_reason.get(code, 0) + 1
                writer.writerow([source_file, idx, code, message])

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        for f, _ in self._files.values():
            f.close()
        self._files.clear()
