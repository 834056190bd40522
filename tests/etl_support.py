"""Helpers of the ETL tests: a canonical dump of the graph, load runs in-process and as a CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from neo4j import Driver, RoutingControl

from c360.settings import Settings
from etl.loader import Loader, LoadOptions, LoadResult
from graph import migrate
from tests.conftest import wipe

KEYS = {
    "Customer": ("customer_id",),
    "SourceRecord": ("system", "source_id"),
    "Account": ("account_id",),
    "Product": ("product_code",),
    "Household": ("household_id",),
    "Interaction": ("interaction_id",),
    "Employee": ("employee_id",),
    "Branch": ("branch_id",),
}
VOLATILE = {"loaded_at"}  # bookkeeping of a run, not data

DUMP_NODES = "MATCH (n) WHERE NOT n:LoadRun RETURN labels(n) AS labels, properties(n) AS props"
DUMP_RELS = """
MATCH (a)-[r]->(b) WHERE NOT a:LoadRun AND NOT b:LoadRun
RETURN labels(a) AS la, properties(a) AS pa, type(r) AS type, properties(r) AS pr,
       labels(b) AS lb, properties(b) AS pb
"""


def _value(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_value(x) for x in v)
    if hasattr(v, "iso_format"):
        return v.iso_format()
    return v


def _props(p: dict[str, Any]) -> tuple:
    return tuple(sorted((k, _value(v)) for k, v in p.items() if k not in VOLATILE))


def _key(labels: list[str], props: dict[str, Any]) -> tuple:
    label = labels[0]
    return (label, *(props.get(k) for k in KEYS.get(label, ())))


def canonical_dump(driver: Driver, database: str) -> tuple[list, list]:
    """Sorted nodes (label, properties) and relationships (from key, type, to key, properties)."""

    def read(query: str) -> list:
        return driver.execute_query(
            query, database_=database, routing_control=RoutingControl.READ
        ).records

    nodes = sorted((tuple(sorted(r["labels"])), _props(r["props"])) for r in read(DUMP_NODES))
    rels = sorted(
        (_key(r["la"], r["pa"]), r["type"], _key(r["lb"], r["pb"]), _props(r["pr"]))
        for r in read(DUMP_RELS)
    )
    return nodes, rels


def reset(driver: Driver, settings: Settings) -> None:
    wipe(driver, settings.neo4j_database)
    migrate.apply(driver, database=settings.neo4j_database)


def load(driver: Driver, settings: Settings, directory: Path, **kw: Any) -> LoadResult:
    kw.setdefault("rejects_dir", directory.parent / f"rejects-{directory.name}")
    kw.setdefault("show_progress", False)
    return Loader(driver, settings, LoadOptions(directory=directory, **kw)).run()


def cli_env(settings: Settings, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "C360_"))}
    env["C360_HOME"] = str(home)
    if settings.neo4j_uri:
        env["NEO4J_URI"] = settings.neo4j_uri
    else:
        env["NEO4J_LOCAL_PORT"] = str(settings.neo4j_local_port)
    env["NEO4J_PASSWORD"] = settings.neo4j_password.get_secret_value()
    return env


def c360(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "c360"), *args]
