"""The lists a job sends reach Neo4j as they are, and the driver's debug line names them by
their length only (graph/session.Rows): the driver formats every query's parameters for that
line whether or not debug logging is on."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from neo4j._codec.hydration.v1 import HydrationHandler
from neo4j._codec.packstream.v1 import Packer

from graph import session
from graph.queries.loads import write_with_checkpoint

SECRET = "Zhangsan-quiet-110105199003071234"


def _rows(n: int) -> list[dict]:
    return [
        {"k": f"{SECRET}-{i}", "born": dt.date(1990, 3, 7), "seen": dt.datetime(2024, 5, 1, 8, i % 60),
         "origin": ["core", str(i)], "props": {"aum": 1.5 * i, "tags": ["a", None]}}
        for i in range(n)
    ]  # fmt: skip


class _Bytes:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, chunk: bytes) -> None:
        self.data += chunk


def test_the_drivers_packer_sends_rows_byte_for_byte_as_the_list() -> None:
    hooks = HydrationHandler().new_hydration_scope().dehydration_hooks
    plain, quiet = _Bytes(), _Bytes()
    rows = _rows(500)
    Packer(plain).pack({"rows": rows}, dehydration_hooks=hooks)
    Packer(quiet).pack(session.quiet({"rows": rows}), dehydration_hooks=hooks)
    assert len(plain.data) > 10_000
    assert quiet.data == plain.data
    # and the driver's Python packer (without its Rust extension) alike
    py_plain, py_quiet = _Bytes(), _Bytes()
    for out, params in ((py_plain, {"rows": rows}), (py_quiet, session.quiet({"rows": rows}))):
        packer = Packer(out)
        packer._py_pack(params, packer._inject_hooks(hooks))
    assert py_quiet.data == py_plain.data == plain.data
    assert repr(session.Rows(rows)) == "<500 rows>"
    assert session.quiet({"rows": rows, "n": 3})["n"] == 3


def _run_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "C: RUN" in r.getMessage()]


def test_a_jobs_write_and_read_log_no_row_and_neo4j_gets_them_all(
    clean_graph, settings, caplog: pytest.LogCaptureFixture
) -> None:
    db = settings.neo4j_database
    rows = _rows(3)
    with caplog.at_level(logging.DEBUG, logger="neo4j"):
        session.run(
            clean_graph,
            db,
            "UNWIND $rows AS row CREATE (:QuietProbe {k: row.k, born: row.born, seen: row.seen})",
            rows=rows,
        )
        back = session.rows(
            clean_graph, db, "UNWIND $keys AS k MATCH (p:QuietProbe {k: k}) RETURN p.born AS born",
            keys=[r["k"] for r in rows],
        )  # fmt: skip
        with clean_graph.session(database=db) as s:
            s.execute_write(write_with_checkpoint, "UNWIND $rows AS row CREATE (:QuietProbe2 {k: row.k, seen: row.seen})",
                            rows, "no-such-run", {})  # fmt: skip
    lines = _run_lines(caplog)
    assert len(lines) >= 3, lines  # the driver did write its debug lines
    assert not [line for line in lines if SECRET in line], lines
    assert sum("<3 rows>" in line for line in lines) >= 3, lines
    assert [r["born"] for r in back] == [dt.date(1990, 3, 7)] * 3
    counts = clean_graph.execute_query(
        "MATCH (p) WHERE p:QuietProbe OR p:QuietProbe2 "
        "RETURN count(p) AS n, collect(DISTINCT p.seen.minute) AS minutes",
        database_=db,
    ).records[0]
    assert counts["n"] == 6 and sorted(counts["minutes"]) == [0, 1, 2]


def test_the_driver_formats_parameters_even_with_debug_logging_off(
    clean_graph, settings, caplog: pytest.LogCaptureFixture
) -> None:
    """What Rows is for: the driver calls ``repr`` on every list parameter while its debug
    logging is off. If a driver release stops doing so, this fails and Rows can go."""
    calls: list[int] = []

    class Spy(list):
        def __repr__(self) -> str:
            calls.append(len(self))
            return "spy"

    caplog.set_level(logging.WARNING, logger="neo4j")
    clean_graph.execute_query(
        "UNWIND $rows AS row RETURN row.k AS k",
        rows=Spy(_rows(2)),
        database_=settings.neo4j_database,
    )
    assert calls == [2]
