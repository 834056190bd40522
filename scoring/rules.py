"""The scoring rules as pure functions: facts in, scores and plain-language reasons out.

No driver, no I/O: the job (job.py) gathers :class:`CustomerFacts` from the graph and writes the
:class:`CustomerScore` back. Every threshold comes from :class:`ScoringConfig` (scoring.toml).

Amounts in the facts are in the reporting currency (the job converts each account with the FX
rate of its currency); an account whose currency had no rate is marked ``unconverted`` and left
out of every sum, and the score lists its currency. A bank whose data has no interaction source
at all (``CustomerFacts.interaction_source``) is not judged on interactions it never recorded.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scoring.config import RISK_LEVELS, TIERS, ScoringConfig

DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class AccountFacts:
    product_type: str
    balance: float
    status: str = "OPEN"
    product_code: str | None = None
    monthly_balances: tuple[float, ...] = ()  # month-end balances, oldest first
    maturity_date: dt.date | None = None
    holder_role: str = "PRIMARY"  # PRIMARY or JOINT
    currency: str | None = None  # the account's own currency (amounts above are converted)
    unconverted: bool = False  # no FX rate for ``currency``: amounts in it, left out of sums


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: str
    as_of: dt.date
    accounts: tuple[AccountFacts, ...] = ()
    status: str | None = "ACTIVE"
    onboarded_at: dt.date | None = None
    last_interaction_at: dt.date | None = None
    interactions_12m: int = 0
    open_complaints: int = 0
    oldest_open_complaint_at: dt.date | None = None
    satisfaction_recent: float | None = None  # mean of the last 6 months
    satisfaction_earlier: float | None = None  # mean of the 6 months before
    nps_recent: float | None = None
    previous_tier: str | None = None
    influence_percentile: float = 0.0  # 0..1 within the referral graph
    # whether the data scored holds interactions at all (False: no CRM loaded, so no recorded
    # interaction says nothing about the customer)
    interaction_source: bool = True


@dataclass(frozen=True)
class Component:
    name: str
    weight: float
    raw: float
    score: float


@dataclass(frozen=True)
class Risk:
    level: str
    reasons: tuple[str, ...] = ()

    @property
    def rank(self) -> int:
        return RISK_LEVELS.index(self.level)


@dataclass(frozen=True)
class DowngradeRisk(Risk):
    projected_aum: float | None = None
    floor: float | None = None
    evaluation_date: dt.date | None = None


@dataclass(frozen=True)
class CustomerScore:
    customer_id: str
    aum: float
    liabilities: float
    tier: str
    previous_tier: str | None
    tier_changed: bool
    value_score: float
    components: tuple[Component, ...]
    downgrade: DowngradeRisk
    churn: Risk
    lifecycle_stage: str
    clv: float
    extra: dict[str, float] = field(default_factory=dict)
    # currencies of accounts left out of AUM for want of an FX rate (sorted; empty: AUM complete)
    unconverted_currencies: tuple[str, ...] = ()


# -- money and series ------------------------------------------------------------------------


def money(amount: float) -> str:
    """``620000.4`` → ``"620,000"``: how a banker reads CNY amounts in a reason."""
    return f"{amount:,.0f}"


def aum_and_liabilities(
    accounts: Iterable[AccountFacts], cfg: ScoringConfig
) -> tuple[float, float]:
    """Assets held and amounts owed. An overdrawn asset account (a current account below zero)
    owes its overdraft; a card or loan in credit owes nothing. Accounts without an FX rate are
    left out (:func:`unconverted_currencies`)."""
    assets = liabilities = 0.0
    for acc in accounts:
        if acc.status == "CLOSED" or acc.unconverted:
            continue
        if acc.product_type in cfg.asset_types:
            assets += max(acc.balance, 0.0)
            liabilities += max(-acc.balance, 0.0)
        elif acc.product_type in cfg.liability_types:
            liabilities += max(acc.balance, 0.0)
    return round(assets, 2), round(liabilities, 2)


def unconverted_currencies(accounts: Iterable[AccountFacts]) -> tuple[str, ...]:
    """Currencies of open accounts whose amounts could not be converted (no FX rate)."""
    return tuple(
        sorted({a.currency or "?" for a in accounts if a.unconverted and a.status != "CLOSED"})
    )


def aum_series(accounts: Iterable[AccountFacts], cfg: ScoringConfig) -> list[float]:
    """Month-end AUM, oldest first, aligned on the newest month (shorter histories padded with 0)."""
    histories = [
        a.monthly_balances
        for a in accounts
        if a.product_type in cfg.asset_types and not a.unconverted
    ]
    length = max((len(h) for h in histories), default=0)
    series = [0.0] * length
    for hist in histories:
        offset = length - len(hist)
        for i, value in enumerate(hist):
            series[offset + i] += max(float(value), 0.0)
    return series


def change_over(series: Sequence[float], months: int) -> float | None:
    """Relative change of the last value against ``months`` before it (None without history)."""
    if len(series) <= months or series[-1 - months] <= 0:
        return None
    return (series[-1] - series[-1 - months]) / series[-1 - months]


def slope_per_month(series: Sequence[float], months: int) -> float:
    """Least-squares slope of the last ``months`` points (0 with fewer than two)."""
    pts = list(series[-months:])
    n = len(pts)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = sum(pts) / n
    num = sum((i - mean_x) * (y - mean_y) for i, y in enumerate(pts))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return num / den


def next_evaluation_date(as_of: dt.date, cfg: ScoringConfig) -> dt.date:
    """The next period end (quarter end by default) at least ``min_days_ahead`` days away."""
    period = int(cfg["evaluation"]["period_months"])
    min_days = int(cfg["evaluation"]["min_days_ahead"])
    year, month = as_of.year, as_of.month
    while True:
        month_end_month = ((month - 1) // period + 1) * period
        y, m = year + (month_end_month - 1) // 12, (month_end_month - 1) % 12 + 1
        end = _month_end(y, m)
        if (end - as_of).days >= min_days:
            return end
        month = month_end_month + 1
        if month > 12:
            year, month = year + 1, month - 12


def is_evaluation_date(day: dt.date, cfg: ScoringConfig) -> bool:
    """Whether ``day`` is a period end (a quarter end by default), when tiers are re-evaluated."""
    period = int(cfg["evaluation"]["period_months"])
    return day.month % period == 0 and day == _month_end(day.year, day.month)


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


# -- tier -------------------------------------------------------------------------------------


def tier_by_aum(aum: float, cfg: ScoringConfig) -> str:
    for tier in TIERS:
        if aum >= cfg.floor(tier):
            return tier
    return TIERS[-1]


def assign_tier(
    aum: float,
    previous: str | None,
    *,
    activity: float,
    products: int,
    cfg: ScoringConfig,
    at_evaluation: bool = True,
) -> str:
    """Tier from the AUM bands, promoted for potential, and held by hysteresis against flips.

    A downgrade takes effect only at an evaluation (a period end, ``at_evaluation``); between
    evaluations the customer keeps the tier, and the downgrade risk warns of the coming one.
    """
    tcfg = cfg["tier"]
    tier = tier_by_aum(aum, cfg)
    idx = TIERS.index(tier)
    if idx > 0:
        higher = TIERS[idx - 1]
        if (
            aum >= cfg.floor(higher) * tcfg["potential_ratio"]
            and activity >= tcfg["potential_min_activity"]
            and products >= tcfg["potential_min_products"]
        ):
            tier = higher
    if previous in TIERS and TIERS.index(previous) < TIERS.index(tier):
        # Would be a downgrade: only at an evaluation, and only below the floor less the margin.
        if not at_evaluation or aum >= cfg.floor(previous) * (1 - tcfg["downgrade_margin"]):
            return previous
    return tier


# -- value ------------------------------------------------------------------------------------


def _clip(x: float, lo: float = 0.0, hi: float = 100.0) -> float:
    return max(lo, min(hi, x))


def activity_score(facts: CustomerFacts, series: Sequence[float], cfg: ScoringConfig) -> float:
    """Recency, frequency (of interactions) and monetary (AUM growth), averaged; without an
    interaction source in the data, monetary alone."""
    vcfg = cfg["value"]
    growth = change_over(series, 6)
    monetary = (
        50.0 if growth is None else _clip(50.0 + 50.0 * growth / vcfg["monetary_full_growth"])
    )
    if not facts.interaction_source:
        return round(monetary, 2)
    if facts.last_interaction_at is None:
        recency = 0.0
    else:
        days = (facts.as_of - facts.last_interaction_at).days
        recency = _clip(100.0 * (1 - days / vcfg["recency_zero_days"]))
    frequency = _clip(100.0 * facts.interactions_12m / vcfg["frequency_full"])
    return round((recency + frequency + monetary) / 3, 2)


def value_components(
    facts: CustomerFacts, aum: float, series: Sequence[float], cfg: ScoringConfig
) -> tuple[Component, ...]:
    vcfg = cfg["value"]
    w = vcfg["weights"]
    open_types = {a.product_type for a in facts.accounts if a.status != "CLOSED"}
    tenure_years = (facts.as_of - facts.onboarded_at).days / 365.25 if facts.onboarded_at else 0.0
    aum_score = _clip(100.0 * math.log10(1 + aum) / math.log10(1 + vcfg["aum_full_score"]))
    return (
        Component("aum", w["aum"], aum, round(aum_score, 2)),
        Component(
            "activity",
            w["activity"],
            float(facts.interactions_12m),
            activity_score(facts, series, cfg),
        ),
        Component(
            "product_depth",
            w["product_depth"],
            float(len(open_types)),
            round(_clip(100.0 * len(open_types) / vcfg["product_depth_full"]), 2),
        ),
        Component(
            "tenure",
            w["tenure"],
            round(max(tenure_years, 0.0), 2),
            round(_clip(100.0 * tenure_years / vcfg["tenure_full_years"]), 2),
        ),
        Component(
            "influence",
            w["influence"],
            round(facts.influence_percentile, 4),
            round(_clip(100.0 * facts.influence_percentile), 2),
        ),
    )


def value_score(components: Iterable[Component]) -> float:
    return round(sum(c.weight * c.score for c in components), 2)


# -- risks ------------------------------------------------------------------------------------


def _escalate(level: str, to: str) -> str:
    return to if RISK_LEVELS.index(to) > RISK_LEVELS.index(level) else level


def downgrade_risk(
    facts: CustomerFacts, tier: str, aum: float, series: Sequence[float], cfg: ScoringConfig
) -> DowngradeRisk:
    """The anti-downgrade early warning for a customer in ``tier`` (ORDINARY has no lower tier)."""
    evaluation = next_evaluation_date(facts.as_of, cfg)
    if tier == TIERS[-1]:
        return DowngradeRisk("NONE", (), None, None, evaluation)
    d = cfg["downgrade"]
    floor = cfg.floor(tier)
    level, reasons = "NONE", []
    months_ahead = (evaluation - facts.as_of).days / DAYS_PER_MONTH
    slope = slope_per_month(series, int(d["trend_months"])) if series else 0.0
    projected = max(aum + slope * months_ahead, 0.0)
    drop_n = int(d["drop_months"])
    drop = change_over(series, drop_n)
    drop_long = change_over(series, int(d["trend_months"]))
    trend_text = ""
    if drop is not None and drop < 0:
        trend_text = (
            f"AUM fell {abs(drop) * 100:.0f} % in {drop_n} months "
            f"({money(series[-1 - drop_n])} → {money(series[-1])})"
        )
    elif drop_long is not None and drop_long < 0:
        n = int(d["trend_months"])
        trend_text = (
            f"AUM fell {abs(drop_long) * 100:.0f} % in {n} months "
            f"({money(series[-1 - n])} → {money(series[-1])})"
        )

    if aum < floor:
        level = "HIGH"
        keep = floor * (1 - cfg["tier"]["downgrade_margin"])
        reasons.append(
            f"AUM {money(aum)} is already below the {tier} floor of {money(floor)}; at the "
            f"{evaluation.isoformat()} review the tier drops unless AUM is back above {money(keep)}"
        )
    if slope < 0 and projected < floor:
        level = "HIGH"
        lead = f"{trend_text}; at" if trend_text else "At"
        reasons.append(
            f"{lead} this pace {money(projected)} by {evaluation.isoformat()}, "
            f"below the {tier} floor of {money(floor)}"
        )
    elif slope < 0 and projected < floor * (1 + d["medium_buffer"]):
        level = _escalate(level, "MEDIUM")
        lead = f"{trend_text}; at" if trend_text else "At"
        reasons.append(
            f"{lead} this pace {money(projected)} by {evaluation.isoformat()}, within "
            f"{d['medium_buffer'] * 100:.0f} % of the {tier} floor of {money(floor)}"
        )
    elif (drop is not None and drop <= -d["medium_drop"]) or (
        drop_long is not None and drop_long <= -1.5 * d["medium_drop"]
    ):
        level = _escalate(level, "MEDIUM")
        reasons.append(trend_text)
    elif (drop is not None and drop <= -d["low_drop"]) and trend_text:
        level = _escalate(level, "LOW")
        reasons.append(trend_text)

    horizon = facts.as_of + dt.timedelta(days=int(d["maturity_days"]))
    maturing = [
        a
        for a in facts.accounts
        if a.status != "CLOSED"
        and a.maturity_date
        and facts.as_of <= a.maturity_date <= horizon
        and a.product_type in cfg.asset_types
        and not a.unconverted
    ]
    maturing_total = sum(a.balance for a in maturing)
    if maturing and maturing_total >= d["large_maturity"]:
        last = max(a.maturity_date for a in maturing if a.maturity_date)
        if aum - maturing_total < floor:
            level = _escalate(level, "MEDIUM")
            reasons.append(
                f"{money(maturing_total)} of deposits mature by {last.isoformat()}; if withdrawn, "
                f"AUM falls to {money(aum - maturing_total)}, below the {tier} floor of {money(floor)}"
            )
        else:
            level = _escalate(level, "LOW")
            reasons.append(f"{money(maturing_total)} of deposits mature by {last.isoformat()}")
    if facts.open_complaints:
        level = _escalate(level, "LOW")
        plural = "s" if facts.open_complaints > 1 else ""
        reasons.append(f"{facts.open_complaints} unresolved complaint{plural}")
    if (
        facts.satisfaction_recent is not None
        and facts.satisfaction_earlier is not None
        and facts.satisfaction_earlier - facts.satisfaction_recent >= d["satisfaction_drop"]
    ):
        level = _escalate(level, "LOW")
        reasons.append(
            f"Satisfaction fell from {facts.satisfaction_earlier:.1f} to "
            f"{facts.satisfaction_recent:.1f} (out of 5)"
        )
    return DowngradeRisk(level, tuple(reasons), round(projected, 2), floor, evaluation)


def churn_risk(facts: CustomerFacts, series: Sequence[float], cfg: ScoringConfig) -> Risk:
    c = cfg["churn"]
    strong: list[str] = []
    weak: list[str] = []
    if not facts.interaction_source:
        pass  # no interactions recorded anywhere in the data: silence is not a signal
    elif facts.last_interaction_at is None:
        strong.append("No recorded interaction with the bank")
    else:
        idle = (facts.as_of - facts.last_interaction_at).days
        if idle >= c["inactive_days"]:
            strong.append(f"No interaction for {idle} days (since {facts.last_interaction_at})")
    decline = change_over(series, 6)
    if decline is not None and decline <= -c["decline_strong"]:
        strong.append(f"AUM down {abs(decline) * 100:.0f} % in 6 months")
    elif decline is not None and decline <= -c["decline_weak"]:
        weak.append(f"AUM down {abs(decline) * 100:.0f} % in 6 months")
    if facts.open_complaints and facts.oldest_open_complaint_at:
        age = (facts.as_of - facts.oldest_open_complaint_at).days
        if age >= c["complaint_days"]:
            strong.append(f"A complaint unresolved for {age} days")
    if facts.satisfaction_recent is not None and facts.satisfaction_recent < c["low_satisfaction"]:
        weak.append(f"Average satisfaction {facts.satisfaction_recent:.1f} out of 5")
    if (
        facts.satisfaction_recent is not None
        and facts.satisfaction_earlier is not None
        and facts.satisfaction_earlier - facts.satisfaction_recent >= c["satisfaction_drop"]
    ):
        weak.append(
            f"Satisfaction fell from {facts.satisfaction_earlier:.1f} to "
            f"{facts.satisfaction_recent:.1f} (out of 5) in 6 months"
        )
    if facts.nps_recent is not None and facts.nps_recent < c["detractor_nps"]:
        weak.append(f"NPS {facts.nps_recent:.0f} (a detractor)")
    if len(strong) >= 2 or (strong and len(weak) >= 2):
        level = "HIGH"
    elif strong or len(weak) >= 2:
        level = "MEDIUM"
    elif weak:
        level = "LOW"
    else:
        level = "NONE"
    return Risk(level, tuple(strong + weak))


# -- lifecycle and lifetime value -------------------------------------------------------------


def lifecycle_stage(
    facts: CustomerFacts, aum: float, series: Sequence[float], cfg: ScoringConfig
) -> str:
    lc = cfg["lifecycle"]
    if facts.status == "CLOSED" or (
        facts.accounts and all(a.status == "CLOSED" for a in facts.accounts)
    ):
        return "CHURNED"
    if not facts.accounts:
        return "PROSPECT"
    idle_days = (
        (facts.as_of - facts.last_interaction_at).days if facts.last_interaction_at else math.inf
    )
    # Dormancy is about the customer's own money: a joint account moved by its co-holder does
    # not make them active.
    own = [a for a in facts.accounts if a.holder_role == "PRIMARY"] or list(facts.accounts)
    recent = aum_series(own, cfg)[-12:]
    mean = sum(recent) / len(recent) if recent else 0.0
    flat = not recent or mean <= 0 or (max(recent) - min(recent)) <= lc["dormant_flat_ratio"] * mean
    if facts.interaction_source:
        idle = idle_days >= lc["dormant_days"] and (flat or aum < lc["dormant_max_aum"])
    else:
        # no interactions anywhere in the data: dormant only on the evidence of a balance
        # history that stayed flat, not for want of one
        idle = len(recent) >= 2 and flat
    if facts.status == "DORMANT" or idle:
        return "DORMANT"
    tenure_days = (facts.as_of - facts.onboarded_at).days if facts.onboarded_at else math.inf
    if tenure_days < lc["new_days"]:
        return "NEW"
    change = change_over(series, 6)
    if change is not None and change <= -lc["declining_drop"]:
        return "DECLINING"
    if (change is not None and change >= lc["growing_rise"]) or tenure_days < lc[
        "growing_years"
    ] * 365.25:
        return "GROWING"
    return "MATURE"


def lifetime_value(aum: float, liabilities: float, churn_level: str, cfg: ScoringConfig) -> float:
    k = cfg["clv"]
    margin = aum * k["asset_margin"] + liabilities * k["liability_margin"]
    retention = k["retention"][churn_level]
    total = sum(
        margin * retention**t / (1 + k["discount_rate"]) ** t
        for t in range(1, int(k["horizon_years"]) + 1)
    )
    return round(total, 2)


# -- next best products -----------------------------------------------------------------------


@dataclass(frozen=True)
class PeerGroup:
    """Who the peers are (said in the reason), how many, and the share holding each product."""

    description: str
    size: int
    shares: dict[str, float]


def recommend(
    held: set[str], groups: Sequence[PeerGroup], product_names: dict[str, str], cfg: ScoringConfig
) -> list[dict[str, object]]:
    """Products peers hold and the customer does not, best supported first, with the reason."""
    r = cfg["recommendations"]
    best: dict[str, tuple[float, str]] = {}
    for group in groups:
        if group.size < r["min_peers"]:
            continue
        for code, share in group.shares.items():
            if code in held or share < r["min_support"]:
                continue
            if code not in best or share > best[code][0]:
                best[code] = (share, f"held by {share * 100:.0f} % of {group.description}")
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[: int(r["top"])]
    return [
        {
            "product_code": code,
            "name": product_names.get(code, code),
            "reason": reason,
            "support": round(share, 4),
        }
        for code, (share, reason) in ranked
    ]


# -- all together -----------------------------------------------------------------------------


def last_period_tier(series: Sequence[float], as_of: dt.date, cfg: ScoringConfig) -> str | None:
    """The tier at the last evaluation (a period ago), from history: the baseline of a first run."""
    months = int(cfg["evaluation"]["period_months"])
    if len(series) <= months:
        return None
    return tier_by_aum(series[-1 - months], cfg)


def score_customer(facts: CustomerFacts, cfg: ScoringConfig) -> CustomerScore:
    aum, liabilities = aum_and_liabilities(facts.accounts, cfg)
    series = aum_series(facts.accounts, cfg)
    if series:
        series[-1] = aum  # the current balance is the newest point
    previous = facts.previous_tier or last_period_tier(series, facts.as_of, cfg)
    activity = activity_score(facts, series, cfg)
    products = len({a.product_type for a in facts.accounts if a.status != "CLOSED"})
    tier = assign_tier(
        aum,
        previous,
        activity=activity,
        products=products,
        cfg=cfg,
        at_evaluation=is_evaluation_date(facts.as_of, cfg),
    )
    components = value_components(facts, aum, series, cfg)
    churn = churn_risk(facts, series, cfg)
    return CustomerScore(
        customer_id=facts.customer_id,
        aum=aum,
        liabilities=liabilities,
        tier=tier,
        previous_tier=previous,
        tier_changed=previous is not None and previous != tier,
        value_score=value_score(components),
        components=components,
        downgrade=downgrade_risk(facts, tier, aum, series, cfg),
        churn=churn,
        lifecycle_stage=lifecycle_stage(facts, aum, series, cfg),
        clv=lifetime_value(aum, liabilities, churn.level, cfg),
        unconverted_currencies=unconverted_currencies(facts.accounts),
    )
