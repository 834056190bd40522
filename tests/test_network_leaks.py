"""Indirect leaks through the network and referrals (issue 16, findings 2 and 7), over HTTP.

Every answer is serialised whole and searched for the strings the caller must never receive
(tests/leak_graph.py lists them per caller from the graph and the policy tables).
"""

from __future__ import annotations

import pytest

from tests.leak_graph import (
    CALLERS,
    CUSTOMERS,
    HOUSEHOLD,
    NETWORK,
    PROFILE,
    Caller,
    assert_no_leak,
    forbidden,
)


def _network(ask, caller: Caller, root: str, depth: int = 3) -> dict:
    body = ask(caller, NETWORK, {"id": root, "depth": depth})
    assert "errors" not in body, body
    return body["data"]["network"]


@pytest.mark.parametrize("name", list(CALLERS))
def test_network_carries_nothing_of_customers_beyond_the_callers_scope(ask, driver, settings, name):
    """Finding 2: ids, names, household names and account numbers of strangers never appear."""
    caller = CALLERS[name]
    banned = forbidden(driver, settings.neo4j_database, caller)
    for root in caller.access:
        for depth in (1, 2, 3):
            net = _network(ask, caller, root, depth)
            assert_no_leak(net, banned, f"{name}'s network of {root} (depth {depth})")
            ends = {e[end] for e in net["edges"] for end in ("source", "target")}
            assert ends <= {n["id"] for n in net["nodes"]}


def test_a_customers_network_stops_at_what_the_customer_may_know(ask):
    """Own household and its members, own joint account and its co-holder, the customer they
    referred; strangers masked and not followed any further."""
    caller = CALLERS["customer"]
    net = _network(ask, caller, "C000001")
    readable = {n["id"]: n for n in net["nodes"] if not n["restricted"]}
    assert {i: (n["kind"], n["label"]) for i, n in readable.items()} == {
        "C000001": ("CUSTOMER", "张伟"),
        "H000001": ("HOUSEHOLD", "张伟家庭"),
        "A0000002": ("ACCOUNT", "TIME_DEPOSIT"),
    }
    restricted = [n for n in net["nodes"] if n["restricted"]]
    # the spouse and joint holder 李娜, the child 张小明 and the referred 刘洋, masked
    assert sorted(n["label"] for n in restricted) == ["刘*", "张**", "李*"]
    assert all(n["kind"] == "CUSTOMER" and n["tier"] is None for n in restricted)
    assert all(n["id"] not in CUSTOMERS for n in restricted)
    # every relationship shown touches something the customer may read
    for e in net["edges"]:
        assert e["source"] in readable or e["target"] in readable, e
    edges = {(e["source"], e["target"], e["type"]) for e in net["edges"]}
    assert {("C000001", "H000001", "HOUSEHOLD"), ("C000001", "A0000002", "JOINT_ACCOUNT")} <= edges
    # restricted ids are per answer: they cannot be collected across requests
    again = _network(ask, caller, "C000001")
    assert {n["id"] for n in restricted}.isdisjoint(n["id"] for n in again["nodes"])


def test_out_of_scope_households_in_staff_networks_have_no_id_or_name(ask):
    """The RM reaches 刘洋 by one referral hop; 刘洋's household is no household of the RM's."""
    for name in ("relationship_manager", "branch_manager"):
        nodes = _network(ask, CALLERS[name], "C000001", 3)["nodes"]
        households = [n for n in nodes if n["kind"] == "HOUSEHOLD"]
        assert [n["id"] for n in households if not n["restricted"]] == ["H000001"]
        for n in households:
            if n["restricted"]:
                assert n["label"] is None and n["id"] != "H000002" and n["tier"] is None


def test_referral_partners_beyond_scope_are_masked(ask, driver, settings):
    """Finding 7: whom an in-scope customer referred, or who referred them, outside the scope;
    a partner within the scope (孙丽 is one referral hop from the RM's 李娜) stays readable."""
    cases = [  # caller, customer, part, (partner's id, name) when shown, None when masked
        ("relationship_manager", "C000005", "referrals", None),  # 周杰
        ("branch_manager", "C000002", "referredBy", None),  # 孙丽
        ("relationship_manager", "C000002", "referredBy", ("C000010", "孙丽")),
        ("admin", "C000005", "referrals", ("C000009", "周杰")),
    ]
    for name, customer_id, part, shown in cases:
        caller = CALLERS[name]
        body = ask(caller, PROFILE, {"id": customer_id})
        assert "errors" not in body, body
        assert_no_leak(body, forbidden(driver, settings.neo4j_database, caller), name)
        got = body["data"]["customer"][part]
        [partner] = got if isinstance(got, list) else [got]
        assert partner["referredAt"] is not None  # the in-scope customer's own relationship
        if shown is None:
            assert partner["id"] not in CUSTOMERS and partner["name"].endswith("*")
        else:
            assert (partner["id"], partner["name"]) == shown


@pytest.mark.parametrize("name", list(CALLERS))
def test_no_path_names_a_stranger(ask, driver, settings, name):
    """Every read that shows linked people, for every root the caller may read: network,
    profile (household, referrals, accounts) and households."""
    caller = CALLERS[name]
    banned = forbidden(driver, settings.neo4j_database, caller)
    answers = []
    for root in caller.access:
        answers.append(ask(caller, NETWORK, {"id": root, "depth": 3}))
        answers.append(ask(caller, PROFILE, {"id": root}))
    for household in ("H000001", "H000002"):
        answers.append(ask(caller, HOUSEHOLD, {"id": household}))
    assert_no_leak(answers, banned, name, asked=("H000001", "H000002"))
