"""The KPI snapshots `c360 score` writes after scoring: every group's counts for the standard
periods, so a bank-wide report at a million customers reads a few nodes.

Why: a report counts every customer of its scope with their complaints, surveys, tier changes and
accounts (graph/queries/kpis.py); at bank size that is minutes, against a target of 2 s. The
periods management reports on are closed quarters, half-years and years, and their figures move
only when data arrives: so the scoring job, which runs after each load, counts them once.

What is written: for the bank, every branch and every RM (graph/queries/kpis.KpiGroups), the
counts of each standard period that ended before the run (the last ``QUARTERS`` quarters,
``HALVES`` half-years and ``YEARS`` years: a trend of 12 quarters and every comparison with the
previous period among them), by the same query a live report sends (``counts_request``), with
the same ``now``. The live figures (downgrade risk, completeness) are as of the run too.

When a report uses them (resolvers/kpis.py): its periods are all in the newest complete run and
no load run started or finished since that run began; otherwise it counts live. So after
``c360 load`` and before ``c360 score`` figures are live (slow at bank size, but never stale);
what the API writes between runs (a complaint answered, a survey logged) shows at the next run.
The report says which: ``source`` and ``computedAt``."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neo4j import Driver

from core.periods import Period, PeriodKind, last_complete
from core.quality import quality_config
from core.settings import Settings
from core.sla import sla_params
from graph import session
from graph.queries import kpi_snapshots as sq
from graph.queries import kpis as q

KpiGroups = q.KpiGroups
# The console's dashboard offers the last 12 quarters, each with a trend of 8 (19 quarters) and
# the previous one; tests/test_kpi_snapshots.py reads its constants and holds them to this.
QUARTERS, HALVES, YEARS = 20, 5, 3
# the kinds of group a snapshot holds, and where each scope's figures are found in it
SNAPSHOT_GROUPS = (KpiGroups.BANK, KpiGroups.EVERY_BRANCH, KpiGroups.EVERY_RELATIONSHIP_MANAGER)
SNAPSHOT_OF: dict[KpiGroups, KpiGroups] = {
    KpiGroups.BANK: KpiGroups.BANK,
    KpiGroups.BRANCH: KpiGroups.EVERY_BRANCH,
    KpiGroups.RELATIONSHIP_MANAGER: KpiGroups.EVERY_RELATIONSHIP_MANAGER,
    KpiGroups.EVERY_BRANCH: KpiGroups.EVERY_BRANCH,
    KpiGroups.EVERY_RELATIONSHIP_MANAGER: KpiGroups.EVERY_RELATIONSHIP_MANAGER,
    KpiGroups.BRANCH_RELATIONSHIP_MANAGERS: KpiGroups.EVERY_RELATIONSHIP_MANAGER,
}
WRITE_BATCH = 2000

Progress = Callable[[str, int], None]


def counts_request(
    settings: Settings,
    groups: KpiGroups,
    group_id: str | None,
    periods: dict[str, Period],
    now: dt.datetime,
) -> tuple[str, dict[str, Any]]:
    """The one query counting a report's, ranking's or trend's periods, and its parameters (the
    API, ``c360 kpis`` and the snapshots send the same). ``periods``: window key -> period."""
    windows = [window(key, p) for key, p in periods.items()]
    return q.KPI_COUNTS[groups], {
        **sla_params(settings, now),
        **q.span(windows),
        "windows": windows,
        "branch_id": group_id
        if groups in (KpiGroups.BRANCH, KpiGroups.BRANCH_RELATIONSHIP_MANAGERS)
        else None,
        "rm_id": group_id if groups is KpiGroups.RELATIONSHIP_MANAGER else None,
        "properties": [f.property for f in quality_config().fields],
    }


def window(key: str, period: Period) -> dict[str, Any]:
    lo, hi = period.instants()
    return {"key": key, "start": period.start, "end": period.end, "from": lo, "to": hi}


def snapshot_periods(today: dt.date) -> list[Period]:
    """The standard periods a run counts: those that ended before ``today``, newest last per kind."""
    out: list[Period] = []
    for kind, count in (
        (PeriodKind.QUARTER, QUARTERS),
        (PeriodKind.HALF_YEAR, HALVES),
        (PeriodKind.YEAR, YEARS),
    ):
        out.extend(last_complete(kind, today).back(count))
    return out


def _jsonable(value: Any) -> Any:
    if hasattr(value, "to_native"):
        value = value.to_native()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def encode(counts: dict[str, Any]) -> str:
    return json.dumps({k: _jsonable(v) for k, v in counts.items()}, sort_keys=True)


def decode(counts_json: str) -> dict[str, Any]:
    counts = json.loads(counts_json)
    if isinstance(counts.get("scored_at"), str):
        counts["scored_at"] = dt.datetime.fromisoformat(counts["scored_at"])
    return counts


class SnapshotReplaced(RuntimeError):
    """A newer snapshot run pruned this one before it finished (two `c360 score` at once)."""


def mark_stale(driver: Driver, database: str) -> None:
    """A scoring run begins: the current snapshots stop being read until new ones are written."""
    session.run(driver, database, sq.STALE, now=dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class SnapshotSummary:
    run_id: str
    periods: int
    snapshots: int
    seconds: float


def write_snapshots(
    driver: Driver,
    *,
    database: str,
    settings: Settings,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> SnapshotSummary:
    """Count every snapshot group's standard periods and replace the previous run's snapshots.
    Readers keep using the previous run until this one is complete."""
    started = time.monotonic()
    now = now or dt.datetime.now(dt.UTC)
    tick = progress or (lambda _stage, _n: None)
    periods = snapshot_periods(now.date())
    run_id = f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    labels = [p.label for p in periods]
    session.run(driver, database, sq.BEGIN, run_id=run_id, now=now, periods=labels)
    written = 0
    for groups in SNAPSHOT_GROUPS:
        query, params = counts_request(settings, groups, None, {p.label: p for p in periods}, now)
        [row] = session.rows(driver, database, query, **params)
        batch = [
            {"groups": groups.value, "group": group, "period": label, "counts_json": encode(counts)}
            for label, by_group in q.by_window(row, labels).items()
            for group, counts in by_group.items()
        ]
        for i in range(0, len(batch), WRITE_BATCH):
            session.run(driver, database, sq.WRITE, run_id=run_id, rows=batch[i : i + WRITE_BATCH])
        written += len(batch)
        tick(f"kpi snapshots: {groups.value}", len(batch))
    finished = session.run(
        driver,
        database,
        sq.FINISH,
        run_id=run_id,
        computed_at=dt.datetime.now(dt.UTC),
        snapshots=written,
    ).properties_set
    if not finished:
        raise SnapshotReplaced(
            f"KPI snapshot run {run_id} was replaced by a newer run while it was written"
        )
    [older] = session.rows(driver, database, sq.OLDER_RUNS, run_id=run_id)
    while session.run(driver, database, sq.PRUNE, runs=older["runs"], batch=10_000).nodes_deleted:
        pass
    session.run(driver, database, sq.PRUNE_RUNS, runs=older["runs"])
    return SnapshotSummary(run_id, len(periods), written, time.monotonic() - started)
