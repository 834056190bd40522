from __future__ import annotations

import strawberry

from resolvers import customers as resolve
from schema.context import Info
from schema.customers.customer import Customer


@strawberry.type
class CustomersQuery:
    @strawberry.field(description="The 360 profile of one customer, by customer id.")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer:
        return Customer.from_row(await resolve.customer_profile(info.context, str(id)))
