"""The management KPIs' counts per period, written after a scoring run so that a report at bank
size reads a few nodes instead of counting a million customers (scoring/kpi_snapshots.py).

A run writes ``(:KpiSnapshotRun {run_id, started_at, periods, complete: false})``, then one
``(:KpiSnapshot {snapshot_id, run_id, groups, group, period, counts_json})`` per group of
customers (graph/queries/kpis.KpiGroups: the bank, every branch, every RM) and period, then marks
the run complete with its ``computed_at`` and deletes the nodes of the runs that started before
it. Readers take the newest complete run, so they never see half a set; a scoring run marks the
snapshots incomplete when it begins (``STALE``), so they are never read against new scores."""

from __future__ import annotations

BEGIN = """CREATE (:KpiSnapshotRun {run_id: $run_id, started_at: $now, periods: $periods,
                                complete: false})"""

# a run a newer one replaced (its node pruned) writes nothing and cannot finish
WRITE = """MATCH (:KpiSnapshotRun {run_id: $run_id})
UNWIND $rows AS r
CREATE (:KpiSnapshot {snapshot_id: $run_id + '|' + r.groups + '|' + r.group + '|' + r.period,
                      run_id: $run_id, groups: r.groups, group: r.group, period: r.period,
                      counts_json: r.counts_json})"""

FINISH = """MATCH (run:KpiSnapshotRun {run_id: $run_id})
SET run.complete = true, run.computed_at = $computed_at, run.snapshots = $snapshots"""

# The runs that started before this one (complete, failed or still being written: a run that
# started earlier and finishes later would hold older counts); never a run started after it.
OLDER_RUNS = """MATCH (mine:KpiSnapshotRun {run_id: $run_id})
MATCH (run:KpiSnapshotRun) WHERE run.started_at < mine.started_at
RETURN collect(run.run_id) AS runs"""
# their nodes, a batch at a time (the caller repeats until nothing is deleted), then the runs
PRUNE = """MATCH (s:KpiSnapshot) WHERE s.run_id IN $runs
WITH s LIMIT $batch
DETACH DELETE s"""
PRUNE_RUNS = """MATCH (run:KpiSnapshotRun) WHERE run.run_id IN $runs
DETACH DELETE run"""

# A scoring run begins: the snapshots no longer hold what the graph says (tiers, tier changes,
# risks, recommendations) until `c360 score` writes new ones; until then reports count live.
STALE = """MATCH (run:KpiSnapshotRun) WHERE run.complete
SET run.complete = false, run.stale_since = $now"""

# The newest complete run, whether the graph changed under it since it started (a load run that
# started or finished after it, or one still running), and its counts for $groups in $labels: all the groups
# ($group_id null), one group, or the RMs working at $branch_id ($branch_rms).
READ = """OPTIONAL MATCH (run:KpiSnapshotRun) WHERE run.complete
WITH run ORDER BY run.computed_at DESC LIMIT 1
WITH run, CASE WHEN run IS NULL THEN 0 ELSE COUNT {
  MATCH (l:LoadRun)
  WHERE coalesce(l.finished_at, l.started_at) >= run.started_at
     OR (l.status = 'RUNNING' AND l.finished_at IS NULL) } END AS newer
WITH run, newer,
     CASE WHEN $branch_rms
          THEN [(:Branch {branch_id: $branch_id})<-[:WORKS_AT]-(e:Employee) | e.employee_id]
     END AS members
CALL (run, members) {
  OPTIONAL MATCH (s:KpiSnapshot {run_id: run.run_id, groups: $groups})
  WHERE s.period IN $labels AND ($group_id IS NULL OR s.group = $group_id)
    AND (members IS NULL OR s.group IN members)
  RETURN collect({period: s.period, group: s.group, counts_json: s.counts_json}) AS snapshots
}
RETURN run.run_id AS run_id, run.computed_at AS computed_at, coalesce(run.periods, []) AS periods,
       newer, snapshots"""

LATEST = """MATCH (run:KpiSnapshotRun) WHERE run.complete
RETURN run.run_id AS run_id, run.started_at AS started_at, run.computed_at AS computed_at,
       run.periods AS periods, run.snapshots AS snapshots
ORDER BY run.computed_at DESC LIMIT 1"""
