"""Helpers of the ETL tests: a canonical dump of the graph, load runs in-process and as a CLI,
and extracts damaged the way real ones are (cut short, shortened, re-encoded)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neo4j import Driver, RoutingControl

from core.settings import Settings
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
# bookkeeping of a run (a LoadRun, an IdentityReview, the run that last wrote a customer), not data
VOLATILE = {"loaded_at", "run_id", "created_at", "load_run_id"}
ROOT = Path(__file__).resolve().parent.parent  # this checkout: what a `c360` subprocess runs

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


def _props(p: dict[str, Any], value: Callable[[Any], Any] = _value) -> tuple:
    return tuple(sorted((k, value(v)) for k, v in p.items() if k not in VOLATILE))


def _key(labels: list[str], props: dict[str, Any]) -> tuple:
    label = labels[0]
    return (label, *(props.get(k) for k in KEYS.get(label, ())))


def canonical_dump(
    driver: Driver, database: str, value: Callable[[Any], Any] = _value
) -> tuple[list, list]:
    """Sorted nodes (label, properties) and relationships (from key, type, to key, properties);
    ``value`` is what a property's value is compared by."""

    def read(query: str) -> list:
        return driver.execute_query(
            query, database_=database, routing_control=RoutingControl.READ
        ).records

    nodes = sorted(
        (tuple(sorted(r["labels"])), _props(r["props"], value)) for r in read(DUMP_NODES)
    )
    rels = sorted(
        (_key(r["la"], r["pa"]), r["type"], _key(r["lb"], r["pb"]), _props(r["pr"], value))
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
    # the venv's `c360` would import the checkout it was installed from (an editable install)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def c360(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "c360"), *args]


def cut_mid_row(path: Path, fraction: float) -> int:
    """Cut a CSV extract a few fields into the row found ``fraction`` of the way through the file,
    as an interrupted copy does; return its rows now, the cut one included."""
    data = path.read_bytes()
    start = data.index(b"\n", int(len(data) * fraction)) + 1
    end = start
    for _ in range(3):
        end = data.index(b",", end) + 1
    path.write_bytes(data[:end])
    return data[:start].count(b"\n")  # the header's newline stands for the cut row


def keep_rows(path: Path, fraction: float) -> tuple[int, int]:
    """Keep the header and the first ``fraction`` of a CSV extract's rows (a complete file, as a
    partial export writes it); return (rows kept, rows before)."""
    header, *rows = path.read_bytes().splitlines(keepends=True)
    kept = rows[: int(len(rows) * fraction)]
    path.write_bytes(header + b"".join(kept))
    return len(kept), len(rows)


def write_manifests(directory: Path) -> None:
    """``<system>/manifest.json`` with the data rows and sha256 of every file, as a source system
    that announces its extracts writes it (the generated CSVs have one row a line)."""
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        entries = {}
        for f in sorted(folder.glob("*.csv")):
            data = f.read_bytes()
            entries[f.name] = {
                "rows": data.count(b"\n") - 1,
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        (folder / "manifest.json").write_text(json.dumps(entries, indent=2), encoding="utf-8")
