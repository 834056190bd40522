"""The management KPIs' counts per period, written after a scoring run so that a report at bank
size reads a few nodes instead of counting a million customers (scoring/kpi_snapshots.py).

A run writes ``(:KpiSnapshotRun {run_id, started_at, periods, complete: false})``, then one
``(:KpiSnapshot {snapshot_id, run_id, groups, group, period, counts_json})`` per group of
customers (graph/queries/kpis.KpiGroups: the bank, every branch, every RM) and period, then marks
the run complete with its ``computed_at`` and deletes the earlier runs' nodes. Readers take the
newest complete run, so they never see half a set."""

from __future__ import annotations

BEGIN = """CREATE (:KpiSnapshotRun {run_id: $run_id, started_at: $now, periods: $periods,
                                complete: false})"""

WRITE = """UNWIND $rows AS r
CREATE (:KpiSnapshot {snapshot_id: $run_id + '|' + r.groups + '|' + r.group + '|' + r.period,
                      run_id: $run_id, groups: r.groups, group: r.group, period: r.period,
                      counts_json: r.counts_json})"""

FINISH = """MATCH (run:KpiSnapshotRun {run_id: $run_id})
SET run.complete = true, run.computed_at = $computed_at, run.snapshots = $snapshots"""

# the earlier runs' nodes, a batch at a time (the caller repeats until it returns 0)
PRUNE = """MATCH (s:KpiSnapshot) WHERE s.run_id <> $run_id
WITH s LIMIT $batch
DETACH DELETE s
RETURN count(*) AS deleted"""
PRUNE_RUNS = """MATCH (run:KpiSnapshotRun) WHERE run.run_id <> $run_id
  AND NOT EXISTS { MATCH (s:KpiSnapshot) WHERE s.run_id = run.run_id }
DETACH DELETE run"""

# The newest complete run, whether the graph changed under it since it started (a load run that
# started or finished after it), and its counts for $groups in $labels: all the groups
# ($group_id null), one group, or the RMs working at $branch_id ($branch_rms).
READ = """OPTIONAL MATCH (run:KpiSnapshotRun) WHERE run.complete
WITH run ORDER BY run.computed_at DESC LIMIT 1
WITH run, CASE WHEN run IS NULL THEN 0 ELSE COUNT {
  MATCH (l:LoadRun) WHERE coalesce(l.finished_at, l.started_at) >= run.started_at } END AS newer
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
