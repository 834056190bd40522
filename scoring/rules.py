"""The scoring rules as pure functions: facts in, scores and their reasons out.

No driver, no I/O: the job (job.py) gathers :class:`CustomerFacts` from the graph and writes the
:class:`CustomerScore` back. Every threshold comes from :class:`ScoringConfig` (scoring.toml).

Amounts in the facts are in the reporting currency (the job converts each account with the FX
rate of its currency); an account whose currency had no rate is marked ``unconverted`` and left
out of every sum, and the score lists its currency. A bank whose data has no interaction source
at all (``CustomerFacts.interaction_source``) is not judged on interactions it never recorded.

Every reason is a :class:`core.messages.Reason`: a stable code and its parameters (amounts in the
reporting currency, percentages, dates as ISO strings, tiers), rendered in the reader's language
only when read (texts in core/messages/scoring.toml; the codes are listed in the README, "Reason
codes").
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from core.messages import Reason
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
    closed_at: dt.date | None = None
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
    recent_complaints: int = 0  # complaints made in the last ``churn.recent_complaint_days``
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
    reasons: tuple[Reason, ...] = ()

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


def _amount(value: float) -> float:
    """An amount as a reason's parameter (rendered ``{x:money}``: 1,891,257)."""
    return round(float(value), 2)


def _pct(ratio: float) -> int:
    """A ratio as a reason's whole percentage (0.412 → 41)."""
    return int(round(abs(ratio) * 100))


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


def _fell(series: Sequence[float], months: int) -> Reason:
    """AUM_FELL: the fall of the last ``months`` months, from and to (the caller checked it fell)."""
    before, now = series[-1 - months], series[-1]
    return Reason(
        "AUM_FELL",
        {
            "pct": _pct((now - before) / before),
            "months": months,
            "from": _amount(before),
            "to": _amount(now),
        },
    )


def downgrade_risk(
    facts: CustomerFacts, tier: str, aum: float, series: Sequence[float], cfg: ScoringConfig
) -> DowngradeRisk:
    """The anti-downgrade early warning for a customer in ``tier`` (ORDINARY has no lower tier)."""
    evaluation = next_evaluation_date(facts.as_of, cfg)
    if tier == TIERS[-1]:
        return DowngradeRisk("NONE", (), None, None, evaluation)
    d = cfg["downgrade"]
    floor = cfg.floor(tier)
    level, reasons = "NONE", list[Reason]()
    months_ahead = (evaluation - facts.as_of).days / DAYS_PER_MONTH
    slope = slope_per_month(series, int(d["trend_months"])) if series else 0.0
    projected = max(aum + slope * months_ahead, 0.0)
    drop_n = int(d["drop_months"])
    drop = change_over(series, drop_n)
    drop_long = change_over(series, int(d["trend_months"]))
    trend: list[Reason] = []
    if drop is not None and drop < 0:
        trend = [_fell(series, drop_n)]
    elif drop_long is not None and drop_long < 0:
        trend = [_fell(series, int(d["trend_months"]))]
    where = {"tier": tier, "floor": _amount(floor)}

    if aum < floor:
        level = "HIGH"
        keep = floor * (1 - cfg["tier"]["downgrade_margin"])
        reasons.append(
            Reason(
                "DOWNGRADE_BELOW_FLOOR",
                {
                    "aum": _amount(aum),
                    **where,
                    "date": evaluation.isoformat(),
                    "keep": _amount(keep),
                },
            )
        )
    projection = {"projected": _amount(projected), "date": evaluation.isoformat(), **where}
    if slope < 0 and projected < floor:
        level = "HIGH"
        reasons += [*trend, Reason("DOWNGRADE_PROJECTED_BELOW_FLOOR", projection)]
    elif slope < 0 and projected < floor * (1 + d["medium_buffer"]):
        level = _escalate(level, "MEDIUM")
        reasons += [
            *trend,
            Reason(
                "DOWNGRADE_PROJECTED_NEAR_FLOOR",
                {**projection, "buffer": _pct(d["medium_buffer"])},
            ),
        ]
    elif (drop is not None and drop <= -d["medium_drop"]) or (
        drop_long is not None and drop_long <= -1.5 * d["medium_drop"]
    ):
        level = _escalate(level, "MEDIUM")
        reasons += trend
    elif (drop is not None and drop <= -d["low_drop"]) and trend:
        level = _escalate(level, "LOW")
        reasons += trend

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
        due = {"amount": _amount(maturing_total), "date": last.isoformat()}
        if aum - maturing_total < floor:
            level = _escalate(level, "MEDIUM")
            reasons.append(
                Reason(
                    "DEPOSITS_MATURING_BELOW_FLOOR",
                    {**due, "after": _amount(aum - maturing_total), **where},
                )
            )
        else:
            level = _escalate(level, "LOW")
            reasons.append(Reason("DEPOSITS_MATURING", due))
    if facts.open_complaints:
        level = _escalate(level, "LOW")
        reasons.append(Reason("COMPLAINTS_OPEN", {"count": facts.open_complaints}))
    fell = _satisfaction_fell(facts, d["satisfaction_drop"])
    if fell:
        level = _escalate(level, "LOW")
        reasons.append(fell)
    return DowngradeRisk(level, tuple(reasons), round(projected, 2), floor, evaluation)


def _satisfaction_fell(facts: CustomerFacts, points: float) -> Reason | None:
    recent, earlier = facts.satisfaction_recent, facts.satisfaction_earlier
    if recent is None or earlier is None or earlier - recent < points:
        return None
    return Reason(
        "SATISFACTION_FELL", {"from": round(earlier, 2), "to": round(recent, 2), "months": 6}
    )


def _below(value: float) -> float:
    """A mean stated against a "below" threshold, floored to one decimal: rounded, 2.96 would
    read 3.0 beside a threshold of 3.0, and an NPS of 6.96 would read 7.0 (a detractor below 7)."""
    return math.floor(round(value * 10, 6)) / 10


# Churn signals come in families; a family counts once, at its strongest signal. The families of
# the customer's own money (balances, products, dormancy) are the ones that say a customer is
# leaving; a lack of staff contact or an unhappy survey says it only beside one of them.
MONEY_FAMILIES = frozenset({"balance", "products", "dormancy"})


@dataclass(frozen=True)
class Signal:
    family: str  # balance, products, dormancy, contact, complaints, satisfaction
    strong: bool
    reason: Reason


def churn_signals(
    facts: CustomerFacts, aum: float, series: Sequence[float], cfg: ScoringConfig
) -> list[Signal]:
    """What says the customer may leave, each with its family and strength ([churn] of
    scoring.toml): balances falling, products closed, dormancy, no contact, complaints and
    satisfaction."""
    c = cfg["churn"]
    out: list[Signal] = []
    # balances: the steeper of the falls over the windows looked at, if it is worth the name
    falls = [
        (change, months)
        for months in c["decline_months"]
        if (change := change_over(series, int(months))) is not None and change < 0
    ]
    if falls:
        change, months = min(falls)
        lost = series[-1 - int(months)] - series[-1]
        if lost >= c["decline_min_amount"] and -change >= c["decline_weak"]:
            out.append(Signal("balance", -change >= c["decline_strong"], _fell(series, months)))
    # products closed lately (all of them: the customer has left)
    since = facts.as_of - dt.timedelta(days=round(c["closure_months"] * DAYS_PER_MONTH))
    closed = [a for a in facts.accounts if a.closed_at and since < a.closed_at <= facts.as_of]
    if closed:
        everything = all(a.status == "CLOSED" for a in facts.accounts)
        out.append(
            Signal(
                "products",
                everything or len(closed) >= c["closures_strong"],
                Reason(
                    "ALL_PRODUCTS_CLOSED" if everything else "PRODUCTS_CLOSED",
                    {"count": len(closed), "months": int(c["closure_months"])},
                ),
            )
        )
    # dormancy, as the lifecycle stage says it; else staff contact lost (weak)
    dormant = dormancy(facts, aum, cfg)
    if dormant:
        out.append(Signal("dormancy", True, dormant))
    elif facts.interaction_source:
        if facts.last_interaction_at is None:
            out.append(Signal("contact", False, Reason("NO_CONTACT_EVER")))
        else:
            idle = (facts.as_of - facts.last_interaction_at).days
            if idle >= c["inactive_days"]:
                since_day = facts.last_interaction_at.isoformat()
                out.append(
                    Signal(
                        "contact", False, Reason("NO_CONTACT", {"days": idle, "since": since_day})
                    )
                )
    # complaints: one left unresolved is strong; a recent one, even resolved, weak
    if facts.open_complaints and facts.oldest_open_complaint_at:
        age = (facts.as_of - facts.oldest_open_complaint_at).days
        if age >= c["complaint_days"]:
            out.append(
                Signal(
                    "complaints",
                    True,
                    Reason("COMPLAINT_UNRESOLVED", {"days": age, "count": facts.open_complaints}),
                )
            )
    if facts.recent_complaints and not any(s.family == "complaints" for s in out):
        out.append(
            Signal(
                "complaints",
                False,
                Reason(
                    "COMPLAINTS_RECENT",
                    {"count": facts.recent_complaints, "days": int(c["recent_complaint_days"])},
                ),
            )
        )
    # satisfaction: low, falling, a detractor's NPS
    if facts.satisfaction_recent is not None and facts.satisfaction_recent < c["low_satisfaction"]:
        score = _below(facts.satisfaction_recent)
        out.append(Signal("satisfaction", False, Reason("SATISFACTION_LOW", {"score": score})))
    fell = _satisfaction_fell(facts, c["satisfaction_drop"])
    if fell:
        out.append(Signal("satisfaction", False, fell))
    if facts.nps_recent is not None and facts.nps_recent < c["detractor_nps"]:
        nps = _below(facts.nps_recent)
        out.append(Signal("satisfaction", False, Reason("NPS_DETRACTOR", {"nps": nps})))
    return out


def churn_level(signals: Iterable[Signal]) -> str:
    """HIGH: strong signals of two families, or one and weak signals of two more. MEDIUM: a
    strong signal, or weak signals of two families one of which is about the customer's money.
    LOW: any other weak signal, but a lack of contact alone is no churn risk at all (it is a
    follow-up due, not a customer leaving). A family counts once, at its strongest."""
    signals = list(signals)
    strong = {s.family for s in signals if s.strong}
    weak = {s.family for s in signals if not s.strong} - strong
    if len(strong) >= 2 or (strong and len(weak) >= 2):
        return "HIGH"
    if strong or (len(weak) >= 2 and weak & MONEY_FAMILIES):
        return "MEDIUM"
    return "LOW" if weak - {"contact"} else "NONE"


def churn_risk(
    facts: CustomerFacts, series: Sequence[float], cfg: ScoringConfig, aum: float | None = None
) -> Risk:
    """The churn risk and its reasons, strong signals first (see :func:`churn_signals`); ``aum``
    defaults to the facts' own."""
    if aum is None:
        aum = aum_and_liabilities(facts.accounts, cfg)[0]
    signals = churn_signals(facts, aum, series, cfg)
    level = churn_level(signals)
    if level == "NONE":
        return Risk(level)
    ordered = [s.reason for s in signals if s.strong] + [s.reason for s in signals if not s.strong]
    return Risk(level, tuple(ordered))


# -- lifecycle and lifetime value -------------------------------------------------------------


def dormancy(facts: CustomerFacts, aum: float, cfg: ScoringConfig) -> Reason | None:
    """Why the customer is dormant (lifecycle DORMANT, a strong churn signal), or None: marked
    so by the source, or no contact for ``dormant_days`` with their own money unmoved (or below
    ``dormant_max_aum``); without any interaction in the data, only a balance history that
    stayed flat says so, never the want of one."""
    lc = cfg["lifecycle"]
    if facts.status == "DORMANT":
        return Reason("CUSTOMER_DORMANT")
    if not facts.accounts:
        return None
    # Dormancy is about the customer's own money: a joint account moved by its co-holder does
    # not make them active.
    own = [a for a in facts.accounts if a.holder_role == "PRIMARY"] or list(facts.accounts)
    recent = aum_series(own, cfg)[-12:]
    mean = sum(recent) / len(recent) if recent else 0.0
    flat = not recent or mean <= 0 or (max(recent) - min(recent)) <= lc["dormant_flat_ratio"] * mean
    unmoved = flat and len(recent) >= 2
    if not facts.interaction_source:
        return Reason("BALANCE_UNMOVED", {"months": len(recent)}) if unmoved else None
    last = facts.last_interaction_at
    idle_days = (facts.as_of - last).days if last else math.inf
    if idle_days < lc["dormant_days"] or not (flat or aum < lc["dormant_max_aum"]):
        return None
    params: dict[str, object]
    if unmoved:
        code, params = "BALANCE_UNMOVED", {"months": len(recent)}
    elif aum < lc["dormant_max_aum"]:
        code, params = "SMALL_BALANCE", {"aum": _amount(aum)}
    else:
        code, params = "NO_BALANCE_HISTORY", {}
    if last is None:
        return Reason(f"{code}_NEVER_CONTACTED", params)
    return Reason(
        f"{code}_NO_CONTACT", {**params, "days": int(idle_days), "since": last.isoformat()}
    )


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
    if dormancy(facts, aum, cfg):
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

# The peer groups recommendations look at, and the reason code each gives.
PEER_GROUP_CODES = {
    "TIER_CITY": "PEERS_TIER_CITY",
    "TIER": "PEERS_TIER",  # a tier's customers whose city is not known
    "HOUSEHOLD": "PEERS_HOUSEHOLD",
    "REFERRAL": "PEERS_REFERRAL",
}


@dataclass(frozen=True)
class PeerGroup:
    """Who the peers are (a kind of group, and its tier and city when it is one), how many, and
    the share holding each product. The reason names the group by these, never by a sentence."""

    kind: str  # a key of PEER_GROUP_CODES
    size: int
    shares: dict[str, float]
    tier: str | None = None
    city: str | None = None

    def reason(self, share: float) -> Reason:
        """The reason naming this group. Only a tier's (and city's) group gives its size: the
        size of a household or of a referral circle is a count of the customer's relations,
        which views that hide the referrals must not tell (auth/policy.py RELATIONS)."""
        kind = "TIER" if self.kind == "TIER_CITY" and not self.city else self.kind
        params: dict[str, object] = {"pct": _pct(share), "group": kind}
        if kind in ("TIER_CITY", "TIER"):
            params["peers"] = self.size
            params["tier"] = self.tier
        if kind == "TIER_CITY":
            params["city"] = self.city
        return Reason(PEER_GROUP_CODES[kind], params)


def recommend(
    held: set[str], groups: Sequence[PeerGroup], product_names: dict[str, str], cfg: ScoringConfig
) -> list[dict[str, object]]:
    """Products peers hold and the customer does not, best supported first, with the reason
    (``{code, params}``) naming the peer group that holds it most."""
    r = cfg["recommendations"]
    best: dict[str, tuple[float, PeerGroup]] = {}
    for group in groups:
        if group.size < r["min_peers"]:
            continue
        for code, share in group.shares.items():
            if code in held or share < r["min_support"]:
                continue
            if code not in best or share > best[code][0]:
                best[code] = (share, group)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[: int(r["top"])]
    return [
        {
            "product_code": code,
            "name": product_names.get(code, code),
            "reason": group.reason(share).as_dict(),
            "support": round(share, 4),
        }
        for code, (share, group) in ranked
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
    churn = churn_risk(facts, series, cfg, aum)
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
