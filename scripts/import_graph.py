"""The project's import graph between its top-level packages, checked against the layers.

    python scripts/import_graph.py          # edges, counts and any import that runs back up
    python scripts/import_graph.py --dot    # the same graph in Graphviz dot (| dot -Tsvg > g.svg)

The layers, lowest first: a module may import its own package and any lower layer, never a
higher one nor a peer of its own layer. Exit status 1 when an import breaks that, or when a
package is not placed in a layer. Imports inside functions count as much as those at the top:
a deferred import is still a dependency. Tests are left out (they may use every layer).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# ground <- graph <- auth, etl, scoring <- resolvers <- schema <- composition root <- tools
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("graph",),
    ("auth", "etl", "scoring"),
    ("synthetic", "resolvers"),
    ("schema",),
    ("c360",),
    ("bench", "scripts"),
]
# Narrower than the layers: the schema only describes, so it reaches the rest through resolvers.
ONLY = {"schema": {"resolvers", "core"}}
RANK = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}
SKIP = {".venv", "tests", "node_modules", ".c360", ".git", "console", "build"}


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in SKIP or len(relative.parts) < 2:
            continue
        name = ".".join(relative.with_suffix("").parts)
        found.append((name.removesuffix(".__init__"), path))
    return found


def imported(name: str, path: Path) -> list[tuple[str, int]]:
    """Modules imported by one file, relative imports resolved, with their line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets.append((module, node.lineno))
    return targets


def graph() -> tuple[Counter[tuple[str, str]], list[str], set[str]]:
    edges: Counter[tuple[str, str]] = Counter()
    breaks: list[str] = []
    ours = {name.split(".")[0] for name, _ in modules()}
    for name, path in modules():
        source = name.split(".")[0]
        for target, line in imported(name, path):
            top = target.split(".")[0]
            if top not in ours or top == source:
                continue
            edges[(source, top)] += 1
            if source in ONLY and top not in ONLY[source]:
                where = f"{path.relative_to(ROOT)}:{line}"
                breaks.append(f"{where}: {source} imports {target} (only {sorted(ONLY[source])})")
            elif source in RANK and top in RANK and RANK[top] >= RANK[source]:
                where = f"{path.relative_to(ROOT)}:{line}"
                kind = "peer" if RANK[top] == RANK[source] else "up"
                breaks.append(f"{where}: {source} imports {target} ({kind})")
    return edges, breaks, ours - set(RANK)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dot", action="store_true", help="print Graphviz dot")
    args = parser.parse_args()
    edges, breaks, unplaced = graph()
    if args.dot:
        print("digraph imports {\n  rankdir=BT;")
        for (source, target), count in sorted(edges.items()):
            style = ' color="red"' if f" {source} imports {target}" in "\n".join(breaks) else ""
            print(f'  "{source}" -> "{target}" [label="{count}"{style}];')
        print("}")
        return 1 if breaks or unplaced else 0
    print("layers, lowest first: " + " <- ".join("/".join(layer) for layer in LAYERS))
    print("imports between packages (importer -> imported: number of import statements):")
    for (source, target), count in sorted(edges.items(), key=lambda e: (RANK.get(e[0][0], 99), e)):
        print(f"  {source:>10} -> {target:<10} {count}")
    for package in sorted(unplaced):
        print(f"not in any layer: {package}/ (add it to LAYERS in {Path(__file__).name})")
    print(f"imports against the layers: {len(breaks)}")
    for line in breaks:
        print(f"  {line}")
    return 1 if breaks or unplaced else 0


if __name__ == "__main__":
    sys.exit(main())
