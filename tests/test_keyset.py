"""core/keyset.py against Python's own set, on keys nobody here chose: random strings of every
kind (empty, NUL and backslash, non-ASCII), drawn by the standard library's PRNG."""

from __future__ import annotations

import random
import string

import pytest

from core.keyset import LARGEST_RUN, KeySet

ALPHABET = string.printable + "\0\\éü漢字"


def _keys(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choices(ALPHABET, k=rng.randint(0, 12))) for _ in range(n)]


@pytest.mark.parametrize("largest_run", [LARGEST_RUN, 64])
def test_membership_and_first_time_agree_with_a_python_set(largest_run):
    """(``largest_run`` 64: the runs stop merging at 64 keys well before the end)"""
    rng = random.Random(20261201)
    held: set[str] = set()
    keys = KeySet(largest_run=largest_run)
    for _ in range(40):  # many chunks: the runs merge as a binary counter
        chunk = _keys(rng, rng.randint(0, 300)) + rng.sample(sorted(held), min(len(held), 50))
        rng.shuffle(chunk)
        assert keys.contains(chunk).tolist() == [k in held for k in chunk]
        expected, met = [], set(held)
        for k in chunk:
            expected.append(k not in met)
            met.add(k)
        assert keys.first_time(chunk) == expected
        held |= set(chunk)
        assert len(keys) == len(held)
    assert sum(len(r1) for r1, _ in keys.runs) == len(held)
    if largest_run > len(held):
        assert len(keys.runs) <= len(held).bit_length()


def test_runs_stop_merging_at_the_largest_run():
    """Chunks of 10 new keys, runs of at most 64: no merge makes a larger run, the runs below
    that size stay a binary counter, and every key is still found."""
    keys = KeySet(largest_run=64)
    added = [f"k{i}" for i in range(10_000)]
    for at in range(0, len(added), 10):
        keys.add(added[at : at + 10])
    sizes = [len(r1) for r1, _ in keys.runs]
    assert max(sizes) <= 64 and sum(sizes) == len(added) == len(keys)
    assert len([s for s in sizes if s > 32]) >= len(added) // 64
    assert len([s for s in sizes if s <= 32]) <= (64).bit_length()
    assert keys.contains(added).all()
    assert not keys.contains([f"k{i}" for i in range(10_000, 11_000)]).any()


def test_keys_that_differ_only_after_a_nul_or_by_an_escape_are_different():
    keys = KeySet()
    keys.add(["a\0b", "a\\0b"])
    assert keys.contains(["a\0b", "a\\0b", "a\0c", "a", "a\\\\0b"]).tolist() == [
        True, True, False, False, False,
    ]  # fmt: skip
