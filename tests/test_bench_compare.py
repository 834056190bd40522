"""bench/compare_graphql.py's pure parts: the two servers' answers read into one shape, the
ratios over rounds, the CPU reading from /proc. The comparison itself runs in `make bench`
(the compare phase), against a real Neo4j, npm's @neo4j/graphql and APOC."""

from __future__ import annotations

import os

import pytest

from bench.compare_graphql import (
    FIGURES,
    cpu_ticks,
    library_profile,
    ours_profile,
    ratios,
    table,
)

NODE = {
    "id": "C-1",
    "name": "Li Lei",
    "phone": "+8613812345678",
    "email": "l@x.cn",
    "city": "Xi'an",
}
ACCOUNTS = [
    {"id": "A-2", "productType": "FUND", "balance": 10.5},
    {"id": "A-1", "productType": "CURRENT", "balance": 3.0},
]
LATEST = {"id": "I-9", "channel": "WEB", "kind": "CAMPAIGN", "summary": "s"}


def ours_answer(**over) -> dict:
    """A customer as our API spells it (householdMembership, timeline edges, +00:00)."""
    node = {
        **NODE,
        "accounts": ACCOUNTS,
        "householdMembership": {"household": {"id": "H-1", "name": "Li family"}},
        "relationshipManager": {"id": "E-1", "name": "Wang"},
        "timeline": {"edges": [{"node": {**LATEST, "occurredAt": "2025-10-02T05:02:00+00:00"}}]},
    }
    return {"data": {"customer": {**node, **over}}}


def library_answer(**over) -> dict:
    """The same customer as @neo4j/graphql spells it (lists, milliseconds and Z, other order)."""
    node = {
        **NODE,
        "accounts": list(reversed(ACCOUNTS)),
        "households": [{"id": "H-1", "name": "Li family"}],
        "relationshipManager": [{"id": "E-1", "name": "Wang"}],
        "interactions": [{**LATEST, "occurredAt": "2025-10-02T05:02:00.000Z"}],
    }
    return {"data": {"customers": [{**node, **over}]}}


def test_one_customer_reads_the_same_from_both_servers() -> None:
    ours, lib = ours_profile(ours_answer()), library_profile(library_answer())
    assert ours is not None and ours == lib
    assert [a[0] for a in ours["accounts"]] == sorted(str(a["id"]) for a in ACCOUNTS)


def test_a_different_value_is_seen() -> None:
    moved = library_answer(interactions=[{**LATEST, "occurredAt": "2025-10-02T05:03:00.000Z"}])
    assert ours_profile(ours_answer()) != library_profile(moved)
    masked = ours_answer(householdMembership={"household": {"id": "H-1", "name": "L* family"}})
    assert ours_profile(masked) != library_profile(library_answer())


def test_no_household_and_no_manager_read_alike() -> None:
    ours = ours_profile(ours_answer(householdMembership=None, relationshipManager=None))
    lib = library_profile(library_answer(households=[], relationshipManager=[]))
    assert ours is not None and ours == lib and ours["household"] is None


def test_a_refused_customer_is_none_on_both_sides() -> None:
    refused = {"data": None, "errors": [{"message": "No customer", "extensions": {"code": "X"}}]}
    assert ours_profile(refused) is None
    assert library_profile({"data": {"customers": []}}) is None


def test_two_households_in_the_library_answer_are_refused() -> None:
    two = library_answer(households=[{"id": "H-1", "name": "a"}, {"id": "H-2", "name": "b"}])
    with pytest.raises(ValueError, match="more than one household"):
        library_profile(two)


def _level(ours: float, lib: float) -> dict:
    return {"ours": dict.fromkeys(FIGURES, ours), "library": dict.fromkeys(FIGURES, lib)}


def test_ratios_are_ours_over_library_with_their_spread() -> None:
    rounds = [{"8": _level(a, b)} for a, b in [(50, 100), (60, 100), (90, 100)]]
    got = ratios(rounds, 8)
    assert got["rps"] == {"median": 0.6, "min": 0.5, "max": 0.9}
    report = {"clients": [8], "rounds": rounds, "ratios": {"8": got}, "seconds": 10}
    row = next(line for line in table(report).splitlines() if line.startswith("| throughput"))
    assert "0.6 [0.5-0.9] (60 / 100)" in row


def test_cpu_ticks_of_this_process_grow_with_work() -> None:
    before = cpu_ticks(os.getpid())
    spent = os.times()
    while os.times().user + os.times().system - spent.user - spent.system < 0.05:
        sum(range(10_000))  # CPU work, measured by the process's own clock, not wall time
    assert cpu_ticks(os.getpid()) > before
