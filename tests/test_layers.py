"""The layout holds: imports flow one way between the layers, and Cypher lives only in graph/.

Both read the source as it is (no graph, no server): ``scripts/import_graph.py`` draws the
package import graph and lists any import that runs back up; the Cypher check parses every
module outside ``graph/`` and looks for query clauses in its string constants.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys

from core.settings import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "import_graph.py"
# Clauses that only a query has (prose such as "a MERGE on keys" has no pattern after it).
CYPHER = re.compile(
    r"\b(?:OPTIONAL\s+)?MATCH\s*\(|\bMERGE\s*\(|\bCREATE\s*\(|\bUNWIND\s+\$|\bDETACH\s+DELETE\b"
    r"|\bCALL\s+(?:db|dbms|apoc)\.|\bRETURN\s+\w+\s*(?:\{|AS\b)"
)
OUTSIDE_GRAPH = (
    "core", "auth", "etl", "scoring", "synthetic", "resolvers", "schema", "c360", "bench", "scripts",
)  # fmt: skip


def test_no_import_runs_against_the_layers():
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "imports against the layers: 0" in done.stdout
    # The graph it draws has the edges the layers expect: the door is used from above.
    for edge in ("resolvers -> graph", "schema -> resolvers", "etl -> graph", "graph -> core"):
        assert re.search(rf"^\s*{edge}\s+\d+$", done.stdout, re.M), edge


def test_the_check_sees_an_import_against_the_layers(tmp_path):
    """The script is not blind: a lower layer importing a higher one is reported, exit 1."""
    planted = PROJECT_ROOT / "core" / "_planted_for_test.py"
    planted.write_text("from schema import build_schema\n", encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=PROJECT_ROOT
        )
    finally:
        planted.unlink()
    assert done.returncode == 1
    assert "core/_planted_for_test.py:1: core imports schema (up)" in done.stdout


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants, docstrings left out (prose may quote a clause)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
    return found


def test_no_cypher_outside_graph():
    offenders = []
    checked = 0
    for package in OUTSIDE_GRAPH:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            checked += 1
            for line, text in _strings(tree):
                if CYPHER.search(text):
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{line}: {text[:60]!r}")
    assert checked > 50
    assert not offenders, "Cypher outside graph/:\n" + "\n".join(offenders)


def test_the_cypher_check_knows_a_query_when_it_sees_one():
    queries = [
        "MATCH (c:Customer {customer_id: $id}) RETURN c",
        "UNWIND $rows AS row MERGE (c:Customer {customer_id: row.id})",
        "CALL db.labels() YIELD label RETURN label",
        "OPTIONAL MATCH (e)-[m:MANAGES]->(c)",
    ]
    prose = ["every write being a MERGE on keys", "Return the match of a phone number."]
    assert all(CYPHER.search(q) for q in queries)
    assert not any(CYPHER.search(p) for p in prose)


def test_the_assets_counted_before_scoring_are_the_scoring_jobs():
    from core.products import ASSET_TYPES
    from scoring.config import load_config

    assert set(ASSET_TYPES) == load_config().asset_types
