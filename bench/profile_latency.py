"""Latency of the full customer(id) profile over HTTP: N sequential requests against a served API.

Usage: python bench/profile_latency.py [--url http://127.0.0.1:8000/graphql] [--requests 1000]
Needs the API served (make demo) on a loaded, scored bank. Prints median, p95, p99 and the
graph round trips per request (from extensions.roundTrips, reported outside production).
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from auth.policy import Role
from auth.tokens import DevTokenRequest, issue_dev_token
from core.settings import get_settings
from graph import session
from graph.driver import create_sync_driver
from graph.queries import bench as bq

PROFILE = """query Profile($id: ID!) { customer(id: $id) {
  id name gender birthDate phone email address city segment status aum
  accounts { id productType productName balance holderRole maturityDate }
  household { id name role aum tier }
  value { tier previousTier score components { name weight raw score } clv influence lifecycleStage }
  risk { downgrade { level projectedAum floor evaluationDate reasons } churn { level reasons } }
  recommendations { productCode name reason }
  relationshipManager { id name } referredBy { id name } referrals { id name }
  sourceRecords { system sourceId rule confidence }
  interactions(first: 10) { totalCount items { id channel kind occurredAt summary slaStatus } }
} }"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    ap.add_argument("--requests", type=int, default=1000)
    args = ap.parse_args()
    settings = get_settings()
    with create_sync_driver(settings) as driver:
        ids = [
            r["id"] for r in session.rows(driver, settings.neo4j_database, bq.FIRST_CUSTOMER_IDS)
        ]
    token = issue_dev_token(settings, DevTokenRequest(role=Role.ADMIN, subject="bench"))
    headers = {"Authorization": f"Bearer {token}"}
    times, trips, errors = [], [], 0
    with httpx.Client(headers=headers, timeout=10) as client:
        for i in range(args.requests + 20):
            started = time.perf_counter()
            body = client.post(
                args.url, json={"query": PROFILE, "variables": {"id": ids[i % len(ids)]}}
            ).json()
            elapsed = time.perf_counter() - started
            if i < 20:  # warm-up
                continue
            times.append(elapsed * 1000)
            errors += bool(body.get("errors"))
            trips.append(body.get("extensions", {}).get("roundTrips", -1))
    q = statistics.quantiles(times, n=100)
    print(f"customer(id) full profile, {len(times)} sequential requests over HTTP")
    print(
        f"median {statistics.median(times):.1f} ms  p95 {q[94]:.1f} ms  p99 {q[98]:.1f} ms  "
        f"errors {errors}  round trips per request {sorted(set(trips))}"
    )


if __name__ == "__main__":
    main()
