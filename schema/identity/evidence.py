"""The evidence of a link between source records: Splink's match weight and its comparisons.

Kept apart from the review types so that the lineage of a customer (schema/customers/related.py)
can show it without importing the review queue.
"""

from __future__ import annotations

import json
import math
from typing import Any

import strawberry


def finite(value: Any) -> float | None:
    """A stored number as a GraphQL Float: null for a missing, non-numeric or infinite one (a
    level that never occurs among non-matches has an infinite Bayes factor)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@strawberry.type(
    description="One comparison of a linkage model for a pair of records: which attribute, the "
    "level the pair reached on it, and what that level weighs for a match."
)
class MatchComparison:
    name: str = strawberry.field(description="The comparison, e.g. name, birth_date, phone")
    level: str = strawberry.field(description="The level the pair reached, e.g. 'exact match'")
    weight: float | None = strawberry.field(
        description="The level's match weight (log2 of its Bayes factor: positive for a match); "
        "null when it is infinite"
    )

    @classmethod
    def list_from_json(cls, text: str | None) -> list[MatchComparison] | None:
        """The comparisons stored as JSON (a list of {name, level, weight}), None when none are.
        Entries that are not objects are skipped: an explanation is shown as far as it goes."""
        if not text:
            return None
        try:
            items = json.loads(text)
        except ValueError:
            return None
        if not isinstance(items, list):
            return None
        return [
            cls(
                name=str(item.get("name") or ""),
                level=str(item.get("level") or ""),
                weight=finite(item.get("weight")),
            )
            for item in items
            if isinstance(item, dict)
        ]
