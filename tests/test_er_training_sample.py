"""EM training on a sample: a first load of a large bank trains its identity model on a uniform,
seeded sample of ``model.max_training_records`` records (etl/linkage_model.py), because EM over
all 2.5 M records of a bank of a million customers compares about 10⁸ pairs in the birth-date
block alone. The sample keeps the share of pairs that match, so the model it trains must
resolve the whole bank as well as one trained on every record: checked here against the
generator's ground truth, with a sample of two fifths of the records."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl import linkage_model as lm
from etl import records
from etl.er_report import pairwise_score
from etl.identity import load_identity_config
from etl.linkage_frame import compose_name
from etl.loader import KEPT_CUSTOMER_COLUMNS
from etl.mapping import apply_mapping, load_mapping
from etl.sources import find_extract, read_chunks
from etl.spill import CustomerSpill
from etl.validation import validate
from synthetic import GenerateOptions, generate_bank


class _Api:
    """What ``_training_sample`` uses of Splink's DuckDBAPI: its connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.duckdb_con = con


def test_the_training_sample_is_uniform_seeded_and_only_taken_when_needed() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE m AS SELECT range::VARCHAR AS unique_id FROM range(10000)")
    api = _Api(con)
    assert lm._training_sample(api, "m", 10_000, 10_000, 42) == "m"  # not more than the limit
    assert lm._training_sample(api, "m", 10_000, 0, 42) == "m"  # 0: no sampling
    name = lm._training_sample(api, "m", 10_000, 2_000, 42)
    first = {r for (r,) in con.execute(f"SELECT unique_id FROM {name}").fetchall()}  # noqa: S608
    lm._training_sample(api, "m", 10_000, 2_000, 42)
    again = {r for (r,) in con.execute(f"SELECT unique_id FROM {name}").fetchall()}  # noqa: S608
    lm._training_sample(api, "m", 10_000, 2_000, 7)
    other = {r for (r,) in con.execute(f"SELECT unique_id FROM {name}").fetchall()}  # noqa: S608
    assert len(first) == 2_000 and first == again and first != other
    # uniform: each tenth of the keys holds about a tenth of the sample
    per_decile = pd.Series([int(k) // 1_000 for k in first]).value_counts()
    assert len(per_decile) == 10 and per_decile.min() > 120 and per_decile.max() < 280


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sampled-bank")
    generate_bank(GenerateOptions(customers=2_500, seed=11, out=out))
    return out


def _resolve(
    folder: Path, model_file: Path, max_training: int, weights: list | None = None
) -> tuple[lm.Model, pd.DataFrame]:
    """Spill the bank's customer records as a load does, train on first use with the given
    sample limit and resolve: the model and (system, source_id, customer_id)."""
    base = load_identity_config()
    cfg = dataclasses.replace(
        base, model=dataclasses.replace(base.model, max_training_records=max_training)
    )
    with CustomerSpill(KEPT_CUSTOMER_COLUMNS, memory_limit=cfg.memory_limit) as spill:
        for system in cfg.system_priority:
            em = load_mapping(system).entities["customers"]
            path = find_extract(folder, system, em.file)
            assert path is not None, system
            for chunk in read_chunks(path, 5_000):
                mapped, errors = apply_mapping(chunk, em)
                good, _ = validate(
                    compose_name(mapped), "customers", parse_errors=errors,
                    today=dt.date(2026, 11, 1),
                )  # fmt: skip
                good = good.drop_duplicates("source_id")
                spill.add(records.prepare_customers(good, system, "pepper"))
        spill.resolve(cfg, lm.model_for_load(model_file, cfg, echo=print))
        predicted = spill.db.execute(
            "SELECT r.system, r.source_id, o.cid FROM rec r JOIN out o ON o.idx = r.idx"
        ).df()
        if weights is not None:  # every scored pair's match weight
            weights += spill.db.execute("SELECT l, r, w FROM scored ORDER BY l, r").fetchall()
    return lm.read_model(model_file), predicted.set_axis(
        ["system", "source_id", "customer_id"], axis=1
    )


def test_a_model_trained_on_two_fifths_of_the_records_resolves_the_bank_as_well(
    bank: Path, tmp_path: Path
) -> None:
    truth = pd.read_csv(bank / "ground_truth" / "identities.csv", dtype=str)
    full_model, full = _resolve(bank, tmp_path / "full.json", 0)
    sampled_model, sampled = _resolve(bank, tmp_path / "sampled.json", 2_500)
    records_n = int(full_model.meta["records"])
    assert records_n > 3_000  # the bank's core, card and CRM records
    assert full_model.meta["sampled_records"] == records_n
    assert sampled_model.meta["sampled_records"] == 2_500 < records_n / 2
    a, b = pairwise_score(full, truth), pairwise_score(sampled, truth)
    assert a.precision >= 0.99 and a.recall >= 0.97, a
    assert b.precision >= 0.99 and b.recall >= a.recall - 0.01, (a, b)
    weights = {(c, lv): w for c, lv, _, _, w in lm.level_weights(sampled_model)}
    for key in [("family_name", "same name"), ("birth_date", "same date"), ("phone", "same")]:
        assert (weights[key] or 0) > 3, key


def test_the_load_that_trains_the_model_resolves_as_every_later_load_with_it(
    bank: Path, tmp_path: Path
) -> None:
    """Training on a sample computes the names' frequencies in the sample; scoring the load must
    use their frequencies in the whole load, as a later load with the saved model does. (Before,
    the first load took the sample's: 10 customers of a million differed from a load with the
    model it saved.)"""
    model_file = tmp_path / "model.json"
    trained: list = []
    _, first = _resolve(bank, model_file, 1_500, trained)
    assert lm.read_model(model_file).meta["sampled_records"] == 1_500  # trained, on a sample
    saved: list = []
    _, again = _resolve(bank, model_file, 1_500, saved)
    assert len(trained) > 1_000
    assert trained == saved
    assert _clusters(first) == _clusters(again)


def _clusters(ids: pd.DataFrame) -> set[frozenset[tuple[str, str]]]:
    return {
        frozenset(zip(group["system"], group["source_id"], strict=True))
        for _, group in ids.groupby("customer_id")
    }
