"""Indirect leaks through households (issue 16, findings 5 and 6), over HTTP.

Members are shown under the caller's access to each of them: in scope under the caller's view,
current members beyond the scope masked (no id the caller could use, a pseudonymised name),
former members beyond the scope not at all. A household's name that embeds a person's name is
masked like that person's name.
"""

from __future__ import annotations

import pytest

from tests.leak_graph import (
    CALLERS,
    CUSTOMERS,
    HOUSEHOLD,
    NETWORK,
    PROFILE,
    assert_no_leak,
    forbidden,
)

MASKED = None  # a member shown without an id the caller could use
Member = tuple[str | None, str, str]  # (member id or MASKED, name, role)
ALL_FOUR: list[Member] = [
    ("C000001", "张伟", "HEAD"),
    ("C000002", "李娜", "SPOUSE"),
    ("C000005", "张小明", "CHILD"),
    ("C000006", "张老", "PARENT"),  # left in 2020
]
PSEUDONYMISED: list[Member] = [(i, n[0] + "*" * (len(n) - 1), r) for i, n, r in ALL_FOUR]
# household(H000001) per caller, in the order of ALL_FOUR
EXPECTED_MEMBERS: dict[str, list[Member]] = {
    "customer": [("C000001", "张伟", "HEAD"), (MASKED, "李*", "SPOUSE"), (MASKED, "张**", "CHILD")],
    "customer-C000002": [
        (MASKED, "张*", "HEAD"),
        ("C000002", "李娜", "SPOUSE"),
        (MASKED, "张**", "CHILD"),
    ],
    "relationship_manager": ALL_FOUR[:3],
    "branch_manager": [*ALL_FOUR[:2], (MASKED, "张**", "CHILD")],
    "channel_service": ALL_FOUR,
    "data_engineer": PSEUDONYMISED,
    "auditor": PSEUDONYMISED,
    "admin": ALL_FOUR,
}


@pytest.mark.parametrize("name", list(EXPECTED_MEMBERS))
def test_household_members_are_shown_under_their_own_access(ask, driver, settings, name):
    """Finding 5: no out-of-scope or former member in the clear, for every role."""
    caller = CALLERS[name]
    body = ask(caller, HOUSEHOLD, {"id": "H000001"})
    assert "errors" not in body, body
    assert_no_leak(body, forbidden(driver, settings.neo4j_database, caller), name)
    members = body["data"]["household"]["members"]
    order = {r: k for k, (_, _, r) in enumerate(ALL_FOUR)}
    members.sort(key=lambda m: order[m["role"]])
    got = [
        (m["customerId"] if m["customerId"] in CUSTOMERS else MASKED, m["name"], m["role"])
        for m in members
    ]
    assert got == EXPECTED_MEMBERS[name]
    for m in members:
        if m["customerId"] not in CUSTOMERS:  # masked: nothing about the person but the role
            assert m["tier"] is None and m["since"] is None and m["endedAt"] is None
    assert len({m["customerId"] for m in members}) == len(members)


def test_a_household_reached_through_no_current_member_is_not_found(ask, driver, settings):
    """Finding 5: 张老 left in 2020; the household and who is in it now are no longer theirs.
    刘洋家庭 has no member in the scope of the customer, the RM or the branch manager."""
    cases = [(name, "H000002") for name in ("customer", "relationship_manager", "branch_manager")]
    for name, household in [("customer-C000006", "H000001"), *cases]:
        caller = CALLERS[name]
        body = ask(caller, HOUSEHOLD, {"id": household})
        assert body["data"] is None, (name, body)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
        banned = forbidden(driver, settings.neo4j_database, caller)
        assert_no_leak(body, banned, name, asked=(household,))
    own = ask(CALLERS["customer-C000006"], PROFILE, {"id": "C000006"})["data"]["customer"]
    assert own["household"] == {"id": "H000001", "name": "张*家庭", "role": "PARENT"}


# The name of H000001 is 张伟家庭, after its head 张伟 (C000001): (caller, the customer whose profile
# and network are read) -> the name every path shows.
HOUSEHOLD_NAMES = {
    ("admin", "C000001"): "张伟家庭",
    ("relationship_manager", "C000002"): "张伟家庭",
    ("branch_manager", "C000001"): "张伟家庭",
    ("channel_service", "C000005"): "张伟家庭",
    ("customer", "C000001"): "张伟家庭",
    ("data_engineer", "C000002"): "张*家庭",
    ("auditor", "C000001"): "张*家庭",
    ("customer-C000002", "C000002"): "张*家庭",  # 张伟 is beyond a customer's own record
}


@pytest.mark.parametrize(("name", "root"), list(HOUSEHOLD_NAMES))
def test_household_names_are_masked_like_the_person_they_name(ask, name, root):
    """Finding 6: household(id), the profile's household and the network's household node."""
    caller = CALLERS[name]
    expected = HOUSEHOLD_NAMES[(name, root)]
    household = ask(caller, HOUSEHOLD, {"id": "H000001"})["data"]["household"]
    profile = ask(caller, PROFILE, {"id": root})["data"]["customer"]["household"]
    network = ask(caller, NETWORK, {"id": root, "depth": 1})["data"]["network"]
    [node] = [n for n in network["nodes"] if n["kind"] == "HOUSEHOLD"]
    assert (household["name"], profile["name"], node["label"]) == (expected,) * 3


def test_mask_within_masks_each_name_once_longest_first():
    from auth.masking import mask_within

    shown = {"张伟": "张*", "张伟明": "张**", "李娜": "李娜"}
    assert mask_within("张伟明与张伟家庭", shown) == "张**与张*家庭"
    assert mask_within("李娜家庭", shown) == "李娜家庭"
    assert mask_within("王家", shown) == "王家"
    assert mask_within("张伟家庭", {"张伟": None}) == "**家庭"  # a name the caller may not see
