"""The next extract of a bank, with about 1 % of its rows changed: what a delta load is measured
on (``make bench``'s delta phase, tests/test_delta_load.py).

pandas edits about 1 % of the rows of several files (a customer's e-mail, an account's balance,
a holding's end date, a membership's role, an interaction's summary, a CRM contact's address),
rows a reader of the CSV picks, not rows the generator planted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

# (file, column changed, how): what the next extract changes, in about 1 % of each file's rows
CHANGES = (
    ("core/customers.csv", "email", lambda v, i: f"changed{i}@example.org"),
    ("core/accounts.csv", "bal", lambda v, i: f"{1000 + i}.50"),
    ("core/holdings.csv", "end_dt", lambda v, i: "2026-06-30"),
    ("core/household_members.csv", "member_role", lambda v, i: "OTHER"),
    ("crm/interactions.csv", "summary", lambda v, i: f"changed summary {i}"),
    ("crm/customers.csv", "address", lambda v, i: f"{i} Changed Road"),
)
SHARE = 0.01


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding_errors="replace")


def change_rows(bank: Path, out: Path, share: float = SHARE, seed: int = 5) -> dict[str, int]:
    """A copy of ``bank`` with ``share`` of the rows of the files of :data:`CHANGES` changed;
    the rows changed per file. Every file is rewritten as pandas writes it (quoting may differ
    from the generator's: the rows' content does not)."""
    shutil.copytree(bank, out)
    changed = {}
    for name, column, new in CHANGES:
        frame = read_csv(out / name)
        rows = frame.sample(frac=share, random_state=seed).index
        frame.loc[rows, column] = [new(frame.at[i, column], i) for i in rows]
        frame.to_csv(out / name, index=False)
        changed[name] = len(rows)
    return changed
