"""``c360 er-train``: estimate the linkage model on a folder of extracts or on the graph's records.

No labels: the records are read as a load reads them (mapping, name composed from its parts,
validation, preparation) into a spill's DuckDB database, and etl/linkage_model.train estimates
the model there. Nothing is written to the graph.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
from neo4j import Driver

from etl import records
from etl.engine import Engine
from etl.extracts import scan
from etl.identity import IdentityConfig
from etl.linkage_frame import compose_name
from etl.linkage_model import Model, train
from etl.loader import KEPT_CUSTOMER_COLUMNS, LoadOptions, discover_mappings
from etl.mapping import apply_mapping
from etl.normalise import stored_phone
from etl.spill import CustomerSpill
from etl.validation import validate
from graph.queries import loads as lq


def train_on_folder(
    opts: LoadOptions,
    cfg: IdentityConfig,
    pepper: str,
    echo: Callable[[str], None] = lambda _: None,
) -> Model:
    """The model estimated on the customers of a folder of extracts (``opts`` as for a load:
    the folder, and optionally one system and its mapping), read as a load reads them: through
    the mapping engine (etl/engine.py), so SQL-form systems and per-file read options count."""
    today = dt.date.today()
    with Engine() as engine, CustomerSpill(KEPT_CUSTOMER_COLUMNS) as spill:
        spill.configure(memory_limit=cfg.memory_limit, threads=cfg.threads)
        for m in discover_mappings(opts):
            if "customers" not in m.entities:
                continue
            plan = engine.plan(m, opts.directory)
            scans = {
                plan.files[name]: scan(
                    plan.files[name], plan.label(name), options=plan.options.get(name)
                )
                for name in plan.read_files()
            }
            engine.register(plan, scans)
            source = engine.sources.get((m.system, "customers"))
            if source is None:
                continue
            em = m.entities["customers"]
            for chunk in engine.batches(source, 20_000):
                mapped, parse_errors = apply_mapping(chunk, em)
                good, _ = validate(
                    compose_name(mapped), "customers", parse_errors=parse_errors, today=today
                )
                good = good.drop_duplicates("source_id")
                spill.add(records.prepare_customers(good, m.system, pepper))
            echo(f"{m.system}: {spill.n:,} records so far")
        if spill.n < 2:
            raise ValueError(f"{opts.directory}: no customer records to train on")
        from splink import DuckDBAPI

        return train(
            DuckDBAPI(connection=spill.db),
            "m",
            cfg,
            source=str(opts.directory.resolve()),
            records=spill.n,
            echo=echo,
        )


def train_on_graph(
    driver: Driver, database: str, cfg: IdentityConfig, echo: Callable[[str], None]
) -> Model:
    """The model estimated on every source record in the graph."""
    with CustomerSpill(KEPT_CUSTOMER_COLUMNS) as spill:
        spill.configure(memory_limit=cfg.memory_limit, threads=cfg.threads)
        for rows in lq.stream_rows(
            driver, database, lq.SOURCE_RECORDS_FOR_MATCHING, 50_000, this_run=None
        ):
            frame = pd.DataFrame(rows)
            frame["phone"] = frame["phone"].map(stored_phone)
            spill.add_known(frame)
            echo(f"{spill.known_count:,} records read from the graph")
        if spill.known_count < 2:
            raise ValueError("the graph holds no source records to train on")
        from splink import DuckDBAPI

        return train(
            DuckDBAPI(connection=spill.db),
            "known",
            cfg,
            source="the graph's source records",
            records=spill.known_count,
            echo=echo,
        )
