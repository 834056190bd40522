"""bench/targets.py: the verdicts of issues 19's and 24's targets in a benchmark report.

Two kinds of check. A report built here with every figure just either side of its threshold
(throughput 1.20 / 1.19, CPU 1.00 / 1.01, 300 / 300.1 s, 120 / 120.1 s, 2,048 / 2,049 MiB, 999,999
/ 1,000,000 customers), so a wrong threshold, operator or figure turns a verdict; and the reports
committed under bench/results/ (real runs of `make bench` on this machine), with figures and
verdicts read off those files by hand and written out here, and every one of them rendered."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench import targets as t
from bench.run import markdown

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"
REPORTS = sorted(p for p in RESULTS.glob("*.json") if "phases" in json.loads(p.read_text()))
MISSED = t.MISSED


def _arms(ours: tuple[float, float], library: tuple[float, float], errors: int = 0) -> dict:
    return {
        arm: {"server_cpu_ms": s, "neo4j_cpu_ms": n, "errors": errors}
        for arm, (s, n) in (("ours", ours), ("library", library))
    }


def _q(median: float) -> dict[str, float]:
    return {"median": median, "min": median - 0.1, "max": median + 0.1}


def _part(rps: float, server: float, neo4j: float, rounds: list[dict]) -> dict[str, Any]:
    ratios = {"rps": _q(rps), "server_cpu_ms": _q(server), "neo4j_cpu_ms": _q(neo4j)}
    return {"ratios": {"8": ratios, "32": copy.deepcopy(ratios)}, "rounds": rounds}


def _edge_report(customers: int, over: bool) -> dict[str, Any]:
    """Every figure at its threshold (``over``: just past it, on the wrong side)."""
    d = 0.01 if over else 0.0
    base_rounds = [{c: _arms((2.0, 1.0), (2.0, 1.0)) for c in ("8", "32")}]  # cost ratio 1.0
    grown = 1.0 + d  # the larger answer's cost ratio: equal (met) or above (missed)
    larger_rounds = [{c: _arms((2.0 * grown, 1.0 * grown), (2.0, 1.0)) for c in ("8", "32")}]
    compare = _part(1.2 - d, 1.0 + d, 1.0 + d, base_rounds)
    compare["p99_over_raw"] = {c: _q(2.0 + d) for c in ("8", "32")}
    compare["larger_answers"] = {"100": _part(1.2 - d, 1.0 + d, 1.0 + d, larger_rounds)}
    compare["larger_answers"]["100"]["p99_over_raw"] = {c: _q(2.0 + d) for c in ("8", "32")}
    s = 0.1 if over else 0.0
    mib = 2049.0 if over else 2048.0
    return {
        "customers": customers,
        "phases": {
            "compare": compare,
            "load": {"seconds": 900.0, "peak_rss_mib": mib},
            "import": {"seconds": 300.0 + s, "imported": True, "loader_peak_rss_mib": 1000.0,
                       "importer_peak_rss_mib": mib},
            "delta": {"seconds": 120.0 + s, "peak_rss_mib": mib},
        },
    }  # fmt: skip


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {x.target: x.verdict for x in t.evaluate(report)}


@pytest.mark.parametrize("over", [False, True], ids=["at the threshold", "just past it"])
def test_every_threshold_is_the_issue_s(over: bool) -> None:
    got = _verdicts(_edge_report(1_000_000, over))
    want = MISSED if over else t.MET
    judged = {k: v for k, v in got.items() if not v.startswith(t.NOT_MEASURED)}
    # 4 figures (3 ÷ library, p99 ÷ raw) × 2 answers × 2 levels, 2 growth rows, first load,
    # delta, 3 memory rows
    assert len(judged) == 16 + 2 + 1 + 1 + 3, got
    assert set(judged.values()) == {want}, got


def test_the_load_targets_are_set_for_a_million_customers() -> None:
    got = _verdicts(_edge_report(999_999, over=False))
    load_rows = [k for k in got if "min" in k or "peak memory" in k]
    assert len(load_rows) == 5
    assert {got[k] for k in load_rows} == {"not measured (set for 1 M customers)"}


def test_no_verdict_without_the_figure_it_needs() -> None:
    report = _edge_report(1_000_000, over=False)
    report["phases"]["import"]["imported"] = False  # the loader fell back to the online path
    failed = report["phases"]["compare"]["rounds"][0]["32"]["library"]
    failed["errors"] = 3  # a fast error would count as throughput
    report["phases"]["compare"]["rounds"][0]["8"]["raw"] = {"errors": 1, "p99": 5.0}
    del report["phases"]["compare"]["larger_answers"]["100"]["ratios"]["8"]["neo4j_cpu_ms"]
    del report["phases"]["delta"]
    got = _verdicts(report)
    assert got["first load of 1 M customers into an empty graph ≤ 5 min"] == (
        "not measured (the importer was declined)"
    )
    assert got["throughput ≥ 1.2× @neo4j/graphql's (10 interactions, 32 clients)"] == (
        "not measured (requests failed)"
    )
    assert got["throughput ≥ 1.2× @neo4j/graphql's (10 interactions, 8 clients)"] == t.MET
    assert got["Neo4j CPU per request ≤ the library's (100 interactions, 8 clients)"] == (
        "not measured (no neo4j_cpu_ms at this level)"
    )
    assert got["peak memory ≤ 2 GiB (delta load)"] == "not measured (delta)"
    assert got["customer-360 p99 ≤ 2× our reads as raw Cypher (10 interactions, 8 clients)"] == (
        "not measured (requests failed)"
    )
    assert (
        got["customer-360 p99 ≤ 2× our reads as raw Cypher (10 interactions, 32 clients)"] == t.MET
    )
    # and a report with no phase at all still renders, every row "not measured"
    empty = {"customers": 0, "phases": {}}
    assert all(x.verdict.startswith(t.NOT_MEASURED) for x in t.evaluate(empty))
    assert "## Targets" in t.table(empty)


# figures and verdicts read off the committed reports by hand
COMMITTED = [
    ("2026-12-01-bank.json", "first load of 1 M customers into an empty graph ≤ 5 min",
     "2,819.1 s", MISSED),
    ("2026-12-01-bank.json", "peak memory ≤ 2 GiB (online first load)", "2,406.2 MiB", MISSED),
    ("2026-12-01-bank.json", "peak memory ≤ 2 GiB (first load through the importer: loader, "
     "importer)", "1,909.1 MiB, 2,697.2 MiB", MISSED),
    ("2026-12-01-small.json", "peak memory ≤ 2 GiB (online first load)", "544.5 MiB",
     "not measured (set for 1 M customers)"),
    ("2026-12-02-small-compare-4036969.json",
     "throughput ≥ 1.2× @neo4j/graphql's (10 interactions, 8 clients)", "1.84× [1.66-2.14]",
     t.MET),
    ("2026-12-02-small-compare-4036969.json",
     "throughput ≥ 1.2× @neo4j/graphql's (100 accounts, 32 clients)", "0.8× [0.79-0.84]", MISSED),
    ("2026-12-02-small-compare-4036969.json",
     "Neo4j CPU per request ≤ the library's (100 interactions, 8 clients)", "0.85× [0.72-1.04]",
     t.MET),
    ("2026-11-24-bank-score-api.json",
     "customer-360 p99 ≤ 2× our reads as raw Cypher (10 interactions, 32 clients)", "1.59× (214.9 / 135.4 ms)",
     "not measured (no raw arm in compare; shown: the api phase's admin profiles, a proxy)"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "target", "figure", "verdict"), COMMITTED)
def test_committed_reports(name: str, target: str, figure: str, verdict: str) -> None:
    [row] = [x for x in t.evaluate(json.loads((RESULTS / name).read_text())) if x.target == target]
    assert (row.figure, row.verdict) == (figure, verdict)


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.name)
def test_every_committed_report_opens_with_its_targets(path: Path) -> None:
    report = json.loads(path.read_text())
    md = markdown(report)
    assert md.split("\n## ")[1].startswith("Targets (issues 19 and 24)")
    assert all(x.row() in md for x in t.evaluate(report))
