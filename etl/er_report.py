"""Pairwise precision, recall and F1 of identity resolution against the generator's ground truth.

A pair is two source records; predicted pairs share a golden customer, true pairs share a
person_id in ``ground_truth/identities.csv``. Only records present in both are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from neo4j import Driver

from graph.queries.loads import SOURCE_RECORD_CUSTOMERS
from graph.session import rows


@dataclass(frozen=True)
class ErScore:
    records: int
    true_pairs: int
    predicted_pairs: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_score(predicted: pd.DataFrame, truth: pd.DataFrame) -> ErScore:
    """``predicted`` (system, source_id, customer_id) against ``truth`` (system, source_id, person_id)."""
    both = predicted.merge(truth, on=["system", "source_id"], how="inner")
    return ErScore(
        records=len(both),
        true_pairs=_pairs(both.groupby("person_id").size()),
        predicted_pairs=_pairs(both.groupby("customer_id").size()),
        true_positives=_pairs(both.groupby(["customer_id", "person_id"]).size()),
    )


def score_graph(driver: Driver, directory: Path, *, database: str) -> ErScore:
    predicted = pd.DataFrame(
        rows(driver, database, SOURCE_RECORD_CUSTOMERS),
        columns=["system", "source_id", "customer_id"],
    )
    truth = pd.read_csv(directory / "ground_truth" / "identities.csv", dtype=str)
    return pairwise_score(predicted, truth)
