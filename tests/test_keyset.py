"""core/keyset.py against Python's own set, on keys nobody here chose: random strings of every
kind (empty, NUL and backslash, non-ASCII), drawn by the standard library's PRNG."""

from __future__ import annotations

import random
import string

from core.keyset import KeySet

ALPHABET = string.printable + "\0\\éü漢字"


def _keys(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choices(ALPHABET, k=rng.randint(0, 12))) for _ in range(n)]


def test_membership_and_first_time_agree_with_a_python_set():
    rng = random.Random(20261201)
    held: set[str] = set()
    keys = KeySet()
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
    assert len(keys.runs) <= len(held).bit_length()


def test_keys_that_differ_only_after_a_nul_or_by_an_escape_are_different():
    keys = KeySet()
    keys.add(["a\0b", "a\\0b"])
    assert keys.contains(["a\0b", "a\\0b", "a\0c", "a", "a\\\\0b"]).tolist() == [
        True, True, False, False, False,
    ]  # fmt: skip
