"""Row scope: which customers a caller may read, as Cypher fragments chosen by name.

Each fragment binds ``c`` (the customer) and ``access`` ('direct' or 'hop') for the customer
``$customer_id``, or binds nothing when the caller may not see that customer. The fragments are
constants; the caller's identity only ever arrives as parameters (``$employee_id``,
``$branch_id``, ``$own_customer_id``). ``auth/policy.py`` says which fragment a role gets.
"""

from __future__ import annotations

from enum import StrEnum


class ScopeKind(StrEnum):
    ANY = "any"  # every customer
    OWN = "own"  # the caller's own customer record
    BOOK = "book"  # an RM's book, its households, one referral hop (as 'hop')
    # customers managed by employees who work at the caller's branch, and the customers whose
    # home branch it is (those without a relationship manager included)
    BRANCH = "branch"


def in_branch(parameter: str) -> str:
    """The one definition of "the bound customer ``c`` belongs to the branch ``$parameter``":
    managed by one of the branch's staff, or the branch is its home branch (unassigned customers
    included). The BRANCH scope and the branch filters (customers, complaints) are this
    predicate; only the parameter's name differs (the caller's ``branch_id``, a filter's own)."""
    if not parameter.isidentifier():
        raise ValueError(f"in_branch: parameter {parameter!r} is not a Cypher parameter name")
    b = f"(:Branch {{branch_id: ${parameter}}})"
    return (
        f"(EXISTS {{ (c)-[:HOME_BRANCH]->{b} }}\n"
        f"  OR EXISTS {{ {b}<-[:WORKS_AT]-(:Employee)-[:MANAGES]->(c) }})"
    )


# The caller's access to a bound customer ``c``: 'direct', 'hop' (shown masked) or null (out of
# scope). The list queries (search, network, households) use these expressions as they are.
ACCESS_EXPR: dict[ScopeKind, str] = {
    ScopeKind.ANY: "'direct'",
    ScopeKind.OWN: "CASE WHEN c.customer_id = $own_customer_id THEN 'direct' END",
    ScopeKind.BOOK: """CASE
  WHEN EXISTS { (:Employee {employee_id: $employee_id})-[:MANAGES]->(c) } THEN 'direct'
  WHEN EXISTS {
    MATCH (:Employee {employee_id: $employee_id})-[:MANAGES]->(:Customer)
          -[mine:MEMBER_OF]->(:Household)<-[theirs:MEMBER_OF]-(c)
    WHERE mine.ended_at IS NULL AND theirs.ended_at IS NULL
  } THEN 'direct'
  WHEN EXISTS { (:Employee {employee_id: $employee_id})-[:MANAGES]->(:Customer)-[:REFERRED]-(c) }
    THEN 'hop'
END""",
    ScopeKind.BRANCH: f"CASE WHEN {in_branch('branch_id')} THEN 'direct' END",
}

# Every customer a scope may admit, bound as ``c`` (each once), for the lists that must not scan
# every customer: a superset (the list still applies ACCESS_EXPR). Scopes without an entry start
# from every customer. At bank size a branch has a few thousand of them. (BRANCH: the two halves
# of :func:`in_branch`, each from its index.)
SCOPE_CANDIDATES: dict[ScopeKind, str] = {
    ScopeKind.BOOK: """
CALL () {
  MATCH (:Employee {employee_id: $employee_id})-[:MANAGES]->(c:Customer) RETURN c
  UNION
  MATCH (:Employee {employee_id: $employee_id})-[:MANAGES]->(:Customer)
        -[:MEMBER_OF]->(:Household)<-[:MEMBER_OF]-(c:Customer) RETURN c
  UNION
  MATCH (:Employee {employee_id: $employee_id})-[:MANAGES]->(:Customer)-[:REFERRED]-(c:Customer)
  RETURN c
}""",
    ScopeKind.BRANCH: """
CALL () {
  MATCH (:Branch {branch_id: $branch_id})<-[:WORKS_AT]-(:Employee)-[:MANAGES]->(c:Customer)
  RETURN c
  UNION
  MATCH (:Branch {branch_id: $branch_id})<-[:HOME_BRANCH]-(c:Customer) RETURN c
}""",
}

# One customer by id, bound as ``c`` with its ``access``, or no row when out of scope.
SCOPE_MATCH: dict[ScopeKind, str] = {
    kind: f"""
MATCH (c:Customer {{customer_id: $customer_id}})
WITH c, {expr} AS access
WHERE access IS NOT NULL
"""
    for kind, expr in ACCESS_EXPR.items()
}

# Every scoped query receives all scope parameters (unused ones as null), so a fragment can never
# miss a parameter and no query is assembled from anything but these constants.
SCOPE_PARAMETERS = ("own_customer_id", "employee_id", "branch_id")
