#!/usr/bin/env bash
# The README's two commands as a new machine runs them: a clone of HEAD in a temporary folder, an
# empty Maven repository (MAVEN_OPTS=-Dmaven.repo.local=...), an empty runtime cache
# (C360_CACHE_DIR), CI=true, and ports apart from a developer's running servers. Each command runs
# twice: first with the empty caches, then again (the repeat). `make demo` counts until the API
# answers /health/ready, then it is stopped (its Neo4j stops with it). After every run the script
# checks that no server of the run is left behind. Prints the wall times and the results; exits 1
# when a run fails or leaves a server behind.
#
#   scripts/fresh-machine-check.sh              # demo and test, each with empty caches + repeat
#   scripts/fresh-machine-check.sh test         # only `make test`
#   scripts/fresh-machine-check.sh demo         # only `make demo`
#   FRESH_KEEP=1 ...                            # keep the temporary folder (logs, clones)
#   FRESH_PORT_BASE=27000 ...                   # ports used: BASE+687 (test Neo4j), BASE+697
#                                               # (bench), BASE+787 (demo Neo4j), BASE+1000 (API)
#
# Each command gets its own clone and its own empty caches, so each "first run" downloads Neo4j
# (about 200 MB) and installs the venv from scratch (pip's and npm's download caches are kept).
set -euo pipefail

ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
WHAT=${1:-all}
case "$WHAT" in all | test | demo) ;; *)
  echo "usage: $0 [all|test|demo]" >&2
  exit 2
  ;;
esac
BASE=${FRESH_PORT_BASE:-27000}
export C360_TEST_NEO4J_PORT=$((BASE + 687)) C360_TEST_BENCH_PORT=$((BASE + 697))
export NEO4J_LOCAL_PORT=$((BASE + 787)) API_PORT=$((BASE + 1000))
export CI=true
unset NEO4J_URI C360_TEST_NEO4J_URI C360_HOME NEO4J_DATA_DIR C360_TEST_KEEP_NEO4J || true
PORTS=("$C360_TEST_NEO4J_PORT" "$C360_TEST_BENCH_PORT" "$NEO4J_LOCAL_PORT" "$API_PORT")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/c360-fresh.XXXXXX")
if [ -z "${FRESH_KEEP:-}" ]; then
  trap 'rm -rf "$WORK"' EXIT
fi
RESULTS=()
FAILED=0

listeners() { # the pids listening on any of the run's ports
  local port pids=""
  for port in "${PORTS[@]}"; do
    pids+=$(ss -Htlnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | tr '\n' ' ')
  done
  echo "$pids" | xargs
}

for port in "${PORTS[@]}"; do
  if [ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ]; then
    echo "port $port is in use (pids: $(listeners)); set FRESH_PORT_BASE to another base" >&2
    exit 2
  fi
done

fresh_clone() { # fresh_clone NAME -> a clone of HEAD with its own empty caches
  local dir="$WORK/$1"
  git clone -q "$ROOT" "$dir/repo"
  git -C "$dir/repo" checkout -q "$COMMIT"
  mkdir -p "$dir/m2" "$dir/cache"
  echo "$dir"
}

orphans() { # after a run: no server of it may still listen
  local left
  sleep 3
  left=$(listeners)
  if [ -n "$left" ]; then
    RESULTS+=("  LEFT BEHIND: pids $left still listen on the run's ports")
    FAILED=1
    kill $left 2>/dev/null || true
  fi
}

run_test() { # run_test DIR LABEL
  local dir=$1 label=$2 start end rc=0 summary
  start=$(date +%s)
  (cd "$dir/repo" && MAVEN_OPTS="-Dmaven.repo.local=$dir/m2" C360_CACHE_DIR="$dir/cache" \
    make test) >"$dir/$label.log" 2>&1 || rc=$?
  end=$(date +%s)
  summary=$(grep -E '^=+ .*(passed|failed|error).* =+$' "$dir/$label.log" | tail -1 | tr -d '=' | xargs || true)
  RESULTS+=("make test, $label: exit $rc in $((end - start)) s (${summary:-no pytest summary}); log $dir/$label.log")
  if [ "$rc" -ne 0 ]; then
    FAILED=1
    echo "--- make test, $label failed; the end of its log:"
    tail -40 "$dir/$label.log"
  fi
  orphans
}

run_demo() { # run_demo DIR LABEL: until /health/ready answers 200, then stop it
  local dir=$1 label=$2 start now rc=0 pid ready=""
  start=$(date +%s)
  (cd "$dir/repo" && MAVEN_OPTS="-Dmaven.repo.local=$dir/m2" C360_CACHE_DIR="$dir/cache" \
    exec setsid make demo) >"$dir/$label.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if curl -fsS -o /dev/null "http://127.0.0.1:$API_PORT/health/ready" 2>/dev/null; then
      ready=$(($(date +%s) - start))
      break
    fi
    now=$(date +%s)
    if [ $((now - start)) -gt 3600 ]; then break; fi
    sleep 2
  done
  if [ -n "$ready" ]; then
    RESULTS+=("make demo, $label: /health/ready answered 200 after $ready s; log $dir/$label.log")
  else
    wait "$pid" 2>/dev/null || rc=$?
    RESULTS+=("make demo, $label: FAILED (exit $rc, never ready); log $dir/$label.log")
    FAILED=1
    echo "--- make demo, $label failed; the end of its log:"
    tail -40 "$dir/$label.log"
  fi
  # Ctrl-C as a user would: the whole process group of make gets SIGINT.
  kill -INT -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  orphans
}

echo "fresh-machine check of $COMMIT in $WORK (ports ${PORTS[*]})"
T0=$(date +%s)
if [ "$WHAT" = all ] || [ "$WHAT" = demo ]; then
  dir=$(fresh_clone demo)
  echo "make demo with empty caches ..."
  run_demo "$dir" first
  echo "make demo again (repeat) ..."
  run_demo "$dir" repeat
fi
if [ "$WHAT" = all ] || [ "$WHAT" = test ]; then
  dir=$(fresh_clone test)
  echo "make test with empty caches ..."
  run_test "$dir" first
  echo "make test again (repeat) ..."
  run_test "$dir" repeat
fi
echo
echo "fresh-machine check of $COMMIT: $((($(date +%s) - T0))) s in all"
printf '%s\n' "${RESULTS[@]}"
if [ "$FAILED" -ne 0 ]; then
  echo "RESULT: FAILED"
  [ -n "${FRESH_KEEP:-}" ] || echo "(run with FRESH_KEEP=1 to keep the logs)"
  exit 1
fi
echo "RESULT: passed"
