from __future__ import annotations

import strawberry

from resolvers import households as resolve
from schema.context import Info
from schema.households.types import Household


@strawberry.type
class HouseholdsQuery:
    @strawberry.field(
        description="A household through a member you may see: members, roles, AUM, tier."
    )
    async def household(self, info: Info, id: strawberry.ID) -> Household:
        row = await resolve.household(info.context, str(id))
        return Household.from_row(row["household"], row["members"])
