"""Value and risk as the scoring job stored them: tier, value score, downgrade and churn risk
with their reasons (stored as codes, rendered in the request's language), recommendations."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from typing import Any, cast

import strawberry

from core.messages import Reason as StoredReason
from schema.context import Info
from schema.messages import Reason
from schema.scalars import enum_or_none, to_date, to_datetime


@strawberry.enum(
    description="Customer tier, re-evaluated every quarter from AUM, activity and potential."
)
class Tier(Enum):
    CORE = "CORE"
    KEY = "KEY"
    ORDINARY = "ORDINARY"


@strawberry.enum(
    description="How likely the customer is to drop a tier (downgrade) or leave (churn)."
)
class RiskLevel(Enum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    NONE = "NONE"


@strawberry.enum
class LifecycleStage(Enum):
    PROSPECT = "PROSPECT"
    NEW = "NEW"
    GROWING = "GROWING"
    MATURE = "MATURE"
    DECLINING = "DECLINING"
    DORMANT = "DORMANT"
    CHURNED = "CHURNED"


@strawberry.type(
    description="One named part of the value score: its weight, raw measure and 0-100 score."
)
class ValueComponent:
    name: str = strawberry.field(description="aum, activity, product_depth, tenure or influence")
    weight: float
    raw: float = strawberry.field(
        description="aum: CNY; activity: interactions in 12 months; product_depth: product types; "
        "tenure: years; influence: PageRank percentile (0-1)"
    )
    score: float


@strawberry.type(description="The customer's value as of the last scoring run.")
class Value:
    tier: Tier | None
    previous_tier: Tier | None
    tier_changed_at: dt.date | None
    score: float | None = strawberry.field(description="Value score 0-100: the weighted components")
    components: list[ValueComponent]
    clv: float | None = strawberry.field(
        description="Lifetime value estimate (CNY), see scoring.toml"
    )
    influence: float | None = strawberry.field(description="PageRank over referrals")
    referred_aum: float | None = strawberry.field(description="AUM of the customers they referred")
    lifecycle_stage: LifecycleStage | None
    scored_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Value | None:
        if row.get("tier") is None and row.get("value_score") is None:
            return None
        comps = json.loads(row.get("value_components_json") or "[]")
        return cls(
            tier=enum_or_none(Tier, row.get("tier")),
            previous_tier=enum_or_none(Tier, row.get("previous_tier")),
            tier_changed_at=to_date(row.get("tier_changed_at")),
            score=row.get("value_score"),
            components=[ValueComponent(**c) for c in comps],
            clv=row.get("clv"),
            influence=row.get("influence"),
            referred_aum=row.get("referred_aum"),
            lifecycle_stage=enum_or_none(LifecycleStage, row.get("lifecycle_stage")),
            scored_at=to_datetime(row.get("scored_at")),
        )


def _stored_reasons(row: dict[str, Any], kind: str) -> tuple[list[Reason], list[str]]:
    """A risk's reasons as the job stored them: ``<kind>_reasons_json`` ({code, params} list);
    a graph scored before reasons had codes has only the English sentences (``<kind>_reasons``),
    shown as they are, without details, until it is scored again."""
    stored = row.get(f"{kind}_reasons_json")
    if stored is not None:
        return Reason.many(json.loads(stored)), []
    return [], [str(r) for r in row.get(f"{kind}_reasons") or []]


def _render(detail: Reason, info: Info) -> str:
    params = cast(dict[str, Any], detail.params) or {}
    return info.context.text(StoredReason(detail.code, params))


def _texts(details: list[Reason], legacy: list[str], info: Info) -> list[str]:
    return [_render(d, info) for d in details] or legacy


REASONS = (
    "The reasons as sentences in the request's language (Accept-Language: zh-CN by default, en)"
)
DETAILS = "The reasons as codes with parameters (and their text), for clients that word them"


@strawberry.type(
    description="Risk of dropping below the current tier's floor at the next evaluation."
)
class DowngradeRisk:
    level: RiskLevel
    projected_aum: float | None = strawberry.field(
        description="AUM projected to the evaluation date"
    )
    floor: float | None = strawberry.field(description="The current tier's AUM floor (CNY)")
    evaluation_date: dt.date | None
    details: list[Reason] = strawberry.field(description=DETAILS)
    legacy_reasons: strawberry.Private[list[str]]

    @strawberry.field(description=REASONS)
    def reasons(self, info: Info) -> list[str]:
        return _texts(self.details, self.legacy_reasons, info)


@strawberry.type(description="Risk of the customer leaving the bank.")
class ChurnRisk:
    level: RiskLevel
    details: list[Reason] = strawberry.field(description=DETAILS)
    legacy_reasons: strawberry.Private[list[str]]

    @strawberry.field(description=REASONS)
    def reasons(self, info: Info) -> list[str]:
        return _texts(self.details, self.legacy_reasons, info)


@strawberry.type
class Risk:
    downgrade: DowngradeRisk
    churn: ChurnRisk

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Risk | None:
        if row.get("downgrade_risk_level") is None:
            return None
        downgrade, downgrade_legacy = _stored_reasons(row, "downgrade")
        churn, churn_legacy = _stored_reasons(row, "churn")
        return cls(
            downgrade=DowngradeRisk(
                level=RiskLevel(row["downgrade_risk_level"]),
                projected_aum=row.get("projected_aum"),
                floor=row.get("tier_floor"),
                evaluation_date=to_date(row.get("evaluation_date")),
                details=downgrade,
                legacy_reasons=downgrade_legacy,
            ),
            churn=ChurnRisk(
                level=RiskLevel(row.get("churn_risk_level") or "NONE"),
                details=churn,
                legacy_reasons=churn_legacy,
            ),
        )


@strawberry.type(description="A product similar customers hold and this one does not.")
class Recommendation:
    product_code: str
    name: str
    support: float = strawberry.field(description="Share of the peer group holding it (0-1)")
    detail: Reason = strawberry.field(
        description="Why: the peer group holding it, as a code with parameters (and its text)"
    )

    @strawberry.field(description="Why, as a sentence in the request's language")
    def reason(self, info: Info) -> str:
        return _render(self.detail, info)

    @classmethod
    def from_stored(cls, item: dict[str, Any]) -> Recommendation:
        """One stored item; one written before reasons had codes (a sentence as its reason)
        says only its support, the share of its peer group holding the product."""
        support = float(item.get("support") or 0.0)
        reason = item.get("reason")
        detail = (
            Reason.of(reason)
            if isinstance(reason, dict)
            else Reason.of({"code": "PEERS_HOLD", "params": {"pct": round(support * 100)}})
        )
        return cls(
            product_code=item["product_code"], name=item["name"], support=support, detail=detail
        )

    @classmethod
    def list_from_json(cls, text: str) -> list[Recommendation]:
        return [cls.from_stored(r) for r in json.loads(text or "[]")]
