"""Masks and the enforcement functions, without a driver."""

from __future__ import annotations

import datetime as dt

import pytest

from auth import enforce
from auth.masking import Mask, apply_mask, mask_email, mask_name, mask_phone
from auth.policy import OPERATIONS, ROLES, VIEWS, Operation, Role, View
from auth.principal import Principal
from core.errors import Forbidden
from graph.queries.scope import SCOPE_MATCH, SCOPE_PARAMETERS, ScopeKind

ROW = {
    "customer_id": "C1",
    "name": "张伟",
    "phone": "+8613812345678",
    "email": "zhang.wei@example.com",
    "national_id_last4": "1234",
    "address": "上海市浦东新区世纪大道100号",
    "city": "上海",
    "birth_date": dt.date(1980, 5, 17),
    "birth_year": 1980,
    "value_score": 80.0,
    "risk_rating": "LOW",
    "access": "direct",
}


def test_literal_masks():
    assert mask_phone("+8613812345678") == "+86 138****5678"
    assert mask_email("zhang.wei@example.com") == "z***@example.com"
    assert mask_email("broken") == "***"
    assert mask_name("张伟") == "张*"
    assert mask_phone("123") == "***"
    assert apply_mask(Mask.LAST4, "110101198005171234", ROW) == "1234"
    assert apply_mask(Mask.CITY, ROW["address"], ROW) == "上海"
    assert apply_mask(Mask.YEAR, ROW["birth_date"], ROW) is None
    assert apply_mask(Mask.HIDDEN, "x", ROW) is None
    assert apply_mask(Mask.CLEAR, "x", ROW) == "x"
    assert apply_mask(Mask.PHONE, None, ROW) is None


def test_phone_mask_keeps_the_country_code_and_the_last_four():
    """At least four digits stay hidden, so a short national number shows only its last four;
    a number stored before E.164 (11 digits) is masked as it always was."""
    assert mask_phone("+861012345678") == "+86 ******5678"  # a Beijing landline
    assert mask_phone("+420601123456") == "+420 *****3456"  # a Czech mobile
    assert mask_phone("+447946095812") == "+44 ******5812"
    assert mask_phone("13812345678") == "138****5678"
    for stored, code in (("+8613812345678", "+86"), ("+420601123456", "+420"), ("13812345678", "")):
        national = stored.removeprefix(code)
        masked = mask_phone(stored).removeprefix(f"{code} " if code else "")
        assert masked.endswith(national[-4:]) and len(masked) == len(national)
        assert masked.count("*") >= 4  # never more than all but four digits shown


def principal(role: Role, **claims: str) -> Principal:
    return Principal(subject="s", roles=frozenset({role}), **claims)


def test_mask_row_applies_the_view_once_and_keeps_the_input():
    masked = enforce.mask_row(principal(Role.CHANNEL_SERVICE), ROW)
    assert masked["phone"] == "+86 138****5678"
    assert masked["address"] == "上海"
    assert masked["birth_date"] is None and masked["birth_year"] == 1980
    assert masked["value_score"] is None
    assert ROW["phone"] == "+8613812345678"  # the input row is not changed


def test_hop_rows_get_the_hop_view():
    rm = principal(Role.RELATIONSHIP_MANAGER, employee_id="E1")
    assert enforce.mask_row(rm, ROW)["phone"] == "+8613812345678"
    assert enforce.mask_row(rm, {**ROW, "access": "hop"})["phone"] == "+86 138****5678"


@pytest.mark.parametrize("role", list(Role))
def test_row_scope_uses_only_constant_fragments_and_claims(role):
    scope = enforce.row_scope(principal(role, employee_id="E1", customer_id="C1", branch_id="B1"))
    assert scope.kind in SCOPE_MATCH
    assert set(scope.params) == set(SCOPE_PARAMETERS)
    for fragment in SCOPE_MATCH.values():
        assert "$customer_id" in fragment


@pytest.mark.parametrize(("operation", "role"), [(o, r) for o in Operation for r in Role])
def test_operations_follow_the_table(operation, role):
    allowed = role in OPERATIONS[operation]
    assert enforce.allows(principal(role), operation) is allowed
    if allowed:
        enforce.require(principal(role), operation)
    else:
        with pytest.raises(Forbidden):
            enforce.require(principal(role), operation)


def test_mutation_roles_as_the_design_says():
    rm_admin = {Role.RELATIONSHIP_MANAGER, Role.ADMIN}
    # issue 21: the hotline and the app (channel_service) open, acknowledge, feed progress back,
    # record surveys and log contacts; the cause analysis stays with the customer's managers
    front_line = {Role.CHANNEL_SERVICE, Role.RELATIONSHIP_MANAGER, Role.BRANCH_MANAGER, Role.ADMIN}
    case_owners = {Role.RELATIONSHIP_MANAGER, Role.BRANCH_MANAGER, Role.ADMIN}
    assert OPERATIONS[Operation.LOG_INTERACTION] == rm_admin | {Role.CHANNEL_SERVICE}
    for step in (Operation.OPEN_COMPLAINT, Operation.ACKNOWLEDGE_COMPLAINT,
                 Operation.ADD_COMPLAINT_PROGRESS, Operation.RECORD_SURVEY):  # fmt: skip
        assert OPERATIONS[step] == front_line, step
    for step in (Operation.RESOLVE_COMPLAINT, Operation.CLOSE_COMPLAINT,
                 Operation.REOPEN_COMPLAINT):  # fmt: skip
        assert OPERATIONS[step] == case_owners, step
    assert Role.CUSTOMER not in OPERATIONS[Operation.READ_COMPLAINT_STATS]
    assert OPERATIONS[Operation.ASSIGN_RELATIONSHIP_MANAGER] == {Role.BRANCH_MANAGER, Role.ADMIN}
    assert OPERATIONS[Operation.READ_AUDIT] == {Role.AUDITOR, Role.ADMIN}


def test_scope_kinds_of_the_roles():
    assert {r: p.scope for r, p in ROLES.items()} == {
        Role.CUSTOMER: ScopeKind.OWN,
        Role.CHANNEL_SERVICE: ScopeKind.ANY,
        Role.RELATIONSHIP_MANAGER: ScopeKind.BOOK,
        Role.BRANCH_MANAGER: ScopeKind.BRANCH,
        Role.DATA_ENGINEER: ScopeKind.ANY,
        Role.AUDITOR: ScopeKind.ANY,
        Role.ADMIN: ScopeKind.ANY,
    }
    assert VIEWS[View.FULL]["phone"] is Mask.CLEAR


def test_anonymous_may_do_nothing():
    from auth.principal import ANONYMOUS

    for operation in Operation:
        assert not enforce.allows(ANONYMOUS, operation)
    with pytest.raises(Forbidden):
        enforce.row_scope(ANONYMOUS)
    with pytest.raises(Forbidden):
        enforce.mask_row(ANONYMOUS, ROW)
