# The two commands of the README: `make demo` (the main job) and `make test` (the tests).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

SIZE ?= small

.PHONY: bench demo test check lint typecheck format schema neo4j-prepare neo4j-start neo4j-stop neo4j-status venv console-build clients chromium fresh-machine-check

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

BANK := .c360/bank

## The console (issue 8): npm ci && npm run build into console/dist, re-run only when its
## sources or lock file change (stamp file). Needs Node.js 18+ and npm (registry access).
CONSOLE_STAMP := console/dist/.built-stamp
CONSOLE_SOURCES := $(wildcard console/src/*) console/package.json console/package-lock.json console/build.mjs

$(CONSOLE_STAMP): $(CONSOLE_SOURCES)
	cd console && npm ci --no-audit --no-fund && npm run build
	touch $(CONSOLE_STAMP)

console-build: $(CONSOLE_STAMP)

## The real JavaScript clients the tests drive (Apollo Client, graphql-http's audit), pinned in
## tests/clients/package-lock.json; re-installed only when the lock file changes.
CLIENTS_STAMP := tests/clients/node_modules/.installed-stamp

$(CLIENTS_STAMP): tests/clients/package.json tests/clients/package-lock.json
	cd tests/clients && npm ci --no-audit --no-fund
	touch $(CLIENTS_STAMP)

clients: $(CLIENTS_STAMP)

## Debian's Chromium for the browser tests (installed with apt when /usr/bin/chromium is missing).
chromium:
	scripts/ensure-chromium.sh

## Neo4j's jars (about 150 MB, downloaded once, with progress) and the compiled launcher.
neo4j-prepare: venv
	$(BIN)/c360 neo4j prepare

## The main job: start Neo4j, generate (once), load and score the synthetic bank, serve the API.
## `c360 load` exits 1 when it refused rows (the bank has planted bad rows): that is expected.
## The demo's Neo4j stops with this make (Ctrl-C, or make killed); `make neo4j-start` keeps one.
demo: neo4j-prepare console-build
	$(BIN)/c360 neo4j start --stop-with $$PPID
	test -f $(BANK)/ground_truth/identities.csv || \
		$(BIN)/c360 generate --customers 2000 --seed 42 --out $(BANK)
	$(BIN)/c360 load $(BANK) || test $$? -eq 1
	$(BIN)/c360 score
	@echo "A development token for relationship manager E00002 (1 h; more with c360 token --help):"
	@$(BIN)/c360 token --role relationship_manager --employee E00002
	@echo "The relationship-manager console: http://127.0.0.1:8000/console/"
	@echo "The management dashboard: http://127.0.0.1:8000/console/#/dashboard (sign in as a branch manager, an auditor or an admin)"
	$(BIN)/c360 serve

## The tests: lint, format check and types first, then pytest against the test Neo4j (started
## or reused by the tests; its runtime is prepared before pytest, so no test waits for a download).
test: neo4j-prepare console-build clients chromium lint typecheck
	$(BIN)/pytest

## The benchmarks (issue 7): `make bench` (10k customers), `SIZE=medium` (200k) or `SIZE=bank` (1M).
## Own Neo4j on port 7697 (BENCH_NEO4J_PORT); report in bench/results/<date>-<size>.{json,md}.
bench: venv
	$(BIN)/python -m bench.run --size $(SIZE)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy .

format: venv
	$(BIN)/ruff format .

check: test

## Clone HEAD and run the README's commands there as a new machine would (empty Maven repository
## and runtime cache, CI=true, ports apart from yours); prints wall times and results.
fresh-machine-check:
	scripts/fresh-machine-check.sh

schema: venv
	$(BIN)/c360 export-schema

neo4j-start: neo4j-prepare
	$(BIN)/c360 neo4j start
neo4j-stop: venv
	$(BIN)/c360 neo4j stop
neo4j-status: venv
	$(BIN)/c360 neo4j status
