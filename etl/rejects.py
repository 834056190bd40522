"""The rejects files: ``<rejects_dir>/<entity>.csv`` with source file, row number, reason, row."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, Any

import pandas as pd

from etl.mapping import Errors
from etl.validation import first_reason

COLUMNS = ["source_file", "row_number", "reason_code", "reason", "row"]


class RejectsWriter:
    """Opens each entity's file on its first reject (truncating what an earlier attempt left)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._files: dict[str, tuple[IO[str], Any]] = {}
        self.by_reason: dict[str, int] = {}

    def write(self, entity: str, source_file: str, raw: pd.DataFrame, errors: Errors) -> None:
        if not errors:
            return
        if entity not in self._files:
            self.directory.mkdir(parents=True, exist_ok=True)
            f = open(self.directory / f"{entity}.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
            writer = csv.writer(f)
            writer.writerow(COLUMNS)
            self._files[entity] = (f, writer)
        writer = self._files[entity][1]
        for idx in sorted(errors):
            code, reason = first_reason(errors[idx])
            self.by_reason[code] = self.by_reason.get(code, 0) + 1
            row = {k: (None if v is None else str(v)) for k, v in raw.loc[idx].items()}
            writer.writerow([source_file, idx, code, reason, json.dumps(row, ensure_ascii=False)])

    def close(self) -> None:
        for f, _ in self._files.values():
            f.close()
        self._files.clear()
