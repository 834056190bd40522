"""The stored fields of a Customer are declared once, in graph/model.CUSTOMER_FIELDS; these tests
fail when a part that must handle a declared field does not (a forgotten one would otherwise be a
field that is always null, silently). Pure: no graph.

Adding a stored field ``loyaltyPoints`` (property ``loyalty_points``) shown by the API takes
these edits, and leaving out any one of them fails a test here:

1. graph/model.py: ``CustomerField("loyalty_points", "int")`` in ``CUSTOMER_FIELDS``. The
   customers entity's columns and types, the fields the loader keeps, the golden record, the
   SourceRecord and the customer query's field list all follow from it.
2. etl/mappings/<system>.yaml: the system's column mapped to ``loyalty_points`` under
   ``customers`` (:func:`test_every_loaded_field_is_mapped_by_a_source_system`).
3. auth/policy.py: ``"loyalty_points"`` in ``CUSTOMER_FIELDS``, with its mask in the views that do
   not show it as stored (:func:`test_every_shown_field_has_an_access_policy_entry`).
4. schema/customers/customer.py: the field on the ``Customer`` type and its value in
   ``from_row`` (:func:`test_the_schema_type_reads_every_shown_field`), then ``c360
   export-schema`` to write schema/schema.graphql (:func:`test_the_sdl_has_every_shown_field`;
   tests/test_api_basics.py fails on an SDL that is not regenerated).

A field only jobs and lookups read is declared ``shown=False`` and needs edits 1 and 2 only; a
field the scoring job writes is declared ``written_by="scoring"`` and needs, instead of 2, its
value in scoring/job.score_row (:func:`test_the_scoring_job_writes_every_scored_field`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd

from auth import policy
from etl import loader, records
from etl.entities import CUSTOMER_COLUMNS, ENTITIES, LOAD_ORDER
from etl.identity import golden_records, load_identity_config
from etl.mapping import MAPPINGS_DIR, load_mapping
from graph import model
from graph.queries import customers as customer_queries
from schema.customers.customer import Customer
from scoring.config import load_config
from scoring.job import score_row
from scoring.rules import AccountFacts, CustomerFacts, score_customer

SDL = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"
LOADED = [f.name for f in model.LOADED_CUSTOMER_FIELDS]
SHOWN = set(model.SHOWN_CUSTOMER_FIELDS)
# Fields of the Customer type that are not stored fields of the node: its key, what is computed
# from a stored field, and the related parts (graph/queries/customers.PARTS).
NOT_STORED = {
    "id", "birth_year", "accounts", "household", "value", "risk", "recommendations",
    "interactions", "relationship_manager", "referred_by", "referrals", "source_records",
    "timeline", "satisfaction", "holdings", "household_membership", "relationship_manager_assignment",
    "referrer", "referred", "tier_history", "home_branch",
}  # fmt: skip
SAMPLE: dict[str, Any] = {
    "str": "x",
    "int": 7,
    "float": 1.5,
    "date": dt.date(1980, 1, 2),
    "datetime": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _source_record(source_id: str, updated_at: dt.datetime) -> dict[str, Any]:
    """A validated source customer with a value in every column."""
    values = {f.source_column: SAMPLE[f.type] for f in model.LOADED_CUSTOMER_FIELDS}
    return values | {
        "source_id": source_id,
        "national_id": "110101198001020011",
        "phone": "13812345678",
        "email": "x@example.com",
        "updated_at": updated_at,
    }


def _prepared() -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            _source_record("1", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
            _source_record("2", dt.datetime(2024, 2, 1, tzinfo=dt.UTC)),
        ],
        columns=list(CUSTOMER_COLUMNS),
    )
    return records.prepare_customers(frame, "core", "pepper")[loader.KEPT_CUSTOMER_COLUMNS]


def test_the_customers_entity_has_a_column_for_every_loaded_field():
    columns = set(ENTITIES["customers"].columns)
    assert {f.source_column for f in model.LOADED_CUSTOMER_FIELDS} <= columns


def test_every_loaded_field_is_mapped_by_a_source_system():
    mapped: set[str] = set()
    for path in sorted(MAPPINGS_DIR.glob("*.yaml")):
        if path.stem == "identity":
            continue
        customers = load_mapping(path.stem).entities.get("customers")
        mapped |= set(customers.columns.values()) if customers else set()
    # a column with a default in the entity (the national ID's type and country) is set on
    # every customer with an ID even where no mapping names it (etl/records.prepare_customers)
    defaulted = set(ENTITIES["customers"].defaults)
    unmapped = {f.source_column for f in model.LOADED_CUSTOMER_FIELDS} - mapped - defaulted
    assert not unmapped, f"no etl/mappings/*.yaml maps a customers column to {unmapped}"


def test_every_loaded_field_is_kept_by_the_loader_and_on_the_source_record():
    prepared = _prepared()
    assert set(LOADED) <= set(loader.KEPT_CUSTOMER_COLUMNS)
    missing = [name for name in LOADED if prepared[name].isna().any()]
    assert not missing, f"prepare_customers leaves {missing} empty"
    # a later load reads a customer's records back from the SourceRecords (survivorship across
    # loads), so each loaded field must be stored there too
    [row] = records.source_record_rows(
        prepared.iloc[:1], ["C-1"], [("SINGLETON", 1.0)], dt.datetime.now(dt.UTC), [False]
    )
    assert set(LOADED) <= set(row["props"])


def test_every_loaded_field_reaches_the_golden_record():
    """Survivorship chooses each ``golden`` field; a field declared not golden is computed by
    identity resolution otherwise (``updated_at``: the latest of the records)."""
    not_golden = {f.name for f in model.LOADED_CUSTOMER_FIELDS if not f.golden}
    assert not_golden == {"updated_at"}, "etl/identity.golden_records computes only updated_at"
    prepared = _prepared().assign(customer_id="C-1")
    golden = golden_records(prepared, load_identity_config())
    [row] = records.customer_rows(golden)
    # besides the fields: the content hash a delta load compares (etl/delta.py)
    assert set(row) == {"customer_id", "content_hash", *LOADED}
    empty = [name for name in LOADED if row[name] is None]
    assert not empty, f"the golden record leaves {empty} empty"


def test_the_customer_query_returns_every_shown_field():
    fields = customer_queries._CUSTOMER_FIELDS
    assert set(fields) == {*model.CUSTOMER.key, *SHOWN}
    text = customer_queries.row(frozenset())
    assert all(f".{name}" in text for name in fields)


def _sdl_customer_fields() -> set[str]:
    text = SDL.read_text(encoding="utf-8")
    body = re.search(r"^type Customer \{\n(.*?)^\}", text, re.M | re.S)
    assert body, "schema/schema.graphql has no type Customer"
    return set(re.findall(r"^  (\w+)[(:]", body.group(1), re.M))


def test_the_sdl_has_every_shown_field():
    """Both ways: a field of the type that is not a stored one is named in NOT_STORED."""
    stored_in_sdl = _sdl_customer_fields() - {_camel(n) for n in NOT_STORED}
    shown = {_camel(n) for n in SHOWN}
    assert not shown - stored_in_sdl, f"type Customer lacks {shown - stored_in_sdl}"
    assert not stored_in_sdl - shown, f"not declared in graph/model.py: {stored_in_sdl - shown}"


def test_every_shown_field_has_an_access_policy_entry():
    named = set(policy.CUSTOMER_FIELDS) - NOT_STORED
    assert not SHOWN - named, f"auth/policy.CUSTOMER_FIELDS lacks {SHOWN - named}"
    assert not named - SHOWN, f"not declared in graph/model.py: {named - SHOWN}"
    for view, treatments in policy.VIEWS.items():
        assert set(treatments) >= SHOWN, view


class _Recording(dict[str, Any]):
    """A row that notes which keys are read."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


def test_the_schema_type_reads_every_shown_field():
    row = _Recording({"customer_id": "C-1"})
    Customer.from_row(row)
    assert row.read >= SHOWN, f"Customer.from_row never reads {SHOWN - row.read}"


def test_the_scoring_job_writes_every_scored_field():
    scored = {f.name for f in model.CUSTOMER_FIELDS if f.written_by == "scoring"}
    as_of = dt.date(2024, 6, 30)
    facts = CustomerFacts(
        "C-1", as_of, accounts=(AccountFacts(product_type="SAVINGS", balance=1000.0),)
    )
    score = score_customer(facts, load_config())
    out = score_row(
        score, as_of=as_of, stored_tier=None, pagerank=0.0, scored_at=dt.datetime.now(dt.UTC)
    )
    assert scored <= set(out["props"])
    assert not scored & {f.name for f in model.LOADED_CUSTOMER_FIELDS}


# -- the entity registry --------------------------------------------------------------------


def test_every_entity_is_written_by_an_upsert_on_its_node():
    for name, entity in ENTITIES.items():
        if name == "customers":  # golden records and source records (etl/loader.py)
            assert entity.upsert is None
            continue
        assert entity.upsert is not None, name
        node = entity.upsert.node
        if node is None:
            continue  # relationships between nodes loaded before
        assert entity.key == node.key, name
        assert node in model.NODES, f"{node.label} has no uniqueness constraint"
        merge = ", ".join(f"{k}: row.{k}" for k in node.key)
        assert f":{node.label} {{{merge}}})" in entity.upsert.query, name


def test_an_entity_loads_after_what_it_refers_to():
    assert tuple(ENTITIES) == LOAD_ORDER
    for position, name in enumerate(LOAD_ORDER):
        for target in ENTITIES[name].refs.values():
            assert LOAD_ORDER.index(target) < position, (name, target)


def test_the_referenced_entities_have_a_key_lookup():
    targets = {t for e in ENTITIES.values() for t in e.refs.values()} - {"customers"}
    assert set(loader.REF_TARGETS) == targets
