from __future__ import annotations

import strawberry

from resolvers import identity as resolve
from schema.context import Info
from schema.identity.types import IdentityReviewConnection, IdentityReviewStatus
from schema.selection import fields_of_this_field


@strawberry.type
class IdentityQuery:
    @strawberry.field(
        description="The identity review queue (data engineers and admins): pairs of source "
        "records the linkage model could not decide, oldest first. Pages of at most 100; pass "
        "`pageInfo.endCursor` as `after`. Reading it is audited."
    )
    async def identity_reviews(
        self,
        info: Info,
        status: IdentityReviewStatus = IdentityReviewStatus.OPEN,
        first: int | None = 20,
        after: str | None = None,
    ) -> IdentityReviewConnection:
        page = await resolve.identity_reviews(
            info.context,
            status=status.value,
            first=first,
            after=after,
            fields=fields_of_this_field(info),
        )
        return IdentityReviewConnection.from_page(page, status=status.value)
