"""The customers connection and the at-risk list: one scoped page query plus one count."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from auth import enforce
from auth.policy import Operation
from c360.errors import BadUserInput
from graph.queries.customers import EVERY_PART
from graph.queries.search import COUNT_QUERIES, SearchMode, SortKey, page_query
from resolvers.context import Context
from resolvers.pagination import decode_cursor, encode_cursor, page_size

PHONE_RE = re.compile(r"^\+?(?:86)?[\s-]*(1[\d\s-]{10,14})$")
ID_RE = re.compile(r"^(?=[^\s]*\d)[A-Za-z][A-Za-z0-9_-]{3,40}$")  # letters first, a digit somewhere
LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/&|])')
MAX_SEARCH = 50


@dataclass(frozen=True)
class CustomerFilterArgs:
    tiers: list[str] | None = None
    segments: list[str] | None = None
    cities: list[str] | None = None
    statuses: list[str] | None = None
    risk_levels: list[str] | None = None
    branch: str | None = None
    rm: str | None = None
    direct_only: bool | None = None  # only customers the caller serves directly (their book)


@dataclass
class CustomerPage:
    rows: list[dict[str, Any]]
    cursors: list[str]
    total: int
    has_next: bool


def classify(search: str | None) -> tuple[SearchMode, str | None]:
    """Which search a term asks for: a phone number, a customer id, or a name."""
    if search is None or not search.strip():
        return SearchMode.ALL, None
    term = search.strip()
    if len(term) > MAX_SEARCH:
        raise BadUserInput(f"search must be at most {MAX_SEARCH} characters")
    phone = PHONE_RE.match(term)
    if phone:
        digits = re.sub(r"\D", "", phone.group(1))
        if len(digits) == 11:
            return SearchMode.PHONE, digits
    if ID_RE.match(term):
        return SearchMode.ID, term.upper()
    # A phrase query on the full-text index, special characters escaped.
    return SearchMode.NAME, '"' + LUCENE_SPECIAL.sub(r"\\\1", term) + '"'


async def _page(
    tx: AsyncManagedTransaction, *, page_query: str, count_query: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    rows = [r.data() async for r in await tx.run(page_query, params)]
    # an aggregate without grouping keys: always exactly one row
    total = (await (await tx.run(count_query, params)).single(strict=True))["total"]
    return rows, total


async def customers_page(
    ctx: Context,
    *,
    search: str | None,
    filters: CustomerFilterArgs,
    order: SortKey,
    descending: bool,
    first: int | None,
    after: str | None,
    operation: Operation = Operation.READ_CUSTOMER,
    parts: frozenset[str] = EVERY_PART,
) -> CustomerPage:
    enforce.require(ctx.principal, operation)
    limit = page_size(first)
    mode, term = classify(search)
    cursor = decode_cursor(after)
    scope = enforce.row_scope(ctx.principal)
    params: dict[str, Any] = {
        "term": term,
        "after_k": cursor[0] if cursor else None,
        "after_id": cursor[1] if cursor else None,
        "limit": limit + 1,
        **scope.params,
        **{k: (v or None) for k, v in vars(filters).items()},
    }
    rows, total = await ctx.read(
        _page,
        page_query=page_query(mode, order, descending, scope.kind, parts),
        count_query=COUNT_QUERIES[(mode, scope.kind)],
        params=params,
    )
    has_next = len(rows) > limit
    rows = rows[:limit]
    if rows:
        await ctx.audit(
            operation.value,
            customer_ids=[r["customer"]["customer_id"] for r in rows],
            fields=["customers"],
        )
    return CustomerPage(
        rows=[
            enforce.mask_row(ctx.principal, {**r["customer"], "access": r["access"]}) for r in rows
        ],
        cursors=[encode_cursor(r["sort_value"], r["customer"]["customer_id"]) for r in rows],
        total=total,
        has_next=has_next,
    )
