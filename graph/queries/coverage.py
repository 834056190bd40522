"""Coverage of a branch's customers by relationship managers: the assignment, the branch's
figures and the unassigned customers, most valuable first.

A branch's customers are its row scope (graph/queries/scope.py, ``SCOPE_CANDIDATES[BRANCH]``):
the customers managed by its staff and those whose home branch it is. A customer is covered when
an employee ``MANAGES`` them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from graph.queries.customers import QUERY_TEXTS, details, row
from graph.queries.scope import ACCESS_EXPR, SCOPE_CANDIDATES, ScopeKind
from graph.session import all_rows, one_row

# Tiers in the order the unassigned customers are listed; a customer not yet scored comes last.
TIER_ORDER = ("CORE", "KEY", "ORDINARY")
_TIER_RANK = "CASE c.tier WHEN 'CORE' THEN 0 WHEN 'KEY' THEN 1 WHEN 'ORDINARY' THEN 2 ELSE 3 END"


def _assignment_facts(scope: ScopeKind) -> str:
    return f"""
OPTIONAL MATCH (c:Customer {{customer_id: $customer_id}})
WITH c, CASE WHEN c IS NULL THEN NULL ELSE {ACCESS_EXPR[scope]} END AS access
OPTIONAL MATCH (e:Employee {{employee_id: $assignee_id}})
RETURN coalesce(access = 'direct', false) AS customer_in_scope,
       e {{.employee_id, .name, .title, .branch_id}} AS employee,
       [(e)-[:WORKS_AT]->(b:Branch) | b.branch_id] AS employee_branches,
       toLower(trim(coalesce(e.title, ''))) IN $rm_titles AS is_relationship_manager
"""


# What an assignment needs to know before it writes: whether the caller reaches the customer
# directly, and the employee (their branches, whether a relationship manager).
ASSIGNMENT_FACTS: dict[ScopeKind, str] = {scope: _assignment_facts(scope) for scope in ACCESS_EXPR}

# The employee becomes the customer's only relationship manager (an unchanged assignment keeps
# its date).
ASSIGN = """
MATCH (c:Customer {customer_id: $customer_id})
MATCH (e:Employee {employee_id: $assignee_id})
OPTIONAL MATCH (other:Employee)-[old:MANAGES]->(c) WHERE other <> e
WITH c, e, collect(old) AS previous
FOREACH (r IN previous | DELETE r)
MERGE (e)-[m:MANAGES]->(c)
ON CREATE SET m.since = $today, m.assigned_by = $subject
RETURN c.customer_id AS customer_id, e {.employee_id, .name, .title, .branch_id} AS employee,
       m.since AS since
"""

BRANCH = "MATCH (b:Branch {branch_id: $branch_id}) RETURN b {.branch_id, .name, .city} AS branch"

# The branch's customers per tier (null: not scored yet), with and without a relationship manager.
BRANCH_COVERAGE = f"""
{SCOPE_CANDIDATES[ScopeKind.BRANCH]}
WITH c, EXISTS {{ (:Employee)-[:MANAGES]->(c) }} AS covered
WITH c.tier AS tier, count(c) AS customers, count(CASE WHEN covered THEN 1 END) AS with_rm
RETURN tier, customers, with_rm
ORDER BY CASE tier WHEN 'CORE' THEN 0 WHEN 'KEY' THEN 1 WHEN 'ORDINARY' THEN 2 ELSE 3 END
"""

# The relationship managers working at the branch, with the size of their book.
BRANCH_RELATIONSHIP_MANAGERS = """
MATCH (:Branch {branch_id: $branch_id})<-[:WORKS_AT]-(e:Employee)
WHERE toLower(trim(coalesce(e.title, ''))) IN $rm_titles
RETURN e {.employee_id, .name, .title, .branch_id} AS employee,
       COUNT { (e)-[:MANAGES]->(:Customer) } AS customers
ORDER BY e.employee_id
"""

# Customers without a relationship manager: of one branch (its home customers: a customer a
# branch's employee manages is not unassigned), or of the whole bank when $branch_id is null.
_UNASSIGNED_OF_BRANCH = """
MATCH (:Branch {branch_id: $branch_id})<-[:HOME_BRANCH]-(c:Customer)
WHERE NOT EXISTS { (:Employee)-[:MANAGES]->(c) }
"""
_UNASSIGNED_ANYWHERE = """
MATCH (c:Customer)
WHERE NOT EXISTS { (:Employee)-[:MANAGES]->(c) }
"""


@lru_cache(maxsize=QUERY_TEXTS)
def unassigned_page_query(parts: frozenset[str], scope: ScopeKind, *, of_branch: bool) -> str:
    """A page of unassigned customers, CORE first, then KEY, then ORDINARY, then not scored;
    by AUM (descending) within a tier, then customer id; after the position ($after_rank,
    $after_aum, $after_id) of the previous page's last customer. Every one is in the scope of a
    caller allowed the list (their branch's, or the whole bank's), so access is 'direct'; the
    people linked to them are shown under the caller's ``scope``."""
    match = _UNASSIGNED_OF_BRANCH if of_branch else _UNASSIGNED_ANYWHERE
    return f"""
{match}
WITH c, {_TIER_RANK} AS rank, coalesce(c.aum, 0.0) AS aum
WHERE $after_id IS NULL OR rank > $after_rank OR (rank = $after_rank AND aum < $after_aum)
   OR (rank = $after_rank AND aum = $after_aum AND c.customer_id > $after_id)
WITH c, rank, aum, 'direct' AS access
ORDER BY rank, aum DESC, c.customer_id
LIMIT $limit
{details(parts, scope)}
RETURN {row(parts)} AS customer, access, rank, aum
ORDER BY rank, aum DESC, customer.customer_id
"""


def unassigned_count_query(*, of_branch: bool) -> str:
    match = _UNASSIGNED_OF_BRANCH if of_branch else _UNASSIGNED_ANYWHERE
    return f"{match}RETURN count(c) AS total"


async def assignment_facts(tx: Any, *, scope: ScopeKind, params: dict[str, Any]) -> dict[str, Any]:
    found = await one_row(tx, query=ASSIGNMENT_FACTS[scope], params=params)
    assert found is not None  # OPTIONAL MATCHes: always one row
    return found


async def assign(tx: Any, *, params: dict[str, Any]) -> dict[str, Any] | None:
    return await one_row(tx, query=ASSIGN, params=params)


async def branch_coverage(tx: Any, *, branch_id: str, rm_titles: list[str]) -> dict[str, Any]:
    """The branch (None if there is none), its tiers and its relationship managers."""
    params = {"branch_id": branch_id, "rm_titles": rm_titles}
    branch = await one_row(tx, query=BRANCH, params=params)
    return {
        "branch": branch["branch"] if branch else None,
        "tiers": await all_rows(tx, query=BRANCH_COVERAGE, params=params),
        "relationship_managers": await all_rows(
            tx, query=BRANCH_RELATIONSHIP_MANAGERS, params=params
        ),
    }


async def unassigned_page(
    tx: Any, *, parts: frozenset[str], scope: ScopeKind, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    """One page of unassigned customers and how many there are, in one read."""
    of_branch = params.get("branch_id") is not None
    query = unassigned_page_query(parts, scope, of_branch=of_branch)
    rows = await all_rows(tx, query=query, params=params)
    total = await one_row(tx, query=unassigned_count_query(of_branch=of_branch), params=params)
    return rows, int(total["total"]) if total else 0
