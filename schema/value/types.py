from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from typing import Any

import strawberry

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
    reasons: list[str] = strawberry.field(description="Plain-language reasons with the numbers")


@strawberry.type(description="Risk of the customer leaving the bank.")
class ChurnRisk:
    level: RiskLevel
    reasons: list[str]


@strawberry.type
class Risk:
    downgrade: DowngradeRisk
    churn: ChurnRisk

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Risk | None:
        if row.get("downgrade_risk_level") is None:
            return None
        return cls(
            downgrade=DowngradeRisk(
                level=RiskLevel(row["downgrade_risk_level"]),
                projected_aum=row.get("projected_aum"),
                floor=row.get("tier_floor"),
                evaluation_date=to_date(row.get("evaluation_date")),
                reasons=list(row.get("downgrade_reasons") or []),
            ),
            churn=ChurnRisk(
                level=RiskLevel(row.get("churn_risk_level") or "NONE"),
                reasons=list(row.get("churn_reasons") or []),
            ),
        )


@strawberry.type(description="A product similar customers hold and this one does not.")
class Recommendation:
    product_code: str
    name: str
    reason: str
    support: float = strawberry.field(description="Share of the peer group holding it (0-1)")

    @classmethod
    def list_from_json(cls, text: str) -> list[Recommendation]:
        return [cls(**r) for r in json.loads(text or "[]")]
