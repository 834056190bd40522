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
# defaults to /tmp/c360-sbs. The trace, to see what waits for what: WORK/NAME/load.log has the
# seconds since the start before each of the loader's lines, and WORK/NAME/cpu.tsv once a second
# the seconds since the start, the CPU seconds (user + system, /proc/PID/stat) used so far by the
# loader and by Neo4j (since it started: subtract the first row's), the loader's RSS in MiB and
# that of its Python children (a bulk load's files process) added.
# LOAD_ARGS adds options to `c360 load` (e.g. LOAD_ARGS=--bulk-import: the offline importer).
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
PID=$(cat "$W/neo4j/c360-neo4j.pid")
HZ=$(getconf CLK_TCK)
T0=$(date +%s.%N)
since() { awk -v t0="$T0" -v t="$(date +%s.%N)" 'BEGIN { printf "%7.1f", t - t0 }'; }
cpu() { awk -v hz="$HZ" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null; }
stamp() { while IFS= read -r line; do printf '%s %s\n' "$(since)" "$line"; done; }
sample() {  # until the loader (GNU time's child that runs `c360 load`) is gone
  local loader=""
  while [ -z "$loader" ] && kill -0 "$1" 2>/dev/null; do
    loader=$(pgrep -P "$1" -f " load " || true)
    sleep 0.2
  done
  [ -n "$loader" ] || return 0
  printf 'seconds\tloader_cpu_s\tneo4j_cpu_s\tloader_rss_mib\tloader_children_rss_mib\n' \
    >"$W/cpu.tsv"
  while kill -0 "$loader" 2>/dev/null; do
    rss=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$loader/status" 2>/dev/null || true)
    kids=0  # the loader's Python children (a bulk load's files process; not the java importer)
    for kid in $(pgrep -P "$loader" || true); do
      [ "$(cat "/proc/$kid/comm" 2>/dev/null)" = java ] && continue
      kids=$((kids + $(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$kid/status" 2>/dev/null \
        || echo 0)))
    done
    printf '%s\t%s\t%s\t%s\t%s\n' "$(since)" "$(cpu "$loader")" "$(cpu "$PID")" "$rss" "$kids" \
      >>"$W/cpu.tsv"
    sleep 1
  done
}
rc=0
/usr/bin/time -v -o "$W/time.log" "$C" load "$EXTRACTS" --no-progress ${LOAD_ARGS:-} \
  --report-json "$W/report.json" > >(stamp >"$W/load.log") 2>&1 &
TIMED=$!
sample "$TIMED" &
SAMPLER=$!
wait "$TIMED" || rc=$?
wait "$SAMPLER" || true
echo "$(date +%T) $NAME: load end, exit $rc (1: loaded, the planted bad rows refused)"
grep -E "Elapsed|Maximum resident" "$W/time.log"
grep VmHWM "/proc/$PID/status"
echo "Neo4j CPU since it started: $(cpu "$PID") s"
