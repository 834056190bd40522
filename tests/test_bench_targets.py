"""bench/targets.py on the benchmark reports committed under bench/results/ (runs of
`make bench` on this machine): every verdict is the one the report's own figure gives against the
issue's threshold, every target of a phase the report lacks says "not measured", and a load target
at a size below the bank's gives no verdict."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from bench import targets as t
from bench.run import markdown

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"
REPORTS = sorted(p for p in RESULTS.glob("*.json") if "phases" in json.loads(p.read_text()))


def test_there_are_reports_of_every_kind() -> None:
    phases = [set(json.loads(p.read_text())["phases"]) for p in REPORTS]
    for phase in ("compare", "api", "load", "import", "delta"):
        assert any(phase in ps for ps in phases), phase


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.name)
def test_each_verdict_is_the_report_s_own_figure_against_the_threshold(path: Path) -> None:
    report = json.loads(path.read_text())
    phases = report["phases"]
    got = {x.target: x for x in t.evaluate(report)}
    assert got and all(x.verdict in (t.MET, t.MISSED) or x.verdict.startswith(t.NOT_MEASURED)
                       for x in got.values())  # fmt: skip
    compare = phases.get("compare") or {}
    answers = {"10 interactions": compare} if compare.get("ratios") else {}
    answers |= {f"{n} interactions": p for n, p in (compare.get("larger_answers") or {}).items()}
    answers |= {f"{n} accounts": p for n, p in (compare.get("larger_accounts") or {}).items()}
    for answer, part in answers.items():
        for clients, r in part["ratios"].items():
            at = f"({answer}, {clients} clients)"
            rps = got[f"throughput ≥ 1.2× @neo4j/graphql's {at}"]
            assert rps.verdict == (t.MET if r["rps"]["median"] >= 1.2 else t.MISSED)
            assert rps.figure.startswith(f"{r['rps']['median']}×")
            server = got[f"server CPU per request ≤ the library's {at}"]
            assert server.verdict == (t.MET if r["server_cpu_ms"]["median"] <= 1 else t.MISSED)
            if answer == "10 interactions":
                continue
            cost = [
                statistics.median(
                    rd[clients][arm]["server_cpu_ms"] + rd[clients][arm]["neo4j_cpu_ms"]
                    for rd in p["rounds"]
                )
                for p in (part, compare)
                for arm in ("ours", "library")
            ]
            grows = got[
                "cost grows with the answer no faster than the library's (10 interactions → "
                f"{answer}, {clients} clients; server + Neo4j CPU per request)"
            ]
            ours, library = cost[0] / cost[2], cost[1] / cost[3]
            assert grows.verdict == (t.MET if ours <= library else t.MISSED)
    if not answers:
        assert got["customer-360 read against @neo4j/graphql"].verdict == "not measured (compare)"
    bank = report["customers"] >= 1_000_000
    for phase, name, limit in (
        ("import", "first load of 1 M customers into an empty graph ≤ 5 min (`--bulk-import`)",
         300),
        ("delta", "1 M-customer bank re-loaded with 1 % of rows changed ≤ 2 min", 120),
    ):  # fmt: skip
        verdict = got[name].verdict
        if phase not in phases:
            assert verdict == f"not measured ({phase})"
        elif not bank:
            assert verdict == "not measured (set for 1 M customers)"
        else:
            assert verdict == (t.MET if phases[phase]["seconds"] <= limit else t.MISSED)
    api = phases.get("api")
    for lv in (api or {}).get("levels", []):
        if lv["clients"] not in (8, 32):
            continue
        ratio = lv["ops"]["profile"]["p99"] / lv["raw"]["ops"]["profile"]["p99"]
        p99 = got[f"profile p99 ≤ 2× raw Cypher's ({lv['clients']} clients)"]
        assert p99.verdict == (t.MET if ratio <= 2 else t.MISSED)
    # the report's markdown leads with the same table
    md = markdown(report)
    assert md.index("## Targets (issues 19 and 24)") < md.index("\n## ", md.index("## Targets") + 1)
    assert all(x.row() in md for x in got.values())
