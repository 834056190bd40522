"""The benchmarks' own reads: what to ask for, and how big the graph is (bench/)."""

from __future__ import annotations

import re

SAMPLE_CUSTOMERS = "MATCH (c:Customer) RETURN c.customer_id AS id, c.name AS name LIMIT 5000"
FIRST_CUSTOMER_IDS = "MATCH (c:Customer) RETURN c.customer_id AS id ORDER BY id LIMIT 500"
LARGEST_BOOK = """
MATCH (e:Employee)-[:MANAGES]->()
RETURN e.employee_id AS id, count(*) AS n
ORDER BY n DESC LIMIT 1
"""
LABELS = "CALL db.labels() YIELD label RETURN label"
RELATIONSHIPS = "MATCH ()-[r]->() RETURN count(r) AS n"
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def label_count(label: str) -> str:
    """Nodes of one label (a count-store lookup, not a scan); the label is checked first."""
    if not _LABEL.match(label):
        raise ValueError(f"not a label: {label!r}")
    return f"MATCH (n:`{label}`) RETURN count(n) AS n"
