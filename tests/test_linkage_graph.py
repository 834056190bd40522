"""Identity resolution across loads, against the real Neo4j: a system loaded in a later run links
to the golden records of the first run (with its evidence on the link) but never to a customer
one of whose records has another resident ID, uncertain pairs become the review queue, and a
pair a steward kept apart (NOT_SAME_AS) stays apart on a re-load.

The extracts are written here, shaped as the core, card and CRM systems' files (not by our
generator); a few records use the model shipped in etl/mappings/er-model.json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from neo4j import Driver

from core.settings import Settings
from etl.mapping import MAPPINGS_DIR, load_mapping
from graph import session
from graph.queries import identity as iq
from tests.etl_support import load, reset

pytestmark = pytest.mark.graph

LINK = """
MATCH (s:SourceRecord {system: $system, source_id: $id})-[r:RESOLVED_TO]->(c:Customer)
RETURN c.customer_id AS customer_id, r.rule AS rule, r.confidence AS confidence,
       r.match_weight AS match_weight, r.comparisons_json AS comparisons_json
"""
REVIEWS = """
MATCH (r:IdentityReview)-[:CANDIDATE]->(s:SourceRecord)
RETURN r.review_id AS review_id, r.status AS status, r.probability AS probability,
       collect(s.system + '/' + s.source_id) AS records
"""
IDS_PER_CUSTOMER = """
MATCH (s:SourceRecord)-[:RESOLVED_TO]->(c:Customer) WHERE s.national_id_hash IS NOT NULL
RETURN c.customer_id AS customer_id, count(DISTINCT s.national_id_hash) AS ids
"""
CORE = [  # cust_no, name, gender, birth, id, mobile, email, address
    ("CIF001", "陈伟", "男", "1980-05-17", "", "13812345678", "chenwei@163.com", "上海市徐汇区漕溪北路1号"),
    ("CIF002", "李娜", "女", "1975-11-02", "", "13987654321", "lina@qq.com", "北京市海淀区中关村大街5号"),
    ("CIF003", "王强", "男", "1990-01-30", "", "13700001111", "", "广州市天河区体育西路8号"),
]  # fmt: skip
CARD = [  # card_cust_id, holder_name, sex, dob, cert, phone, email, address
    ("K001", "CHEN WEI", "1", "19800517", "", "+86 138-1234-5678", "", "上海市徐汇区漕溪北路1号"),
    ("K002", "LI NA", "2", "19751102", "", "139 8765 4321", "lina@qq.com", ""),
    ("K009", "赵六", "1", "19661212", "", "13611112222", "", "成都市锦江区春熙路3号"),
]  # fmt: skip


def write_system(folder: Path, system: str, rows: Sequence[tuple[str, ...]]) -> None:
    """The system's customers file with its mapping's source columns (others empty)."""
    em = load_mapping(system).entities["customers"]
    columns = list(em.columns)
    frame = pd.DataFrame([dict(zip(columns, row, strict=False)) for row in rows], columns=columns)
    updated = {"core": "last_upd", "card": "upd_time", "crm": "modified"}[system]
    frame[updated] = {"core": "2026-01-02 08:00:00", "card": "20260102080000"}.get(
        system, "02/01/2026 08:00"
    )
    (folder / system).mkdir(parents=True, exist_ok=True)
    frame.fillna("").to_csv(folder / system / f"{em.file}.csv", index=False)
    for other in load_mapping(system).entities.values():  # the system's other files, empty
        path = folder / system / f"{other.file}.csv"
        if not path.exists():
            path.write_text(",".join(other.columns) + "\n", encoding="utf-8")


@pytest.fixture
def own(settings: Settings, tmp_path: Path) -> Settings:
    """The test server, with a data folder of its own: no saved model, so these few records
    resolve with the model shipped in etl/mappings/er-model.json."""
    return settings.model_copy(update={"c360_home": tmp_path / "home"})


def link(driver: Driver, settings: Settings, system: str, source_id: str) -> dict:
    [row] = session.rows(driver, settings.neo4j_database, LINK, system=system, id=source_id)
    return row


def test_a_system_loaded_in_a_later_run_links_to_the_first_runs_customers(
    driver: Driver, own: Settings, tmp_path: Path
) -> None:
    settings = own
    reset(driver, settings)
    write_system(tmp_path / "day1", "core", CORE)
    load(driver, settings, tmp_path / "day1")
    write_system(tmp_path / "day2", "card", list(CARD))
    load(driver, settings, tmp_path / "day2")
    chen, card_chen = (
        link(driver, settings, "core", "CIF001"),
        link(driver, settings, "card", "K001"),
    )
    assert card_chen["customer_id"] == chen["customer_id"] == "C-CIF001"
    assert card_chen["rule"] == "PROBABILISTIC" and card_chen["confidence"] >= 0.99
    evidence = {c["name"]: c for c in json.loads(card_chen["comparisons_json"])}
    assert evidence["family_name"]["level"] == "same name"  # CHEN = 陈 in pinyin
    assert evidence["birth_date"]["level"] == "same date" and evidence["phone"]["weight"] > 0
    assert card_chen["match_weight"] > 10
    assert link(driver, settings, "card", "K002")["customer_id"] == "C-CIF002"
    assert link(driver, settings, "card", "K009")["customer_id"] == "C-card-K009"
    # the first run's records keep their customers and their links
    assert link(driver, settings, "core", "CIF001")["rule"] == "SINGLETON"


def test_a_pair_a_steward_kept_apart_is_not_merged_by_a_reload(
    driver: Driver, own: Settings, tmp_path: Path
) -> None:
    settings = own
    reset(driver, settings)
    folder = tmp_path / "bank"
    write_system(folder, "core", CORE[:1])
    write_system(folder, "card", CARD[:1])
    load(driver, settings, folder)
    assert link(driver, settings, "card", "K001")["customer_id"] == "C-CIF001"
    # a steward splits them: the card record on its own customer, NOT_SAME_AS between them
    db = settings.neo4j_database
    session.run(driver, db, "CREATE (:Customer {customer_id: 'C-card-K001', name: 'CHEN WEI'})")
    session.run(
        driver,
        db,
        iq.PLACE_RECORDS,
        rows=[{"system": "card", "source_id": "K001", "customer_id": "C-card-K001"}],
        by="steward",
        at=None,
        review_id=None,
        event_id="test-event",
    )
    session.run(
        driver,
        db,
        iq.WRITE_NOT_SAME_AS,
        rows=[{"a": ["card", "K001"], "b": ["core", "CIF001"], "review_id": None}],
        by="steward",
        at=None,
        reason="two people",
        event_id="test-event",
    )
    # the same extracts again, and a third system whose record matches both
    write_system(folder, "crm", [("CRM7", "陈伟", "M", "17/05/1980", "", "13812345678")])
    load(driver, settings, folder)
    core, card = link(driver, settings, "core", "CIF001"), link(driver, settings, "card", "K001")
    assert core["customer_id"] == "C-CIF001" and card["customer_id"] == "C-card-K001"
    assert link(driver, settings, "crm", "CRM7")["customer_id"] in ("C-CIF001", "C-card-K001")
    # the CRM record's pair with the customer it did not join is for a steward to decide
    reviews = session.rows(driver, db, REVIEWS)
    assert reviews and all(r["status"] == "OPEN" for r in reviews)
    assert any("crm/CRM7" in r["records"] for r in reviews)
    assert not any(set(r["records"]) == {"core/CIF001", "card/K001"} for r in reviews)


def test_a_resumed_load_scores_the_pairs_its_killed_attempt_wrote_like_a_clean_load(
    driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    """A resume reads back the records its killed attempt already wrote: they must be resolved
    again as this run's own (not taken as earlier loads' records, which are never re-scored), so
    the review pairs, er_review.csv and the graph are those of a clean load."""
    from synthetic import GenerateOptions, generate_bank

    folder = tmp_path / "bank"
    generate_bank(GenerateOptions(customers=400, seed=23, out=folder))
    # a strict link threshold, so that this small bank has review pairs whatever model it uses
    strict = tmp_path / "identity.yaml"
    strict.write_text(
        (MAPPINGS_DIR / "identity.yaml")
        .read_text(encoding="utf-8")
        .replace("  link: 0.9 ", "  link: 0.999 "),
        encoding="utf-8",
    )
    assert "link: 0.999" in strict.read_text(encoding="utf-8")
    reset(driver, settings)
    clean = load(driver, settings, folder, rejects_dir=tmp_path / "clean", identity_config=strict)
    assert clean.review > 0  # the check needs pairs to lose
    # the run as a crash leaves it: resumable, every batch written
    session.run(
        driver,
        settings.neo4j_database,
        "MATCH (r:LoadRun {run_id: $id}) SET r.status = 'FAILED'",
        id=clean.run_id,
    )
    resumed = load(
        driver, settings, folder, rejects_dir=tmp_path / "resumed", identity_config=strict
    )
    assert resumed.resumed and resumed.run_id == clean.run_id
    assert resumed.review == clean.review
    assert (tmp_path / "resumed" / "er_review.csv").read_text(encoding="utf-8") == (
        tmp_path / "clean" / "er_review.csv"
    ).read_text(encoding="utf-8")


def test_a_first_load_whose_records_cannot_train_em_falls_back_to_the_shipped_model(
    driver: Driver, own: Settings, tmp_path: Path
) -> None:
    """A bank's first load of 1,000+ records trains the model; records with placeholder names
    (the Czech bank's "Client N") leave an EM block without a single pair. The load must not
    fail on it: the shipped model resolves them, and nothing is saved as trained."""
    rows = [
        (
            f"CIF{i:05d}",
            f"Client {i}",
            "男",
            f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}",
            "",
            "",
            "",
            "",
        )
        for i in range(1200)
    ]
    folder = tmp_path / "bank"
    write_system(folder, "core", rows)
    reset(driver, own)
    result = load(driver, own, folder)
    assert result.status == "SUCCEEDED", result.error
    assert result.counts["customers"].loaded == len(rows)
    assert not list(own.c360_home.rglob("er-model*.json"))  # no half-trained model kept


def test_er_train_reads_a_folder_as_a_load_does_sql_form_systems_included(
    settings: Settings, tmp_path: Path
) -> None:
    """`c360 er-train DIR` through the mapping engine: the legacy system (SQL form, semicolons,
    GB18030) counts, the model is saved and its weights printed."""
    import subprocess

    from synthetic import GenerateOptions, generate_bank
    from tests.etl_support import c360, cli_env

    folder = tmp_path / "bank"
    generate_bank(GenerateOptions(customers=500, seed=31, out=folder, legacy=True))
    clients = len((folder / "legacy" / "client.csv").read_text(encoding="gb18030").splitlines())
    out = tmp_path / "model.json"
    done = subprocess.run(
        c360("er-train", str(folder), "--out", str(out)),
        env=cli_env(settings, tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    counts = {
        line.split(":")[0]: int(line.split(":")[1].split()[0].replace(",", ""))
        for line in (done.stdout + done.stderr).splitlines()
        if line.endswith("records so far")
    }
    assert counts["legacy"] - counts["crm"] >= (clients - 1) * 0.95  # the header is not a client
    assert json.loads(out.read_text(encoding="utf-8"))
    assert "birth_date" in done.stdout + done.stderr  # the weights per comparison level


def test_a_later_load_meets_the_ids_of_all_the_records_of_a_known_customer(
    driver: Driver, own: Settings, tmp_path: Path
) -> None:
    """Day 1: the core record of 陈伟 (resident ID A) and his card record (no ID) become one
    customer; so do 李娜's. Day 2: a CRM record matching his card record on every field but
    with resident ID B must not join him, though its only links in the graph are to the card
    record (the core record's ID is not on the pair); a CRM record of 李娜 without an ID joins
    hers."""
    from tests.steward_bank import resident_id

    settings = own
    reset(driver, settings)
    id_a, id_b = resident_id("31011519800517003"), resident_id("31011519800517011")
    id_li = resident_id("11010819751102002")
    core = [
        ("CIF101", "陈伟", "男", "1980-05-17", id_a, "13812345678", "", "上海市徐汇区漕溪北路1号"),
        ("CIF102", "李娜", "女", "1975-11-02", id_li, "13987654321", "", "北京市海淀区中关村大街5号"),
    ]  # fmt: skip
    card = [
        ("K101", "CHEN WEI", "1", "19800517", "", "13812345678", "chenwei@163.com", "上海市徐汇区漕溪北路1号"),
        ("K102", "LI NA", "2", "19751102", "", "13987654321", "lina@qq.com", "北京市海淀区中关村大街5号"),
    ]  # fmt: skip
    write_system(tmp_path / "day1", "core", core)
    write_system(tmp_path / "day1", "card", card)
    load(driver, settings, tmp_path / "day1")
    assert link(driver, settings, "card", "K101")["customer_id"] == "C-CIF101"
    assert link(driver, settings, "card", "K102")["customer_id"] == "C-CIF102"
    crm = [  # contact_id, full_name, gender, birthday, id_number, mobile_phone, email, address
        ("CRM1", "陈伟", "M", "17/05/1980", id_b, "13812345678", "chenwei@163.com", "上海市徐汇区漕溪北路1号"),
        ("CRM2", "李娜", "F", "02/11/1975", "", "13987654321", "lina@qq.com", "北京市海淀区中关村大街5号"),
    ]  # fmt: skip
    write_system(tmp_path / "day2", "crm", crm)
    result = load(driver, settings, tmp_path / "day2")
    assert result.counts["customers"].loaded == len(crm)
    assert link(driver, settings, "crm", "CRM2")["customer_id"] == "C-CIF102"
    other = link(driver, settings, "crm", "CRM1")["customer_id"]
    assert other != "C-CIF101"
    assert link(driver, settings, "card", "K101")["customer_id"] == "C-CIF101"
    # no customer holds two resident IDs
    held = session.rows(driver, settings.neo4j_database, IDS_PER_CUSTOMER)
    assert held and all(r["ids"] == 1 for r in held), held
