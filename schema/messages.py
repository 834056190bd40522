"""The Reason type: a code with parameters, and its text in the request's language.

Scores, alerts and recommendations say why with reasons stored as ``{code, params}``
(core/messages.py); ``text`` is rendered when read, in the language the request negotiated
(``Accept-Language``; zh-CN by default). Clients that build their own wording use ``code`` and
``params``; the others show ``text``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import strawberry
from strawberry.scalars import JSON

from core.messages import Reason as StoredReason
from schema.context import Info


@strawberry.type(
    description="Why: a stable code, its parameters (numbers, dates, enum values) and the text "
    "in the request's language (Accept-Language: zh-CN by default, en)."
)
class Reason:
    code: str = strawberry.field(description="Stable code, e.g. AUM_FELL; see the README")
    params: JSON = strawberry.field(description="The code's parameters, e.g. {pct: 41, months: 3}")

    @strawberry.field(description="The reason as a sentence in the request's language")
    def text(self, info: Info) -> str:
        params: Mapping[str, Any] = self.params or {}  # type: ignore[assignment]
        return info.context.text(StoredReason(self.code, dict(params)))

    @classmethod
    def of(cls, data: Mapping[str, Any] | StoredReason) -> Reason:
        stored = data if isinstance(data, StoredReason) else StoredReason.from_dict(data)
        return cls(code=stored.code, params=dict(stored.params))  # type: ignore[arg-type]

    @classmethod
    def many(cls, items: Iterable[Mapping[str, Any] | StoredReason] | None) -> list[Reason]:
        return [cls.of(item) for item in items or ()]
