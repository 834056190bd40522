"""Clustering rules of identity resolution in a spill (no graph; the shipped model, as a load of
a few records uses it): the national-ID veto in a component of more than
etl/linkage.MAX_CHECKED_CLUSTER records and against every record of a customer already in the
graph, and a result that does not depend on the order the records came in."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pandas as pd

from etl import linkage_model as lm
from etl.linkage import MAX_CHECKED_CLUSTER
from etl.spill import CustomerSpill
from tests.test_linkage_units import CFG, COLUMNS, person

KNOWN_COLUMNS = [*COLUMNS, "customer_id"]
ADDRESS = "上海市徐汇区漕溪北路1号"
Outcome = tuple[str, str, float, float | None, str | None]


def outcome(
    new: list[dict[str, Any]], known: list[dict[str, Any]], tmp_path: Path
) -> dict[tuple[str, str], Outcome]:
    """(system, source_id) -> (customer id, rule, confidence, match weight, comparisons) of the
    new records, ``known`` being the graph's records (with their ``customer_id``)."""
    with CustomerSpill(COLUMNS, tmp_path) as spill:
        spill.add(pd.DataFrame(new, columns=COLUMNS))
        if known:
            spill.add_known(pd.DataFrame(known, columns=KNOWN_COLUMNS))
        spill.resolve(CFG, lm.model_for_load(tmp_path / "none.json", CFG))
        out = {}
        for frame, ids, links, _ in spill.in_load_order(500):
            for s, i, cid, link in zip(
                frame["system"], frame["source_id"], ids, links, strict=True
            ):
                out[s, i] = (
                    cid,
                    link.rule,
                    link.confidence,
                    link.match_weight,
                    link.comparisons_json,
                )
        return out


def ids_per_customer(
    records: list[dict[str, Any]], got: dict[tuple[str, str], Outcome]
) -> dict[str, set[str]]:
    held: dict[str, set[str]] = {}
    for r in records:
        cid = got[r["system"], r["source_id"]][0]
        held.setdefault(cid, set())
        if r["national_id_hash"]:
            held[cid].add(r["national_id_hash"])
    return held


def test_the_veto_holds_in_a_component_of_more_than_200_records(tmp_path: Path) -> None:
    """Two groups of one person's records, each strongly linked inside (same phone), linked to
    each other by name, birth date and address: one component of 300. One record of each group
    carries a resident ID, and they differ: the component is cut at its weakest links, the
    links between the groups."""

    def group(system: str, phone: str, id_hash: str | None) -> list[dict[str, Any]]:
        return [
            person(system, f"{system}{i:03d}", "张伟", phone=phone, address=ADDRESS,
                   national_id_hash=id_hash if i == 7 else None)
            for i in range(150)
        ]  # fmt: skip

    plain = group("core", "13800000001", None) + group("card", "13900000002", None)
    assert len(plain) > MAX_CHECKED_CLUSTER
    # without IDs the groups are one customer: the links between them are above `link`
    assert len({v[0] for v in outcome(plain, [], tmp_path).values()}) == 1

    core, card = group("core", "13800000001", "h1"), group("card", "13900000002", "h2")
    got = outcome(core + card, [], tmp_path)
    held = ids_per_customer(core + card, got)
    assert all(len(ids) <= 1 for ids in held.values()), held
    assert {got["core", r["source_id"]][0] for r in core} == {got["core", "core007"][0]}
    assert {got["card", r["source_id"]][0] for r in card} == {got["card", "card007"][0]}
    assert got["core", "core007"][0] != got["card", "card007"][0]


def test_a_new_record_meets_the_ids_of_all_the_records_of_a_customer(tmp_path: Path) -> None:
    """The graph's customer C-K has a core record with resident ID h1 (another phone and
    address: no candidate pair with the new records) and a card record without an ID. A new
    record that matches the card record closely but carries ID h2 stays out of C-K; one with
    h1, or with no ID, joins it."""
    card = {"phone": "13812345678", "email": "w@x.cn", "address": ADDRESS}
    known = [
        person("core", "K1", "王伟", national_id_hash="h1", phone="13700000000",
               address="北京市海淀区中关村大街5号", customer_id="C-K"),
        person("card", "K2", "王伟", customer_id="C-K", **card),
    ]  # fmt: skip
    new = [
        person("crm", "N1", "王伟", national_id_hash="h2", **card),
        person("crm", "N2", "王伟", **card),
    ]
    got = outcome(new, known, tmp_path)
    assert got["crm", "N1"][0] != "C-K" and got["crm", "N2"][0] == "C-K"
    got = outcome([person("crm", "N3", "王伟", national_id_hash="h1", **card)], known, tmp_path)
    assert got["crm", "N3"][0] == "C-K"
    # a customer a steward gave two IDs of one type takes a record with either, not a third
    two = [*known, person("core", "K3", "王伟", national_id_hash="h2", customer_id="C-K")]
    got = outcome(
        [
            person("crm", "N4", "王伟", national_id_hash="h2", **card),
            person("wealth", "N5", "王伟", national_id_hash="h3", **card),
        ],
        two,
        tmp_path,
    )
    assert got["crm", "N4"][0] == "C-K" and got["wealth", "N5"][0] != "C-K"


def test_the_clusters_do_not_depend_on_the_order_of_the_records(tmp_path: Path) -> None:
    """Ties the re-clustering and the naming must break by the records' keys: a record equally
    close to two others that may not be one (two IDs; two customers of the graph), an anchor of
    two systems of one rank (neither in system_priority), equal links. The same records in
    other orders resolve alike, to the last comparison."""
    li = {"phone": "13987654321", "address": "北京市海淀区中关村大街5号"}
    new = [
        person("card", "Y1", "李娜", **li),  # as close to X1 as to X2, whose IDs differ
        person("core", "X1", "李娜", national_id_hash="h1", **li),
        person("crm", "X2", "李娜", national_id_hash="h2", **li),
        person("card", "Z1", "赵六", phone="13611112222"),  # as close to KA as to KB
        person("wealth", "7", "孙丽", phone="13500000007"),  # two unlisted systems, one id
        person("loans", "7", "孙丽", phone="13500000007"),
        person("loans", "8", "孙丽", phone="13500000007"),
        person("core", "C1", "周杰", email="zj@x.cn", address=ADDRESS),
        person("card", "C2", "周杰", email="zj@x.cn"),
        person("crm", "C3", "周杰", address=ADDRESS),
    ]
    known = [
        person("core", "KA", "赵六", phone="13611112222", customer_id="C-KA"),
        person("core", "KB", "赵六", phone="13611112222", customer_id="C-KB"),
    ]
    first = outcome(new, known, tmp_path)
    assert first["card", "Y1"][0] in (first["core", "X1"][0], first["crm", "X2"][0])
    assert first["core", "X1"][0] != first["crm", "X2"][0]
    assert first["card", "Z1"][0] in ("C-KA", "C-KB")
    assert len({first["wealth", "7"][0], first["loans", "7"][0], first["loans", "8"][0]}) == 1
    for seed in range(4):
        rng = random.Random(seed)
        shuffled_new, shuffled_known = new[:], known[:]
        rng.shuffle(shuffled_new)
        rng.shuffle(shuffled_known)
        assert outcome(shuffled_new, shuffled_known, tmp_path) == first, seed
