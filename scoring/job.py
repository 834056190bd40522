"""`c360 score`: read facts page by page, apply the rules, write the scores back.

Memory stays bounded: customers are read and written in pages of ``batch_size`` by key; only the
referral graph (edges) is held whole, for PageRank. Roll-ups (household AUM and tier, assets
brought in by referrals) run inside Neo4j in batched transactions; when some customers are scored
(a system, a load, ids), only their households are rolled up, so scoring one bank never rewrites
another bank's households at the first one's as-of rates.

What is scored: every customer, or those of one source system (``system``: customers with a
SourceRecord of it), of one load run (``run_id``: customers that run wrote anything of, their
records or the accounts they hold, holdings, memberships, RM assignments, referrals or
interactions, so a delta load that changed only a balance rescores its holders; the customers
stamped with the run, ``Customer.load_run_id``), or given ids. What a run writes for everyone
(an FX rate, a product) or for the referral graph as a whole (PageRank moves with any referral:
only the referral's two customers are the run's) is not a selection of customers: after such a
load, score every customer. As of: the date given, else the newest month-end in the data
scored (the newest month-end balance; without any, the end of the month of the newest account or
interaction date, never after today; dates after today, keying errors, are ignored). Amounts are converted to the reporting currency with the FX rates in force
at that date (scoring.toml ``[money]``). Whether the data has an interaction source at all (a
CRM) is decided over the same data: without one, no customer is held to have lost touch.

Several banks in one graph: every customer scored at once is scored system by system, never as
of the newest date of all systems (a Czech bank's 1998 customers beside a 2026 bank would be
scored 28 years late and all flagged as never contacted). Each system's as-of and interaction
source are found over its own customers (as ``system`` would); a customer with records in several
systems takes the newest as-of of its systems (a system without any dated data, a contact list,
gives none) and has an interaction source if any of them has one (its newest data is the truest
picture, and one CRM that knows it is enough); customers
without a source record take the whole graph's. So a plain run gives every customer the result
scoring its system alone gives. This holds every customer id in memory, as ``system`` holds a
system's; a graph of one system keeps the paged run over all customers.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from neo4j import Driver

from core.messages import Reason
from graph import session
from graph.queries import scoring as q
from scoring.config import ScoringConfig
from scoring.kpi_snapshots import mark_stale
from scoring.rules import (
    AccountFacts,
    CustomerFacts,
    CustomerScore,
    PeerGroup,
    recommend,
    score_customer,
)

Progress = Callable[[str, int], None]


class ScoringError(ValueError):
    """What to score cannot be found (an unknown system or load run, one without customers)."""


@dataclass
class ScoringSummary:
    as_of: dt.date
    as_of_basis: str = "given"  # or how it was found in the data
    reporting_currency: str = "CNY"
    interaction_source: bool = True  # whether the data scored holds any interaction
    # currency -> customers with accounts in it left out of AUM for want of an FX rate
    unconverted: dict[str, int] = field(default_factory=dict)
    customers: int = 0
    tier_changes: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    downgrade: dict[str, int] = field(default_factory=dict)
    churn: dict[str, int] = field(default_factory=dict)
    lifecycle: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def influence(driver: Driver, database: str, cfg: ScoringConfig) -> dict[str, tuple[float, float]]:
    """customer_id → (PageRank, percentile 0..1) over the referral graph (edges point to referrers)."""
    graph = nx.DiGraph()
    for row in session.rows(driver, database, q.REFERRAL_EDGES):
        graph.add_edge(row["referred"], row["referrer"])
    if graph.number_of_nodes() == 0:
        return {}
    ranks = nx.pagerank(graph, alpha=cfg["influence"]["alpha"])
    ordered = sorted(ranks, key=lambda k: (ranks[k], k))
    n = len(ordered)
    return {cid: (ranks[cid], (i + 1) / n) for i, cid in enumerate(ordered)}


@dataclass(frozen=True)
class Money:
    """The reporting currency and, per other currency, its rate at the as-of date."""

    reporting: str
    rates: dict[str, float]

    def account(self, a: dict[str, Any]) -> AccountFacts:
        """An account's facts with its amounts in the reporting currency; unconverted (kept in
        its own currency, left out of every sum) when its currency has no rate. An account
        without a currency is in the reporting currency (the loader writes one on each)."""
        currency = a.get("currency") or self.reporting
        rate = 1.0 if currency == self.reporting else self.rates.get(currency)
        factor = rate if rate is not None else 1.0
        return AccountFacts(
            product_type=a.get("product_type") or "UNKNOWN",
            balance=float(a.get("balance") or 0.0) * factor,
            status=a.get("status") or "OPEN",
            product_code=a.get("product_code"),
            monthly_balances=tuple(float(x) * factor for x in (a.get("monthly_balances") or ())),
            maturity_date=a.get("maturity_date"),
            closed_at=_day(a.get("closed_at")),
            holder_role=a.get("holder_role") or "PRIMARY",
            currency=currency,
            unconverted=rate is None,
        )


def fx_rates(driver: Driver, database: str, as_of: dt.date, reporting: str) -> Money:
    rates = {
        r["currency"]: float(r["rate"])
        for r in session.rows(driver, database, q.FX_RATES_AS_OF, as_of=as_of)
        if r["currency"] != reporting and r["rate"]
    }
    return Money(reporting, rates)


def _facts(
    row: dict[str, Any],
    as_of: dt.date,
    infl: dict[str, tuple[float, float]],
    money: Money,
    interaction_source: bool = True,
) -> CustomerFacts:
    accounts = tuple(money.account(a) for a in row["accounts"])
    return CustomerFacts(
        customer_id=row["customer_id"],
        as_of=as_of,
        accounts=accounts,
        status=row.get("status"),
        onboarded_at=row.get("onboarded_at"),
        last_interaction_at=row.get("last_interaction_at"),
        interactions_12m=int(row.get("interactions_12m") or 0),
        open_complaints=int(row.get("open_complaints") or 0),
        oldest_open_complaint_at=row.get("oldest_open_complaint_at"),
        recent_complaints=int(row.get("recent_complaints") or 0),
        satisfaction_recent=row.get("satisfaction_recent"),
        satisfaction_earlier=row.get("satisfaction_earlier"),
        nps_recent=row.get("nps_recent"),
        previous_tier=row.get("previous_tier"),
        influence_percentile=infl.get(row["customer_id"], (0.0, 0.0))[1],
        interaction_source=interaction_source,
    )


def reasons_json(reasons: Iterable[Reason]) -> str:
    """Reasons as stored on the Customer: a JSON list of ``{code, params}`` (rendered in the
    reader's language by the API)."""
    return json.dumps([r.as_dict() for r in reasons], ensure_ascii=False)


def score_row(
    score: CustomerScore,
    *,
    as_of: dt.date,
    stored_tier: str | None,
    pagerank: float,
    scored_at: dt.datetime,
    reporting_currency: str = "CNY",
) -> dict[str, Any]:
    """The properties written on the Customer, and a TierChange when the tier moved. (The
    levels the Customer had before, ``previous_downgrade_risk_level`` and
    ``previous_churn_risk_level``, are kept by WRITE_SCORES itself, from the stored ones, and
    moved only by a later as-of or a changed level: a re-run keeps them.)"""
    d = score.downgrade
    props: dict[str, Any] = {
        "aum": score.aum,
        "aum_currency": reporting_currency,
        # accounts in these currencies had no FX rate at the as-of date: not in AUM
        "aum_unconverted_currencies": list(score.unconverted_currencies),
        "liabilities": score.liabilities,
        "tier": score.tier,
        "value_score": score.value_score,
        "value_components_json": json.dumps(
            [
                {"name": c.name, "weight": c.weight, "raw": c.raw, "score": c.score}
                for c in score.components
            ]
        ),
        "clv": score.clv,
        "influence": round(pagerank, 8),
        "lifecycle_stage": score.lifecycle_stage,
        "downgrade_risk_level": d.level,
        "downgrade_risk_rank": d.rank,
        "downgrade_reasons_json": reasons_json(d.reasons),
        # the English sentences of jobs before reasons had codes: removed (null) when re-scored
        "downgrade_reasons": None,
        "projected_aum": d.projected_aum,
        "tier_floor": d.floor,
        "evaluation_date": d.evaluation_date,
        "churn_risk_level": score.churn.level,
        "churn_reasons_json": reasons_json(score.churn.reasons),
        "churn_reasons": None,
        "scored_at": scored_at,
        "scored_as_of": as_of,
    }
    change = None
    if score.tier_changed and score.previous_tier:
        old = score.previous_tier  # the stored tier, or on a first score the tier a period ago
        props["previous_tier"] = old
        props["tier_changed_at"] = as_of
        order = ("ORDINARY", "KEY", "CORE")
        change = {
            "change_id": f"{score.customer_id}:{as_of.isoformat()}:{old}->{score.tier}",
            "customer_id": score.customer_id,
            "from_tier": old,
            "to_tier": score.tier,
            "direction": "UP" if order.index(score.tier) > order.index(old) else "DOWN",
            "changed_at": as_of,
            "aum": score.aum,
            "basis": "previous score" if stored_tier else "balance history",
        }
    return {"customer_id": score.customer_id, "props": props, "change": change}


def _pages(
    driver: Driver,
    database: str,
    query: str,
    *,
    ids: list[str] | None,
    batch_size: int,
    **params: Any,
) -> Iterator[list[dict[str, Any]]]:
    if ids is not None:  # a selection: its ids a page at a time, never the whole list at once
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), batch_size):
            chunk = wanted[start : start + batch_size]
            rows = session.rows(
                driver, database, query, after="", ids=chunk, limit=batch_size, **params
            )
            if rows:
                yield rows
        return
    after = ""
    while True:
        rows = session.rows(
            driver, database, query, after=after, ids=None, limit=batch_size, **params
        )
        if not rows:
            return
        yield rows
        after = rows[-1]["customer_id"] if "customer_id" in rows[-1] else rows[-1]["id"]


def _month_end(day: dt.date) -> dt.date:
    first_next = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _day(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if hasattr(value, "to_native"):  # neo4j.time types
        return _day(value.to_native())
    return value if isinstance(value, dt.date) else None


def data_as_of(month_end: Any, newest: list[Any], today: dt.date) -> tuple[dt.date, str]:
    """The as-of date the data gives, and how it was found: the newest month-end balance; else
    the end of the month of the newest dated fact (an account opened or closed, an interaction),
    but not after ``today``; else today. Dates after today are keying errors (an account "opened"
    in 2031) and ignored: one of them must not carry a 1998 bank to today."""
    found = _day(month_end)
    if found is not None and found <= today:
        return found, "newest month-end balance"
    dates = [d for d in (_day(v) for v in newest) if d is not None and d <= today]
    if dates:
        end = _month_end(max(dates))
        if end <= today:
            return end, "end of the newest data month"
        return today, "today (the newest data month has not ended)"
    return today, NO_DATED_DATA


def select_customers(
    driver: Driver, database: str, *, system: str | None = None, run_id: str | None = None
) -> list[str]:
    """The customers of a source system or of a load run (ScoringError when there are none)."""
    if system is not None:
        ids = [
            r["id"] for r in session.rows(driver, database, q.CUSTOMERS_OF_SYSTEM, system=system)
        ]
        if not ids:
            known = [r["system"] for r in session.rows(driver, database, q.SYSTEMS)]
            raise ScoringError(
                f"--system {system!r}: no customer has a record of that system "
                f"(systems in the graph: {', '.join(known) or 'none'})"
            )
        return ids
    if run_id is not None:
        run = session.rows(driver, database, q.LOAD_RUN, run_id=run_id)
        if not run:
            raise ScoringError(f"--run {run_id!r}: no such load run")
        ids = [r["id"] for r in session.rows(driver, database, q.CUSTOMERS_OF_RUN, run_id=run_id)]
        if not ids:
            raise ScoringError(
                f"--run {run_id!r} ({run[0]['status']}) wrote nothing of a customer that is "
                "still its own (a later load wrote those customers again, the run loaded no "
                "customer data, or it was a delta load that changed none: score by --system "
                "or all)"
            )
        return ids
    raise ValueError("select_customers needs a system or a run id")


def _selection_facts(
    driver: Driver, database: str, ids: list[str], batch_size: int, today: dt.date
) -> tuple[Any, list[Any], bool]:
    """Newest month-end, newest dates and whether any interaction exists, over some customers."""
    month_ends, newest, interactions = [], [], 0
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), batch_size):
        [r] = session.rows(
            driver,
            database,
            q.DATES_OF_CUSTOMERS,
            ids=wanted[start : start + batch_size],
            today=today,
        )
        month_ends.append(_day(r["month_end"]))
        newest += [r["opened"], r["closed"], r["occurred"]]
        interactions += int(r["interactions"] or 0)
    month_end = max((d for d in month_ends if d is not None), default=None)
    return month_end, newest, interactions > 0


@dataclass(frozen=True)
class Basis:
    """When a group of customers is scored, and whether its data has any interaction source."""

    as_of: dt.date
    how: str
    interaction_source: bool


NO_DATED_DATA = "today (no dated data)"


def combine(a: Basis, b: Basis) -> Basis:
    """The basis of a customer with records in two systems: the newer as-of of the two (a system
    with no dated data at all, such as a contact list, gives none: the other's), and an
    interaction source if either has one."""
    if (a.how == NO_DATED_DATA) != (b.how == NO_DATED_DATA):
        dated = b if a.how == NO_DATED_DATA else a
    else:
        dated = b if b.as_of > a.as_of else a
    return Basis(dated.as_of, dated.how, a.interaction_source or b.interaction_source)


def _global_basis(driver: Driver, database: str, as_of: dt.date | None, today: dt.date) -> Basis:
    month_end = session.rows(driver, database, q.AS_OF, today=today)[0]["as_of"]
    newest: list[Any] = []
    if month_end is None and as_of is None:
        newest = list(session.rows(driver, database, q.NEWEST_DATES, today=today)[0].values())
    found = bool(session.rows(driver, database, q.HAS_INTERACTIONS)[0]["found"])
    if as_of is not None:
        return Basis(as_of, "given", found)
    return Basis(*data_as_of(month_end, newest, today), found)


def _selection_basis(
    driver: Driver,
    database: str,
    ids: list[str],
    as_of: dt.date | None,
    today: dt.date,
    batch_size: int,
) -> Basis:
    month_end, newest, found = _selection_facts(driver, database, ids, batch_size, today)
    if as_of is not None:
        return Basis(as_of, "given", found)
    return Basis(*data_as_of(month_end, newest, today), found)


def _groups_by_system(
    driver: Driver, database: str, as_of: dt.date | None, today: dt.date, batch_size: int
) -> tuple[dict[Basis, list[str]], str]:
    """Every customer grouped by its basis when the graph holds several source systems: each
    system's as-of and interaction source from its own customers' data; a customer of several
    systems takes the newest as-of of its systems and has an interaction source if any of them
    has one; a customer without a source record takes the whole graph's. Also a description of
    the systems' dates for the summary."""
    systems = [r["system"] for r in session.rows(driver, database, q.SYSTEMS)]
    per_system: dict[str, Basis] = {}
    members: dict[str, list[str]] = {}
    for system in systems:
        members[system] = select_customers(driver, database, system=system)
        per_system[system] = _selection_basis(
            driver, database, members[system], as_of, today, batch_size
        )
    chosen: dict[str, Basis] = {}
    for system in systems:
        mine = per_system[system]
        for cid in members[system]:
            other = chosen.get(cid)
            chosen[cid] = mine if other is None else combine(other, mine)
    groups: dict[Basis, list[str]] = {}
    for cid, basis in chosen.items():
        groups.setdefault(basis, []).append(cid)
    orphans = [r["id"] for r in session.rows(driver, database, q.CUSTOMERS_WITHOUT_RECORD)]
    if orphans:
        groups.setdefault(_global_basis(driver, database, as_of, today), []).extend(orphans)
    told = "; ".join(
        f"{system} {b.as_of} ({b.how}{'' if b.interaction_source else ', no interactions'})"
        for system, b in per_system.items()
    )
    return groups, f"per source system: {told}"


def run_scoring(
    driver: Driver,
    *,
    database: str,
    cfg: ScoringConfig,
    as_of: dt.date | None = None,
    ids: list[str] | None = None,
    system: str | None = None,
    run_id: str | None = None,
    batch_size: int = 2000,
    progress: Progress | None = None,
) -> ScoringSummary:
    """Score every customer, or a system's (``system``), a load's (``run_id``) or some
    (``ids``); at most one of the three. See the module docstring for the as-of date."""
    if sum(x is not None for x in (ids, system, run_id)) > 1:
        raise ValueError("score customers by ids, by system or by load run: one at a time")
    started = time.monotonic()
    tick = progress or (lambda _stage, _n: None)
    mark_stale(
        driver, database
    )  # scores change under the KPI snapshots: `c360 score` rewrites them
    today = dt.datetime.now(dt.UTC).date()
    told = ""
    groups: dict[Basis, list[str] | None]
    if system is not None or run_id is not None:
        ids = select_customers(driver, database, system=system, run_id=run_id)
        tick("selected", len(ids))
        groups = {_selection_basis(driver, database, ids, as_of, today, batch_size): ids}
    elif ids is None and len(session.rows(driver, database, q.SYSTEMS)) > 1:
        by_system, told = _groups_by_system(driver, database, as_of, today, batch_size)
        groups = dict(by_system)
    else:
        groups = {_global_basis(driver, database, as_of, today): ids}
    newest = max(groups, key=lambda b: b.as_of)
    summary = ScoringSummary(
        as_of=newest.as_of,
        as_of_basis=told or newest.how,
        reporting_currency=cfg.reporting_currency,
        interaction_source=any(b.interaction_source for b in groups),
    )
    scored_at = dt.datetime.now(dt.UTC)
    infl = influence(driver, database, cfg)
    tick("influence", len(infl))
    for basis, group in sorted(groups.items(), key=lambda g: g[0].as_of):
        money = fx_rates(driver, database, basis.as_of, cfg.reporting_currency)
        _score_group(driver, database, cfg, basis, money, group, infl, scored_at, summary, tick,
                     batch_size)  # fmt: skip
        rollup(driver, database, cfg, money, ids=group, scored_at=scored_at, batch_size=batch_size)
    q.run_in_transactions(driver, database, q.REFERRED_AUM)
    tick("rollups", 1)
    write_recommendations(driver, database, cfg, ids=ids, batch_size=batch_size, progress=tick)
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


def _score_group(
    driver: Driver,
    database: str,
    cfg: ScoringConfig,
    basis: Basis,
    money: Money,
    ids: list[str] | None,
    infl: dict[str, tuple[float, float]],
    scored_at: dt.datetime,
    summary: ScoringSummary,
    tick: Progress,
    batch_size: int,
) -> None:
    """Score some customers (all when ``ids`` is None) as of one date, counting into ``summary``."""
    as_of = basis.as_of
    since = {
        "since_12m": as_of - dt.timedelta(days=365),
        "since_6m": as_of - dt.timedelta(days=182),
        "since_complaints": as_of - dt.timedelta(days=int(cfg["churn"]["recent_complaint_days"])),
    }
    for page in _pages(
        driver, database, q.CUSTOMER_FACTS_PAGE, ids=ids, batch_size=batch_size, **since
    ):
        rows = []
        for row in page:
            facts = _facts(row, as_of, infl, money, basis.interaction_source)
            score = score_customer(facts, cfg)
            out = score_row(
                score,
                as_of=as_of,
                stored_tier=row.get("previous_tier"),
                pagerank=infl.get(score.customer_id, (0.0, 0.0))[0],
                scored_at=scored_at,
                reporting_currency=money.reporting,
            )
            for currency in score.unconverted_currencies:
                summary.unconverted[currency] = summary.unconverted.get(currency, 0) + 1
            rows.append(out)
            summary.customers += 1
            summary.tier_changes += out["change"] is not None
            for bucket, key in (
                (summary.tiers, score.tier),
                (summary.downgrade, score.downgrade.level),
                (summary.churn, score.churn.level),
                (summary.lifecycle, score.lifecycle_stage),
            ):
                bucket[key] = bucket.get(key, 0) + 1
        session.run(driver, database, q.WRITE_SCORES, rows=rows)
        tick("customers", len(page))


def rollup(
    driver: Driver,
    database: str,
    cfg: ScoringConfig,
    money: Money,
    *,
    ids: list[str] | None,
    scored_at: dt.datetime,
    batch_size: int,
) -> None:
    """Household AUM and tier at ``money``'s rates: every household, or only those the given
    customers belong or belonged to (scoring one system never rolls up another system's
    households at its own as-of rates; one a scored customer left is rolled up without them)."""
    params: dict[str, Any] = {
        "asset_types": sorted(cfg.asset_types),
        "reporting": money.reporting,
        "rates": money.rates,
        "core_floor": cfg.floor("CORE"),
        "key_floor": cfg.floor("KEY"),
        "scored_at": scored_at,
    }
    if ids is None:
        q.run_in_transactions(driver, database, q.HOUSEHOLD_ROLLUP, **params)
        return
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), batch_size):
        chunk = wanted[start : start + batch_size]
        session.run(driver, database, q.HOUSEHOLD_ROLLUP_OF_CUSTOMERS, ids=chunk, **params)


def _shares(products: list[dict[str, Any]], size: int) -> dict[str, float]:
    return {p["code"]: p["holders"] / size for p in products if p and size}


def write_recommendations(
    driver: Driver,
    database: str,
    cfg: ScoringConfig,
    *,
    ids: list[str] | None,
    batch_size: int,
    progress: Progress,
) -> None:
    names = {r["code"]: r["name"] for r in session.rows(driver, database, q.PRODUCT_NAMES)}
    tier_city = {
        (r["tier"], r["city"]): PeerGroup(
            "TIER_CITY",
            r["size"],
            _shares(r["products"], r["size"]),
            tier=r["tier"],
            city=r["city"],
        )
        for r in session.rows(driver, database, q.TIER_CITY_PRODUCT_SHARES)
    }
    for page in _pages(driver, database, q.CUSTOMER_IDS_PAGE, ids=ids, batch_size=batch_size):
        rows = []
        for r in session.rows(driver, database, q.PEER_PRODUCTS_PAGE, ids=[p["id"] for p in page]):
            groups = [g for g in [tier_city.get((r["tier"], r["city"]))] if g]
            groups.append(
                PeerGroup(
                    "HOUSEHOLD",
                    r["household_size"],
                    _shares(r["household_products"], r["household_size"]),
                )
            )
            groups.append(
                PeerGroup(
                    "REFERRAL",
                    r["referral_size"],
                    _shares(r["referral_products"], r["referral_size"]),
                )
            )
            recs = recommend(set(r["held"]), groups, names, cfg)
            rows.append(
                {
                    "customer_id": r["customer_id"],
                    "recommendations_json": json.dumps(recs, ensure_ascii=False),
                    "product_codes": [rec["product_code"] for rec in recs],
                }
            )
        session.run(driver, database, q.WRITE_RECOMMENDATIONS, rows=rows)
        progress("recommendations", len(page))
