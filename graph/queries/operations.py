"""Operational reads: load runs; the titles that make a relationship manager (the assignment
itself: graph/queries/coverage.py)."""

from __future__ import annotations

LOAD_RUNS = """
MATCH (r:LoadRun)
RETURN r {.*} AS run
ORDER BY r.started_at DESC, r.run_id DESC
LIMIT $limit
"""

# A page of load runs, newest first, after the (started_at, run_id) of the previous page's last
# run, with the number of all runs.
LOAD_RUNS_PAGE = """
CALL () { MATCH (r:LoadRun) RETURN count(r) AS total }
OPTIONAL MATCH (r:LoadRun)
WHERE $after_at IS NULL OR r.started_at < $after_at
   OR (r.started_at = $after_at AND r.run_id < $after_id)
WITH total, r ORDER BY r.started_at DESC, r.run_id DESC LIMIT $limit
RETURN total, collect(r {.*}) AS runs
"""

# Employee titles (lower-cased) that make a relationship manager, as the source systems spell
# them: core's 'Relationship Manager', the short 'RM', and 客户经理.
RELATIONSHIP_MANAGER_TITLES = ("relationship manager", "rm", "客户经理")
