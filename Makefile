# The two commands of the README: `make demo` (the main job) and `make test` (the tests).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test check lint format schema neo4j-start neo4j-stop neo4j-status venv

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## The main job: start Neo4j, load the sample bank, serve the API with GraphiQL.
demo: venv
	$(BIN)/c360 neo4j start
	$(BIN)/c360 sample
	$(BIN)/c360 serve

## The tests: start (or reuse) the test Neo4j and run pytest against it.
test: venv
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .

format: venv
	$(BIN)/ruff format .

check: lint test

schema: venv
	$(BIN)/c360 export-schema

neo4j-start: venv
	$(BIN)/c360 neo4j start
neo4j-stop: venv
	$(BIN)/c360 neo4j stop
neo4j-status: venv
	$(BIN)/c360 neo4j status
