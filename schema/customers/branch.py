"""A branch of the bank (the home branch of a customer, the subject of a coverage read)."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type(description="A branch of the bank.")
class Branch:
    id: strawberry.ID
    name: str | None
    city: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> Branch | None:
        """The branch of a row (``branch_id``, ``name``, ``city``), None for no row."""
        if not row:
            return None
        return cls(id=strawberry.ID(row["branch_id"]), name=row.get("name"), city=row.get("city"))
