"""The one enforcement path of the policy: row scope, field masking, operation checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from auth.masking import Mask, apply_mask
from auth.policy import (
    OPERATIONS,
    ROLES,
    SHOWN_AS_STORED,
    VIEWS,
    Operation,
    RolePolicy,
    View,
)
from auth.principal import Principal
from core.errors import Forbidden
from graph.queries.scope import SCOPE_PARAMETERS, ScopeKind

ROW_KEYS = {"id": "customer_id"}  # GraphQL field -> row key where they differ
# Scope parameter -> the token claim it is taken from.
SCOPE_CLAIMS = {
    "own_customer_id": "customer_id",
    "employee_id": "employee_id",
    "branch_id": "branch_id",
}


@dataclass(frozen=True)
class RowScope:
    kind: ScopeKind
    params: dict[str, Any]


def _policy(principal: Principal) -> RolePolicy:
    if not principal.roles:
        raise Forbidden("No role.")
    return ROLES[principal.primary_role]


def row_scope(principal: Principal) -> RowScope:
    """The Cypher scope fragment and its parameters for this caller."""
    kind = _policy(principal).scope
    return RowScope(kind, {p: principal.claim(SCOPE_CLAIMS[p]) for p in SCOPE_PARAMETERS})


def view_for(principal: Principal, access: str) -> View:
    policy = _policy(principal)
    return policy.hop_view if access == "hop" else policy.view


def hidden_when_direct(principal: Principal, field_name: str) -> bool:
    """Whether the caller's view of a customer they reach directly hides this field: what a read
    for that caller need not fetch at all. (A customer reached by a referral hop is shown with
    the hop view, which may hide more.)"""
    return VIEWS[_policy(principal).view].get(field_name) is Mask.HIDDEN


def mask_row(principal: Principal, row: dict[str, Any]) -> dict[str, Any]:
    """The row as this caller may see it. ``row['access']`` comes from the scope fragment."""
    treatments = VIEWS[view_for(principal, row.get("access") or "direct")]
    masked = dict(row)
    for field_name, mask in treatments.items():
        if mask is Mask.CLEAR:
            continue
        key = ROW_KEYS.get(field_name, field_name)
        masked[key] = apply_mask(mask, row.get(key), row)
    return masked


def allows(principal: Principal, operation: Operation) -> bool:
    return bool(principal.roles & OPERATIONS[operation])


def require(principal: Principal, operation: Operation) -> None:
    if not allows(principal, operation):
        raise Forbidden(f"Your role may not perform {operation.value}.")


def require_readable(principal: Principal, reads: Iterable[tuple[str, str]]) -> None:
    """Refuses an argument that orders, filters or searches by a customer field the caller's view
    does not show as stored. ``reads``: (the argument as the caller wrote it, the field)."""
    shown = SHOWN_AS_STORED[_policy(principal).view]
    for argument, field_name in reads:
        if field_name not in shown:
            raise Forbidden(
                f"{argument} is not available to your role: it would reveal a field your role "
                "does not see."
            )


def hops_hide(principal: Principal, fields: Iterable[str]) -> bool:
    """Whether a customer reached by a referral hop shows one of these fields masked; a list
    ordered, filtered or searched by one keeps only the customers the caller reaches directly."""
    shown = SHOWN_AS_STORED[_policy(principal).hop_view]
    return any(f not in shown for f in fields)
