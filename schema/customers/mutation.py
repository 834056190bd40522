from __future__ import annotations

import strawberry

from resolvers import coverage as resolve
from schema.context import Info
from schema.customers.related import Employee, RelationshipManagerAssignment
from schema.scalars import to_date


@strawberry.input
class AssignRelationshipManagerInput:
    client_mutation_id: str
    customer_id: strawberry.ID
    employee_id: strawberry.ID


@strawberry.type
class AssignmentPayload:
    client_mutation_id: str
    customer_id: strawberry.ID
    relationship_manager: Employee
    assignment: RelationshipManagerAssignment = strawberry.field(
        description="The assignment made: since when, and the employee"
    )


@strawberry.type
class CustomersMutation:
    @strawberry.mutation(
        description="Make a relationship manager the customer's only one. A branch manager "
        "assigns the relationship managers who work at their branch, to the customers of their "
        "branch (those without one included); a refusal names the argument it is about."
    )
    async def assign_relationship_manager(
        self, info: Info, input: AssignRelationshipManagerInput
    ) -> AssignmentPayload:
        row = await resolve.assign_relationship_manager(
            info.context,
            customer_id=str(input.customer_id),
            employee_id=str(input.employee_id),
            client_mutation_id=input.client_mutation_id,
        )
        employee = {**row["employee"], "since": row["since"]}
        return AssignmentPayload(
            client_mutation_id=input.client_mutation_id,
            customer_id=strawberry.ID(row["customer_id"]),
            relationship_manager=Employee.of(employee),
            assignment=RelationshipManagerAssignment(
                since=to_date(row["since"]), employee=Employee.of(employee)
            ),
        )
