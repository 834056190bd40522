"""Operational reads and writes: load runs, relationship-manager assignment."""

from __future__ import annotations

from typing import Any

from graph.queries.scope import ScopeKind
from graph.session import one_row, scoped

LOAD_RUNS = """
MATCH (r:LoadRun)
RETURN r {.*} AS run
ORDER BY r.started_at DESC, r.run_id DESC
LIMIT $limit
"""

# A page of load runs, newest first, after the (started_at, run_id) of the previous page's last
# run, with the number of all runs.
LOAD_RUNS_PAGE = """
CALL () { MATCH (r:LoadRun) RETURN count(r) AS total }
OPTIONAL MATCH (r:LoadRun)
WHERE $after_at IS NULL OR r.started_at < $after_at
   OR (r.started_at = $after_at AND r.run_id < $after_id)
WITH total, r ORDER BY r.started_at DESC, r.run_id DESC LIMIT $limit
RETURN total, collect(r {.*}) AS runs
"""

# Employee titles (lower-cased) that make a relationship manager, as the source systems spell
# them: core's 'Relationship Manager', the short 'RM', and 客户经理.
RELATIONSHIP_MANAGER_TITLES = ("relationship manager", "rm", "客户经理")

# After a scope fragment has bound c (with access): the employee to assign, who must work at the
# caller's branch when the caller is bound to one ($branch_id), and whether they are a
# relationship manager (by title, $rm_titles).
ASSIGNEE_TAIL = """
WITH c, access WHERE access = 'direct'
MATCH (e:Employee {employee_id: $assignee_id})
WHERE $branch_id IS NULL OR EXISTS { (e)-[:WORKS_AT]->(:Branch {branch_id: $branch_id}) }
RETURN c.customer_id AS customer_id, e {.employee_id, .name, .title, .branch_id} AS employee,
       toLower(trim(coalesce(e.title, ''))) IN $rm_titles AS is_relationship_manager
"""

# After a scope fragment, once ASSIGNEE_TAIL has accepted the employee.
ASSIGN_RM_TAIL = """
WITH c, access WHERE access = 'direct'
MATCH (e:Employee {employee_id: $assignee_id})
OPTIONAL MATCH (other:Employee)-[old:MANAGES]->(c) WHERE other <> e
DELETE old
MERGE (e)-[m:MANAGES]->(c)
ON CREATE SET m.since = $today, m.assigned_by = $subject
RETURN c.customer_id AS customer_id, e {.employee_id, .name, .title, .branch_id} AS employee,
       m.since AS since
"""


async def find_assignee(
    tx: Any, *, scope: ScopeKind, params: dict[str, Any]
) -> dict[str, Any] | None:
    """The customer (served directly) and the employee to assign, or None."""
    return await one_row(tx, query=scoped(scope, ASSIGNEE_TAIL), params=params)


async def assign_relationship_manager(
    tx: Any, *, scope: ScopeKind, params: dict[str, Any]
) -> dict[str, Any] | None:
    """Make the employee the customer's only relationship manager; the assignment, or None."""
    return await one_row(tx, query=scoped(scope, ASSIGN_RM_TAIL), params=params)
