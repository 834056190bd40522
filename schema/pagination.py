from __future__ import annotations

import strawberry


@strawberry.type(description="Relay-style page information.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
