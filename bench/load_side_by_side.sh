#!/bin/bash
# One bank load with the c360 of a given checkout, into a fresh graph and a fresh C360_HOME, with
# the bank benchmark's Neo4j settings and batch size, no spool: to compare two versions of the
# loader one after the other on one machine (README "Benchmarks").
#
#   git worktree add /tmp/before <commit> && make -C /tmp/before venv
#   bench/load_side_by_side.sh before /tmp/before .c360/bench/bank/extracts
#   bench/load_side_by_side.sh after  .            .c360/bench/bank/extracts
#
# Figures: WORK/NAME/report.json (the loader's --report-json), WORK/NAME/time.log (GNU time:
# wall clock, peak RSS, the loader's CPU), Neo4j's peak RSS and CPU printed at the end. WORK
# defaults to /tmp/c360-sbs.
set -euo pipefail
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
NAME=$1
TREE=$(cd "$2" && pwd)
EXTRACTS=$(cd "$3" && pwd)
W=${WORK:-/tmp/c360-sbs}/$NAME
rm -rf "$W"
mkdir -p "$W/home"
unset NEO4J_URI
export NEO4J_LOCAL_PORT=${BENCH_NEO4J_PORT:-7697} NEO4J_DATA_DIR=$W/neo4j NEO4J_HEAP=4g \
  NEO4J_PAGECACHE=8g C360_HOME=$W/home LOAD_BATCH_SIZE=10000
C=$TREE/.venv/bin/c360
"$C" neo4j start >"$W/neo4j-start.log" 2>&1
trap '"$C" neo4j stop >/dev/null 2>&1 || true' EXIT
"$C" graph migrate >"$W/migrate.log" 2>&1
echo "$(date +%T) $NAME: load start"
rc=0
/usr/bin/time -v "$C" load "$EXTRACTS" --no-progress --report-json "$W/report.json" \
  >"$W/load.log" 2>"$W/time.log" || rc=$?
echo "$(date +%T) $NAME: load end, exit $rc (1: loaded, the planted bad rows refused)"
grep -E "Elapsed|Maximum resident" "$W/time.log"
PID=$(cat "$W/neo4j/c360-neo4j.pid")
grep VmHWM "/proc/$PID/status"
# Neo4j's CPU time since it started (user + system, /proc/PID/stat fields 14 and 15)
awk -v hz="$(getconf CLK_TCK)" '{printf "Neo4j CPU: %.1f s\n", ($14 + $15) / hz}' "/proc/$PID/stat"
