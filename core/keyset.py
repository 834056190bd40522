"""A set of strings held as 128-bit hashes in sorted runs: 16 bytes a key, however long the key.

The loader asks "was this key met before?" of millions of keys, a chunk at a time: the keys of a
file so far (duplicates), the keys of what other entities refer to, the customers with records
outside the load. A Python set of the strings would take some 100 bytes a key; a table scanned for
every chunk costs time in proportion to what it holds, so a load's time grows with the square of
its size. Here a chunk's keys are hashed twice (pandas' vectorised SipHash with two keys) and
looked up by binary search in sorted runs (numpy), merged as a binary counter (at most log2(n)
runs) up to runs of about :data:`LARGEST_RUN` keys. Merging two runs holds both and their merge
at once (some 56 bytes a key): without a bound, the last merges would briefly need three and a half
times the set's own memory (tens of millions of keys: a gigabyte). Beyond it, runs of that size
accumulate, one more binary search a chunk per run (28 M keys in chunks of 5,000: 24 runs against
6, some 20 s more CPU over a load). A false "met before" needs two different keys to agree on
both hashes: at 128 bits, some 10^19 keys before it becomes likely.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

_KEY1, _KEY2 = "c360-bulk-key-01", "c360-bulk-key-02"  # pandas' hash keys (16 bytes each)
LARGEST_RUN = 2**21  # keys a merge of runs makes at most (32 MiB; 112 MiB while merging)


def _escaped(key: str) -> str:
    """The key as pandas hashes it whole (its hash of a string stops at a NUL): one-to-one."""
    if "\0" in key or "\\" in key:
        return key.replace("\\", "\\\\").replace("\0", "\\0")
    return key


def hashes(keys: Iterable[object]) -> tuple[np.ndarray, np.ndarray]:
    """The two 64-bit hashes of each key (as its ``str``)."""
    values = np.array([_escaped(str(k)) for k in keys], dtype=object)
    h1 = pd.util.hash_array(values, hash_key=_KEY1, categorize=False)
    h2 = pd.util.hash_array(values, hash_key=_KEY2, categorize=False)
    return h1, h2


def find(
    r1: np.ndarray, r2: np.ndarray, h1: np.ndarray, h2: np.ndarray, order: np.ndarray | None = None
) -> np.ndarray:
    """Where each key hashed ``(h1, h2)`` is in a run (``r1`` sorted, ``r2`` beside it): its
    position, or -1. ``order``: ``np.argsort(h1)``, when the caller searches several runs."""
    at = np.full(len(h1), -1, dtype=np.int64)
    if not len(r1):
        return at
    order = np.argsort(h1) if order is None else order
    q1 = h1[order]  # (sorted needles: a search starts where the last one ended)
    start = np.searchsorted(r1, q1)
    inside = start < len(r1)
    found = np.zeros(len(h1), dtype=bool)
    found[inside] = r1[start[inside]] == q1[inside]
    for j in np.flatnonzero(found):  # the first hash met before: a repeat, most likely
        i, k = order[j], start[j]
        while k < len(r1) and r1[k] == q1[j]:  # equal first hashes are adjacent
            if r2[k] == h2[i]:
                at[i] = k
                break
            k += 1
    return at


class KeySet:
    """Keys added so far; membership a chunk at a time."""

    def __init__(self, *, largest_run: int = LARGEST_RUN) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []  # (first hash sorted, second)
        self.count = 0
        self.largest_run = largest_run

    def __len__(self) -> int:
        return self.count

    def _member(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        old = np.zeros(len(h1), dtype=bool)
        order = np.argsort(h1)  # (once for every run)
        for r1, r2 in self.runs:
            old |= find(r1, r2, h1, h2, order) >= 0
        return old

    def contains(self, keys: list) -> np.ndarray:
        """Which of ``keys`` were added (a boolean array, in their order)."""
        if not keys or not self.runs:
            return np.zeros(len(keys), dtype=bool)
        return self._member(*hashes(keys))

    def first_time(self, keys: list) -> list[bool]:
        """Add ``keys``; for each, whether it is new (neither added before nor earlier in the
        list)."""
        if not keys:
            return []
        h1, h2 = hashes(keys)
        old = self._member(h1, h2) if self.runs else np.zeros(len(keys), dtype=bool)
        again = np.zeros(len(keys), dtype=bool)  # a repeat within the list is not new either
        if len(np.unique(h1)) < len(keys):
            met: set[tuple[int, int]] = set()
            for i, pair in enumerate(zip(h1.tolist(), h2.tolist(), strict=True)):
                again[i] = pair in met
                met.add(pair)
        new = ~(old | again)
        if new.any():
            self._add(h1[new], h2[new])
        return new.tolist()

    def add(self, keys: Iterable[object]) -> None:
        self.first_time(list(keys))  # (hashes takes each key's str)

    def _add(self, h1: np.ndarray, h2: np.ndarray) -> None:
        self.count += len(h1)
        order = np.argsort(h1, kind="stable")
        run = (h1[order], h2[order])
        # merge runs of like size (a binary counter): a few runs to search, each sorted; no
        # merge beyond the largest run
        while (
            self.runs
            and len(self.runs[-1][0]) <= len(run[0])
            and len(self.runs[-1][0]) + len(run[0]) <= self.largest_run
        ):
            r1, r2 = self.runs.pop()
            a1, a2 = np.concatenate([r1, run[0]]), np.concatenate([r2, run[1]])
            order = np.argsort(a1, kind="stable")
            run = (a1[order], a2[order])
        self.runs.append(run)
