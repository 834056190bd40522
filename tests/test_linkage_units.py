"""Identity resolution's pure parts (no graph): the compared name parts, the comparison levels of
etl/linkage_model.py evaluated by DuckDB on hand-built pairs, the model file, and a whole
resolution in a spill (the shipped model) with records "already in the graph"."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from etl import linkage_model as lm
from etl.identity import load_identity_config
from etl.linkage_frame import MATCH_COLUMNS, compose_name, match_frame, name_parts
from etl.spill import CustomerSpill
from etl.zh import pinyin, split_hanzi_name

CFG = load_identity_config()
SPECS = {c["name"]: c for c in CFG.comparisons}


def rec(name: str | None = "张伟", **fields: Any) -> dict[str, Any]:
    return {"system": "core", "source_id": "1", "name": name} | fields


def level(comparison: str, a: dict[str, Any], b: dict[str, Any]) -> str:
    """The label of the first level of ``comparison`` that the pair (a, b) meets, as Splink's
    CASE does it (DuckDB evaluates the level's SQL)."""
    frame = match_frame(pd.DataFrame([a, b]), 0)
    db = duckdb.connect()
    cols = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in MATCH_COLUMNS)
    db.register("recs", frame)
    db.execute(
        "CREATE TABLE rt AS SELECT *, birth_date::DATE AS bd FROM recs"
    )  # dates as DATE, as in the spill
    db.execute("ALTER TABLE rt DROP COLUMN birth_date")
    db.execute("ALTER TABLE rt RENAME COLUMN bd TO birth_date")
    db.execute(
        f"CREATE TABLE pair AS SELECT {cols} FROM rt l, rt r "  # noqa: S608 - test constants
        "WHERE l.unique_id = 0 AND r.unique_id = 1"
    )
    for lv in lm.comparison(SPECS[comparison])["comparison_levels"]:
        if lv["sql_condition"] == "ELSE":
            return str(lv["label_for_charts"])
        sql = f"SELECT coalesce(({lv['sql_condition']}), false) FROM pair"  # noqa: S608
        hit = db.execute(sql).fetchall()
        if hit[0][0]:
            return str(lv["label_for_charts"])
    raise AssertionError("no level")


# -- names -----------------------------------------------------------------------------------
def test_pinyin_hanzi_and_traditional_spellings_have_the_same_parts() -> None:
    latin, hanzi, traditional = name_parts("ZHANG WEI"), name_parts("张伟"), name_parts("張偉")
    assert latin.family == hanzi.family == traditional.family == "zhang"
    assert latin.given == hanzi.given == traditional.given == "wei"
    assert hanzi.family_hz == traditional.family_hz == "张" and latin.family_hz is None
    assert split_hanzi_name("欧阳娜娜") == ("欧阳", "娜娜")  # a compound family name
    assert pinyin("单", family=True) == "shan" and pinyin("单") == "dan"


@pytest.mark.parametrize(
    ("a", "b", "family", "given"),
    [
        ("张伟", "ZHANG WEI", "same name", "same name"),
        ("张伟", "張偉", "same name", "same name"),
        ("张伟", "Zhang  Wei", "same name", "same name"),
        ("张伟", "章伟", "same pinyin, other characters", "same name"),
        ("张伟", "WEI ZHANG", "swapped with the other part", "swapped with the other part"),
        ("张小明", "ZHANG XIAOMIN", "same name", "one letter off"),
        ("张伟", "李娜", "different", "different"),
    ],
)
def test_name_levels(a: str, b: str, family: str, given: str) -> None:
    assert level("family_name", rec(a), rec(b)) == family
    assert level("given_name", rec(a), rec(b)) == given


def test_given_and_family_columns_win_over_the_name_and_compose_it() -> None:
    frame = pd.DataFrame(
        [
            {"name": None, "given_name": "Mary", "family_name": "Smith"},
            {"name": None, "given_name": "伟", "family_name": "张"},
            {"name": "Kept As Is", "given_name": "x", "family_name": "y"},
        ]
    )
    assert list(compose_name(frame)["name"]) == ["Mary Smith", "张伟", "Kept As Is"]
    a = rec(None, given_name="Mary", family_name="Smith")
    assert level("given_name", a, rec("SMITH MARY")) == "same name"  # family first, as written


# -- dates, addresses, identifiers -------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("1980-05-17", "1980-05-17", "same date"),
        ("1980-05-07", "1980-07-05", "day and month transposed"),
        ("1980-05-17", "1980-05-18", "one digit off"),
        ("1980-05-17", "1980-06-10", "within 31 days"),
        ("1980-01-01", "1980-11-30", "same year"),
        ("1980-01-01", "1962-11-30", "different"),
        ("1980-01-01", None, "missing"),
    ],
)
def test_birth_date_levels(a: str, b: str | None, want: str) -> None:
    day = lambda v: dt.date.fromisoformat(v) if v else None  # noqa: E731
    assert level("birth_date", rec(birth_date=day(a)), rec(birth_date=day(b))) == want


def test_address_levels_forgive_a_typo_and_a_word_order() -> None:
    a = rec(address="12 Miller Place, Kooltuo")
    assert level("address", a, rec(address="12 miller place kooltuo")) == "same"
    assert level("address", a, rec(address="12 Miler Place, Kooltuo")) == "similar 0.9"
    assert level("address", a, rec(address="Kooltuo, Miller Place 12")) == "words overlap 0.5"
    assert level("address", a, rec(address="3 Beach Road, Sydney")) == "different"


def test_national_ids_of_one_type_compare_and_of_two_types_do_not() -> None:
    cn = {"national_id_hash": "h1", "national_id_type": "CN_RESIDENT"}
    assert level("national_id", rec(**cn), rec(**cn)) == "same"
    assert level("national_id", rec(**cn), rec(**(cn | {"national_id_hash": "h2"}))) == "different"
    passport = {"national_id_hash": "h3", "national_id_type": "PASSPORT"}
    assert level("national_id", rec(**cn), rec(**passport)) == "missing"


# -- the model file ------------------------------------------------------------------------------
def test_the_shipped_model_is_trained_for_the_configured_comparisons(tmp_path: Path) -> None:
    shipped = lm.read_model(lm.SHIPPED_MODEL)
    assert lm.compatible(shipped, CFG), (
        "retrain etl/mappings/er-model.json (see etl/linkage_model.py)"
    )
    weights = {(c, lv): w for c, lv, _, _, w in lm.level_weights(shipped)}
    agree = {
        ("family_name", "same name"), ("given_name", "same name"), ("birth_date", "same date"),
        ("national_id", "same"), ("phone", "same"),
    }  # fmt: skip
    for key in agree:
        assert (weights[key] or 0) > 3, key
    assert (weights["birth_date", "different"] or 0) < 0
    doc = json.loads(lm.SHIPPED_MODEL.read_text(encoding="utf-8"))
    doc["c360_er_model_version"] = 99
    (tmp_path / "old.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(lm.ModelFileError, match="old.json: model format version 99"):
        lm.read_model(tmp_path / "old.json")
    other = dataclasses.replace(CFG, comparisons=CFG.comparisons[:3])
    assert not lm.compatible(shipped, other)


# -- a resolution in a spill (no graph) ---------------------------------------------------------
COLUMNS = [
    "system", "source_id", "name", "gender", "birth_date", "national_id_hash", "phone", "email",
    "address", "city", "updated_at",
]  # fmt: skip


def person(system: str, sid: str, name: str, **kw: Any) -> dict[str, Any]:
    base = {
        "system": system, "source_id": sid, "name": name, "gender": "M",
        "birth_date": dt.date(1980, 5, 17), "national_id_hash": None, "phone": None,
        "email": None, "address": None, "city": "上海", "updated_at": None,
    }  # fmt: skip
    return base | kw


def resolve(
    new: list[dict[str, Any]],
    known: list[dict[str, Any]],
    tmp_path: Path,
    apart: list[tuple[str, str, str, str]] = (),  # type: ignore[assignment]
) -> dict[tuple[str, str], tuple[str, str]]:
    """(system, source_id) -> (customer id, rule) of the new records."""
    with CustomerSpill(COLUMNS, tmp_path) as spill:
        spill.add(pd.DataFrame(new, columns=COLUMNS))
        if known:
            spill.add_known(pd.DataFrame(known))
        spill.add_not_same_as(list(apart))
        spill.resolve(CFG, lm.model_for_load(tmp_path / "none.json", CFG))
        out = {}
        for frame, ids, links, _ in spill.in_load_order(100):
            for s, i, cid, link in zip(
                frame["system"], frame["source_id"], ids, links, strict=True
            ):
                out[s, i] = (cid, link.rule)
        return out


def test_a_new_record_joins_the_customer_already_in_the_graph(tmp_path: Path) -> None:
    known = [person("core", "CIF1", "陈伟", phone="13812345678", customer_id="C-CIF1")]
    got = resolve([person("crm", "9", "陳偉", phone="13812345678")], known, tmp_path)
    assert got["crm", "9"] == ("C-CIF1", "PROBABILISTIC")


def test_same_id_merges_and_different_checked_ids_never_do(tmp_path: Path) -> None:
    new = [
        person("core", "1", "张伟", national_id_hash="h1"),
        person("card", "2", "张玮", national_id_hash="h1", birth_date=None),
        person("crm", "3", "张伟", national_id_hash="h2", phone="13800000000"),
    ]
    got = resolve(new, [], tmp_path)
    assert got["core", "1"][0] == got["card", "2"][0] == "C-1" != got["crm", "3"][0]
    assert got["card", "2"][1] == "NATIONAL_ID" and got["core", "1"][1] == "ANCHOR"


def test_a_load_never_merges_two_customers_of_the_graph_nor_a_rejected_pair(
    tmp_path: Path,
) -> None:
    same = {"phone": "13812345678", "email": "w@x.cn", "address": "上海市徐汇区漕溪北路1号"}
    known = [
        person("core", "A", "王伟", customer_id="C-A", **same),
        person("crm", "B", "王伟", customer_id="C-crm-B", **same),
    ]
    got = resolve([person("card", "K", "王伟", **same)], known, tmp_path)
    assert got["card", "K"][0] in ("C-A", "C-crm-B")  # one of them, never both merged
    # a steward said the card record and the core one are different people
    apart = [("card", "K", "core", "A")]
    got = resolve([person("card", "K", "王伟", **same)], known[:1], tmp_path, apart)
    assert got["card", "K"] == ("C-card-K", "SINGLETON")


@pytest.mark.parametrize(
    ("default", "systems", "kept"),
    [
        (True, {}, {("core", "core"), ("core", "card"), ("card", "card")}),
        (True, {"card": False}, {("core", "core"), ("core", "card")}),
        (False, {}, {("core", "card")}),  # an empty "on" list must not keep same-system pairs
        (False, {"card": True}, {("core", "card"), ("card", "card")}),
    ],
)
def test_dedup_within_a_system_follows_the_config(
    default: bool, systems: dict[str, bool], kept: set[tuple[str, str]]
) -> None:
    from etl.linkage import _no_dedupe_filter

    cfg = dataclasses.replace(
        load_identity_config(), dedupe_default=default, dedupe_systems=systems
    )
    pairs = [("core", "core"), ("core", "card"), ("card", "card")]
    db = duckdb.connect()
    db.execute("CREATE TABLE scored (sys_l VARCHAR, sys_r VARCHAR)")
    db.executemany("INSERT INTO scored VALUES (?, ?)", pairs)
    db.execute(f"DELETE FROM scored WHERE NOT ({_no_dedupe_filter(cfg, 'sys_l', 'sys_r')})")  # noqa: S608
    assert set(db.execute("SELECT sys_l, sys_r FROM scored").fetchall()) == kept
