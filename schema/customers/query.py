from __future__ import annotations

import strawberry

from resolvers import customers as resolve
from schema.context import Info
from schema.customers.customer import Customer
from schema.selection import fields_of_this_field


@strawberry.type
class CustomersQuery:
    @strawberry.field(
        description="The 360 profile of one customer, by customer id, masked for your role. "
        "A customer outside your scope is NOT_FOUND, like one that does not exist."
    )
    async def customer(self, info: Info, id: strawberry.ID) -> Customer:
        row = await resolve.customer_profile(
            info.context, str(id), fields=fields_of_this_field(info)
        )
        return Customer.from_row(row)
