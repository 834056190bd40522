"""Coverage of a branch's customers by relationship managers (issue 22): ``branchCoverage`` and
``unassignedCustomers``; the assignment itself is ``assignRelationshipManager``
(schema/customers/mutation.py)."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers import coverage as resolve
from schema.context import Info
from schema.customers.branch import Branch
from schema.customers.connection import CustomerConnection, CustomerEdge
from schema.customers.customer import Customer
from schema.customers.related import Employee
from schema.pagination import PageInfo
from schema.selection import fields_of_nodes


@strawberry.type(description="A branch's customers of one tier, with and without an RM.")
class TierCoverage:
    tier: str | None = strawberry.field(
        description="CORE, KEY or ORDINARY; null for customers not scored yet"
    )
    customers: int
    with_relationship_manager: int
    without_relationship_manager: int

    @classmethod
    def of(cls, row: dict[str, Any]) -> TierCoverage:
        return cls(
            tier=row["tier"],
            customers=row["customers"],
            with_relationship_manager=row["with_rm"],
            without_relationship_manager=row["customers"] - row["with_rm"],
        )


@strawberry.type(description="A relationship manager of the branch and the size of their book.")
class BranchRelationshipManager:
    employee: Employee
    customers: int = strawberry.field(description="Customers they manage")


@strawberry.type(
    description="How a branch's customers (managed by its staff, or whose home branch it is) "
    "are covered by relationship managers."
)
class BranchCoverage:
    branch: Branch
    customers: int
    with_relationship_manager: int
    without_relationship_manager: int
    tiers: list[TierCoverage] = strawberry.field(
        description="Per tier: CORE, KEY, ORDINARY, then not scored"
    )
    relationship_managers: list[BranchRelationshipManager] = strawberry.field(
        description="The relationship managers who work at the branch (whom its manager may assign)"
    )

    @classmethod
    def of(cls, found: dict[str, Any]) -> BranchCoverage:
        tiers = [TierCoverage.of(t) for t in found["tiers"]]
        branch = Branch.from_row(found["branch"])
        assert branch is not None  # the resolver refuses a branch that is not there
        return cls(
            branch=branch,
            customers=sum(t.customers for t in tiers),
            with_relationship_manager=sum(t.with_relationship_manager for t in tiers),
            without_relationship_manager=sum(t.without_relationship_manager for t in tiers),
            tiers=tiers,
            relationship_managers=[
                BranchRelationshipManager(
                    employee=Employee.of(r["employee"]), customers=r["customers"]
                )
                for r in found["relationship_managers"]
            ],
        )


@strawberry.type
class CoverageQuery:
    @strawberry.field(
        description="Customers of a branch per tier, with and without a relationship manager. "
        "A branch manager reads their own branch (branchId may be left out); an admin or an "
        "auditor names one."
    )
    async def branch_coverage(
        self, info: Info, branch_id: strawberry.ID | None = None
    ) -> BranchCoverage:
        found = await resolve.branch_coverage(
            info.context, branch_id=str(branch_id) if branch_id is not None else None
        )
        return BranchCoverage.of(found)

    @strawberry.field(
        description="Customers without a relationship manager: CORE first, then KEY, then "
        "ORDINARY, by AUM (highest first) within a tier. A branch manager's branch; an admin's "
        "whole bank, or the branch named by branchId. Pass `pageInfo.endCursor` as `after`."
    )
    async def unassigned_customers(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        branch_id: strawberry.ID | None = None,
    ) -> CustomerConnection:
        page = await resolve.unassigned_customers(
            info.context,
            first=first,
            after=after,
            branch_id=str(branch_id) if branch_id is not None else None,
            fields=fields_of_nodes(info),
        )
        edges = [
            CustomerEdge(cursor=cursor, node=Customer.from_row(row))
            for row, cursor in zip(page.rows, page.cursors, strict=True)
        ]
        return CustomerConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=page.total,
        )
