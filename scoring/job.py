"""`c360 score`: read facts page by page, apply the rules, write the scores back.

Memory stays bounded: customers are read and written in pages of ``batch_size`` by key; only the
referral graph (edges) is held whole, for PageRank. Roll-ups (household AUM and tier, assets
brought in by referrals) run inside Neo4j in batched transactions.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from neo4j import Driver

from graph import session
from graph.queries import scoring as q
from scoring.config import ScoringConfig
from scoring.rules import (
    AccountFacts,
    CustomerFacts,
    CustomerScore,
    PeerGroup,
    recommend,
    score_customer,
)

Progress = Callable[[str, int], None]


@dataclass
class ScoringSummary:
    as_of: dt.date
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


def _facts(
    row: dict[str, Any], as_of: dt.date, infl: dict[str, tuple[float, float]]
) -> CustomerFacts:
    accounts = tuple(
        AccountFacts(
            product_type=a.get("product_type") or "UNKNOWN",
            balance=float(a.get("balance") or 0.0),
            status=a.get("status") or "OPEN",
            product_code=a.get("product_code"),
            monthly_balances=tuple(float(x) for x in (a.get("monthly_balances") or ())),
            maturity_date=a.get("maturity_date"),
            holder_role=a.get("holder_role") or "PRIMARY",
        )
        for a in row["accounts"]
    )
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
        satisfaction_recent=row.get("satisfaction_recent"),
        satisfaction_earlier=row.get("satisfaction_earlier"),
        nps_recent=row.get("nps_recent"),
        previous_tier=row.get("previous_tier"),
        influence_percentile=infl.get(row["customer_id"], (0.0, 0.0))[1],
    )


def score_row(
    score: CustomerScore,
    *,
    as_of: dt.date,
    stored_tier: str | None,
    pagerank: float,
    scored_at: dt.datetime,
) -> dict[str, Any]:
    """The properties written on the Customer, and a TierChange when the tier moved."""
    d = score.downgrade
    props: dict[str, Any] = {
        "aum": score.aum,
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
        "downgrade_reasons": list(d.reasons),
        "projected_aum": d.projected_aum,
        "tier_floor": d.floor,
        "evaluation_date": d.evaluation_date,
        "churn_risk_level": score.churn.level,
        "churn_reasons": list(score.churn.reasons),
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
    after = ""
    while True:
        rows = session.rows(
            driver, database, query, after=after, ids=ids, limit=batch_size, **params
        )
        if not rows:
            return
        yield rows
        after = rows[-1]["customer_id"] if "customer_id" in rows[-1] else rows[-1]["id"]


def run_scoring(
    driver: Driver,
    *,
    database: str,
    cfg: ScoringConfig,
    as_of: dt.date | None = None,
    ids: list[str] | None = None,
    batch_size: int = 2000,
    progress: Progress | None = None,
) -> ScoringSummary:
    started = time.monotonic()
    tick = progress or (lambda _stage, _n: None)
    if as_of is None:
        found = session.rows(driver, database, q.AS_OF)[0]["as_of"]
        as_of = found if found is not None else dt.datetime.now(dt.UTC).date()
    summary = ScoringSummary(as_of=as_of)
    scored_at = dt.datetime.now(dt.UTC)
    infl = influence(driver, database, cfg)
    tick("influence", len(infl))

    since = {
        "since_12m": as_of - dt.timedelta(days=365),
        "since_6m": as_of - dt.timedelta(days=182),
    }
    for page in _pages(
        driver, database, q.CUSTOMER_FACTS_PAGE, ids=ids, batch_size=batch_size, **since
    ):
        rows = []
        for row in page:
            score = score_customer(_facts(row, as_of, infl), cfg)
            out = score_row(
                score,
                as_of=as_of,
                stored_tier=row.get("previous_tier"),
                pagerank=infl.get(score.customer_id, (0.0, 0.0))[0],
                scored_at=scored_at,
            )
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

    q.run_in_transactions(driver, database, q.REFERRED_AUM)
    q.run_in_transactions(
        driver,
        database,
        q.HOUSEHOLD_ROLLUP,
        asset_types=sorted(cfg.asset_types),
        core_floor=cfg.floor("CORE"),
        key_floor=cfg.floor("KEY"),
        scored_at=scored_at,
    )
    tick("rollups", 1)
    write_recommendations(driver, database, cfg, ids=ids, batch_size=batch_size, progress=tick)
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


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
            f"{r['tier']} customers in {r['city'] or 'your city'}",
            r["size"],
            _shares(r["products"], r["size"]),
        )
        for r in session.rows(driver, database, q.TIER_CITY_PRODUCT_SHARES)
    }
    for page in _pages(driver, database, q.CUSTOMER_IDS_PAGE, ids=ids, batch_size=batch_size):
        rows = []
        for r in session.rows(driver, database, q.PEER_PRODUCTS_PAGE, ids=[p["id"] for p in page]):
            groups = [g for g in [tier_city.get((r["tier"], r["city"]))] if g]
            groups.append(
                PeerGroup(
                    "your household",
                    r["household_size"],
                    _shares(r["household_products"], r["household_size"]),
                )
            )
            groups.append(
                PeerGroup(
                    "customers in your referral circle",
                    r["referral_size"],
                    _shares(r["referral_products"], r["referral_size"]),
                )
            )
            recs = recommend(set(r["held"]), groups, names, cfg)
            rows.append(
                {
                    "customer_id": r["customer_id"],
                    "recommendations_json": json.dumps(recs, ensure_ascii=False),
                }
            )
        session.run(driver, database, q.WRITE_RECOMMENDATIONS, rows=rows)
        progress("recommendations", len(page))
