"""The console's CSV export (console/src/csv.js) run by Node on cells an attacker or a messy extract
could hold: Python's csv module reads back every cell, no cell starts a formula Excel would run
(OWASP "CSV injection"), and plain numbers stay numbers."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

CONSOLE = Path(__file__).resolve().parent.parent / "console"

CELLS = [
    ['=HYPERLINK("http://evil.example","click")', "-43.6 %", "Zhang, San"],
    ["@SUM(A1:A9)", "+1", 'He said "hi"\nthen left'],
    ["-cmd|' /C calc'!A0", "1,234,567", "\t=1+1"],
    ["王小明", "−12.5", "+86 138 0013 8000"],
]


def test_csv_export_reads_back_and_never_starts_a_formula() -> None:
    node = shutil.which("node")
    assert node, "node is needed to build and test the console"
    script = (
        "import('./src/csv.js').then((m) => process.stdout.write(m.toCsv(JSON.parse("
        f"{json.dumps(json.dumps(CELLS))}))))"
    )
    out = subprocess.run(
        [node, "-e", script], cwd=CONSOLE, capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert out.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert len(rows) == len(CELLS)
    for written, shown in zip(rows, CELLS, strict=True):
        for cell, original in zip(written, shown, strict=True):
            assert cell.lstrip("'") == original  # nothing lost but the guard
            assert not cell.startswith(("=", "+", "@", "\t", "\r"))
            assert not cell.startswith("-") or cell == "-43.6 %"
    # numbers are left as numbers (a negative one too); a phone number is text, not a sum
    assert rows[0][1] == "-43.6 %" and rows[2][1] == "1,234,567" and rows[3][1] == "−12.5"
    assert rows[1][1] == "'+1" and rows[3][2] == "'+86 138 0013 8000"
