"""Delta loads: a later extract writes only the rows whose content changed.

Every row the loader writes carries a content hash (:func:`content_hash`: BLAKE2b-128, hex, over
the row as the upsert takes it, after mapping, validation, normalisation and the resolution of
customer references, in a canonical JSON with sorted keys, by orjson: dates and times as their
type and ISO 8601 text, so a date and the string of its text differ; a float's subclass, such as
numpy's, as the float; anything else JSON lacks as its type and text), which the upsert
stores on the node or relationship it writes (``content_hash``). Before a batch is written,
:meth:`etl.loader.Loader._put` asks in one query which of the batch's rows the graph does not
hold with that hash (graph/queries/upserts.changed_query) and writes only those.

What the hash covers decides what "unchanged" means:

- a source record (``SourceRecord``): its stored fields and the customer it resolves to, not
  ``loaded_at`` nor ``load_run_id`` (bookkeeping: the run writing a row) nor its link's rule and confidence (a record already in the graph
  keeps its link while it resolves to the same customer: graph/queries/upserts.py), so a record
  that re-links to another customer is written again;
- a golden customer: the golden row, computed by survivorship over all of the customer's
  records as in a full load; if none of them changed, the row is the same and is not written;
- relationships to customers (holdings, memberships, manages, referrals, interactions' ``HAD``):
  the resolved customer ids and the origin, so a re-linked customer's rows are written again.

The lookup of a chunk's stored hashes runs on a thread of its own (:class:`LookAhead`) while the
loader reads, maps and validates the next chunk: in a delta load, where few rows are written,
the loader's main thread otherwise waited on these lookups for a quarter of the load (py-spy,
100,000 customers). The chunks are still decided and handed to the writer one after the other,
in the order they were read, on the thread that reads them (households and accounts load on a
thread of their own while the customers are resolved: etl/loader.py; one thread at a time).

Identity resolution and survivorship still run over every record of the extract (the linker
compares the whole population: an unchanged record may be the best match of a changed one), so
the customer ids, links and golden rows are those a full load computes; only the writes are
skipped. A row is also written when an earlier row of the run wrote the same key (two records
of one system resolving to one customer write the same relationship: the last one wins, as in a
full load). Deletes are out of scope: a row absent from the extract is left as it is (as in a
full load). The hash is what was last written from a source row (a data steward's merge or
split writes golden records with their hash: etl/records.customer_rows): a node changed by
something else (a hand edit) is written again only when its source row changes, or by a full
load (``c360 load --full``, :attr:`etl.loader.LoadOptions.full`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import orjson

from graph.queries import upserts as uq

# what a row's hash leaves out: bookkeeping and the link of a record (see the module docstring)
NOT_HASHED = frozenset(
    {"content_hash", "loaded_at", "load_run_id", "keep_link", "rule", "confidence",
     "match_weight", "comparisons_json"}
)  # fmt: skip
HASH = "content_hash"


_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _typed(value: Any) -> Any:
    """A JSON stand-in for what orjson hands over: a date, datetime or time as its type and ISO
    text (a date that was a string before, with the same text, is a change), a float's subclass
    (numpy's float64) as the float it is, anything else (a Decimal) as its type and text."""
    if isinstance(value, dt.date | dt.time):
        return f"{type(value).__name__}:{value.isoformat()}"
    if isinstance(value, float):
        return float(value)
    return f"{type(value).__name__}:{value}"


def content_hash(row: dict[str, Any]) -> str:
    """The hash of a graph row (nested ``props`` included), without :data:`NOT_HASHED`.

    orjson, not the standard library's json: the hash is computed for every row a load writes,
    and json's encoder with sorted keys and a ``default`` for dates took 15 s of the main
    thread in a 100,000-customer load (py-spy); orjson takes 3-4x less per row.
    The text differs from the json the hashes of earlier versions were computed on, so the first
    delta load after an upgrade from those writes every row once (as ``--full`` does)."""
    flat = {k: v for k, v in row.items() if k not in NOT_HASHED and k != "props"}
    if "props" in row:
        flat["props"] = {k: v for k, v in row["props"].items() if k not in NOT_HASHED}
    text = orjson.dumps(flat, default=_typed, option=_OPTIONS)
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def stamp(upsert: uq.Upsert, rows: list[dict[str, Any]]) -> list[str]:
    """Put each row's content hash where ``upsert`` stores it; the hashes, in row order."""
    hashes = []
    for row in rows:
        h = content_hash(row)
        (row["props"] if upsert.in_props else row)[HASH] = h
        hashes.append(h)
    return hashes


def key_text(upsert: uq.Upsert, row: dict[str, Any]) -> str:
    """The key of what a row writes, as one string (for the run's set of written keys)."""
    return "\x1f".join(str(row[k]) for k in upsert.keys)


def lookup_rows(upsert: uq.Upsert, rows: list[dict[str, Any]], hashes: list[str]) -> list[dict]:
    """The parameters of graph/queries/upserts.changed_query for ``rows``."""
    return [
        {"i": i, "h": h, **{k: row[k] for k in upsert.keys}}
        for i, (row, h) in enumerate(zip(rows, hashes, strict=True))
    ]


class LookAhead:
    """At most one lookup of stored hashes in flight, on a thread of its own, while the caller
    prepares the next chunk. :meth:`submit` first settles the lookup before it, so the chunks
    are decided in the order they were submitted; :meth:`settle` runs the waiting chunk's
    ``then`` (with the ``i`` the lookup returned) on the caller's thread, and raises
    there what the lookup raised."""

    def __init__(self, read: Callable[..., list[dict[str, Any]]]) -> None:
        self._read = read
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="delta-lookup")
        self._waiting: tuple[Future, Callable[[set[int]], None]] | None = None

    def submit(self, query: str, rows: list[dict], then: Callable[[set[int]], None]) -> None:
        self.settle()
        self._waiting = (self._pool.submit(self._read, query, rows=rows), then)

    def settle(self) -> None:
        if self._waiting is None:
            return
        future, then = self._waiting
        self._waiting = None
        then({r["i"] for r in future.result()})

    def close(self) -> None:
        """Wait for a lookup still running and drop its answer (the load failed before it
        was settled)."""
        self._waiting = None
        self._pool.shutdown(wait=True, cancel_futures=True)
