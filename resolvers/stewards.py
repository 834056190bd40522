"""Data stewards' decisions on identity (data engineers and admins), each one audited write.

- **confirmMatch**: the two records of a review are one person. Their customers become one: the
  smaller customer id survives, every relationship of the other moves to it (one statement per
  relationship type of graph/queries/identity.RELATIONSHIPS), its records follow with rule
  STEWARD, and the survivor's golden record is recomputed from all its records, its home branch
  by the loader's rule (the absorbed customer's is deleted, not moved: a customer has one). Where both link
  to the same node one link stays: HOLDS the current, then the stronger role; MEMBER_OF the
  current membership; otherwise the survivor's. One RM stays (the survivor's; the other is named
  on it as ``also_managed_by``), and a referral between the two goes. Every relationship dropped
  is on the audit event (``dropped_json``, with its origin), from which a split that undoes the
  confirmation restores it.
- **rejectMatch**: they are two people. ``NOT_SAME_AS`` between the records keeps any later load
  from merging them; a pair already in one customer is refused (that takes splitCustomer).
- **splitCustomer**: unmerge. The records go back to separate golden customers: ``groups`` names
  records that stay together (every record not named is alone). Each group gets the id the
  loader gives those records alone and the golden fields survivorship computes from them; the
  group of the record whose id is the customer's keeps it. ``NOT_SAME_AS`` between every two
  records of different groups; an OPEN review between them is closed (REJECTED, reason naming
  the split) so no old review merges them again, and the CONFIRMED review the split undoes
  becomes SPLIT. Each customer's home branch is then recomputed from what it holds.

Which relationship goes with which record: the loader stamps ``origin`` (and ``origin_to`` on
the referred end of a REFERRED) with the source record whose row made it; a split sends it to
the customer of that record, properties and all. A relationship without origin (a logged
interaction or an RM assignment written by the API, a tier change) stays with the customer that
keeps the id, unless a confirmMatch brought it from another customer (``moved_from``): then it
goes back to the customer of that id.

A confirmation is refused when a steward's NOT_SAME_AS between its two records is newer than
the review (a split or a rejection decided after the model listed the pair wins).

Every decision runs through resolvers/writes.audited_write (idempotency key, audit event and the
write in one transaction). The review and the customers are locked before they are read, so two
stewards deciding on the same people are served one after the other.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from neo4j import AsyncManagedTransaction

from auth import enforce
from auth.policy import Operation
from core.errors import BadUserInput, ServiceUnavailableError
from etl.identity import (
    GOLDEN_FIELDS,
    IdentityConfig,
    customer_id_for,
    golden_records,
    load_identity_config,
)
from etl.normalise import stored_phone
from etl.records import customer_rows
from graph.queries import identity as q
from graph.queries import upserts as uq
from graph.session import all_rows, one_row, scoped
from resolvers.context import Context
from resolvers.idempotency import idempotency_key
from resolvers.writes import Written, audited_write

MAX_REASON = 2000
MAX_ID = 64
SEPARATOR = "\x1f"  # between system and source id in a stored record key
Key = tuple[str, str]  # (system, source_id)
LOCK_ROUNDS = 5  # customers locked, records read again, until they resolve to the same ones


@dataclass(frozen=True)
class Decided:
    """Who decided, when, and the id of the decision's audit event: stamped on what it writes."""

    by: str
    at: dt.datetime
    event_id: str

    @classmethod
    def now(cls, ctx: Context, event_id: str) -> Decided:
        return cls(ctx.principal.subject, dt.datetime.now(dt.UTC), event_id)

    def params(self) -> dict[str, Any]:
        return {"by": self.by, "at": self.at, "event_id": self.event_id}


# -- pure parts -----------------------------------------------------------------------------------


def identity_config() -> IdentityConfig:
    """etl/mappings/identity.yaml as it is now: read again for every decision (a decision is
    rare; a steward may change the system priority between two)."""
    return load_identity_config()


def loader_id(keys: list[Key], cfg: IdentityConfig) -> str:
    """The customer id the loader gives these records as one person and nothing else in the
    graph (etl/identity.customer_id_for with the cluster's anchor: the record of the
    highest-priority system with the smallest source id)."""
    system, source_id = min(keys, key=lambda k: (cfg.rank(k[0]), k[1]))
    return customer_id_for(system, source_id, [], cfg)


def golden_id(system: str, source_id: str, cfg: IdentityConfig) -> str:
    """The customer id the loader gives a record alone."""
    return loader_id([(system, source_id)], cfg)


def golden_rows(placed: Iterable[tuple[str, dict[str, Any]]], cfg: IdentityConfig) -> list[dict]:
    """The golden record of each customer from its records as stored (``placed``: customer id
    and record), by the loader's survivorship and in the rows the loader writes. The stored
    phone is the source's spelling: normalised to E.164 as the loader stores it (etl.normalise)."""
    rows = [
        {
            "customer_id": customer_id,
            "system": rec["system"],
            "updated_at": rec.get("updated_at"),
            **{f: rec.get(f) for f in GOLDEN_FIELDS},
            "phone": stored_phone(rec.get("phone_e164") or rec.get("phone")),
        }
        for customer_id, rec in placed
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "system", "updated_at", *GOLDEN_FIELDS])
    return customer_rows(golden_records(frame.astype(object), cfg))


def keeper_of(customer_id: str, keys: list[Key], cfg: IdentityConfig) -> Key:
    """The record that keeps the customer's id in a split: the one the loader would give that id,
    else the anchor (the highest-priority system, the smallest source id)."""
    for key in keys:
        if golden_id(*key, cfg) == customer_id:
            return key
    return min(keys, key=lambda k: (cfg.rank(k[0]), k[1]))


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot keep {type(value).__name__} in a dropped relationship")


def _decode(obj: dict[str, Any]) -> Any:
    if set(obj) == {"$datetime"}:
        return dt.datetime.fromisoformat(obj["$datetime"])
    if set(obj) == {"$date"}:
        return dt.date.fromisoformat(obj["$date"])
    return obj


def dropped_json(dropped: list[dict[str, Any]]) -> str:
    """The relationships a merge dropped, as JSON for its audit event (dates kept as dates)."""
    return json.dumps(dropped, default=_encode, ensure_ascii=False, sort_keys=True)


def dropped_from_json(text: str) -> list[dict[str, Any]]:
    return list(json.loads(text, object_hook=_decode))


def restorable(
    dropped: list[dict[str, Any]], target: dict[Key, str]
) -> dict[str, list[dict[str, Any]]]:
    """Restore rows per relationship (graph/queries/identity.CustomerEdge.restore) for the
    relationships a merge dropped whose origin record is among the split's (``target``: record
    -> its customer now); a mutual referral only when its two records are apart again."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for item in dropped:
        edge = q.EDGE_BY_NAME[item["edge"]]
        props = {k: v for k, v in item["props"].items() if k != "moved_from"}
        origin = props.get(edge.origin) if edge.origin else None
        customer = target.get(tuple(origin)) if origin else None  # type: ignore[arg-type]
        if customer is None:
            continue
        other = item["other"]
        if other is None:  # a referral between the two merged customers
            referred = target.get(tuple(props.get("origin_to") or ()))  # type: ignore[arg-type]
            if referred is None or referred == customer:
                continue
            other = [referred]
        rows.setdefault(edge.name, []).append(
            {"customer_id": customer, "other": other, "props": props}
        )
    return rows


def _text(value: str, name: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise BadUserInput(f"{name} must not be empty")
    if len(text) > limit:
        raise BadUserInput(f"{name} must be at most {limit} characters")
    return text


def _key_text(key: Key) -> str:
    return f"{key[0]}:{key[1]}"


# -- reads inside the decision's transaction ------------------------------------------------------


async def _run(tx: AsyncManagedTransaction, query: str, **params: Any) -> list[dict[str, Any]]:
    return await all_rows(tx, query=query, params=params)


async def _review_for_decision(
    tx: AsyncManagedTransaction, ctx: Context, review_id: str
) -> dict[str, Any] | None:
    """The review and its records, locked with their customers; None when there is no such
    review or the caller does not serve every customer of it directly."""
    scope = enforce.row_scope(ctx.principal)
    await _run(tx, q.LOCK_REVIEW, review_id=review_id)
    locked: set[str] = set()
    for _ in range(LOCK_ROUNDS):
        row = await one_row(
            tx, query=q.REVIEW[scope.kind], params={"review_id": review_id, **scope.params}
        )
        if row is None:
            return None
        wanted = {r["customer_id"] for r in row["records"] if r.get("customer_id")}
        if wanted <= locked:  # read under the locks of every customer it names
            if not q.served_directly(row["records"]):
                return None
            return row
        await _run(tx, q.LOCK_CUSTOMERS, customer_ids=sorted(wanted - locked))
        locked |= wanted
    raise RuntimeError(f"the records of review {review_id} moved {LOCK_ROUNDS} times while read")


async def _records(tx: AsyncManagedTransaction, ctx: Context, keys: list[Key]) -> list[dict]:
    scope = enforce.row_scope(ctx.principal)
    params = {"keys": [list(k) for k in keys], **scope.params}
    return await all_rows(tx, query=q.RECORDS[scope.kind], params=params)


async def _no_load_running(tx: AsyncManagedTransaction) -> None:
    """Refuses a decision while a load run is RUNNING (read in the decision's transaction): the
    loader resolves from the records and NOT_SAME_AS pairs it read when it started, so a merge
    or split now could be written over. SERVICE_UNAVAILABLE, not BAD_USER_INPUT: nothing is
    wrong with the request, and the same request succeeds once the load has finished."""
    running = await one_row(tx, query=q.RUNNING_LOAD, params={})
    if running is not None:
        raise ServiceUnavailableError(
            f"load run {running['run_id']} (started {running['started_at']}) is still running: "
            "identity decisions wait until it has finished; retry then"
        )


def _open(review: dict[str, Any]) -> None:
    status = review.get("status")
    if status != "OPEN":
        by = f" by {review['decided_by']}" if review.get("decided_by") else ""
        raise BadUserInput(
            f"reviewId {review['review_id']!r} is already {status}{by}; a decided review is not "
            "decided again"
        )


def _pair(review: dict[str, Any], records: list[dict[str, Any]]) -> tuple[Key, Key]:
    if len(records) != 2:
        raise BadUserInput(
            f"reviewId {review['review_id']!r} has {len(records)} candidate records, not two"
        )
    for r in records:
        if not r.get("customer_id"):
            raise BadUserInput(
                f"record {r['system']}:{r['source_id']} of review {review['review_id']!r} "
                "resolves to no customer; load it before deciding"
            )
    a, b = sorted((r["system"], r["source_id"]) for r in records)
    return a, b


# -- confirm and reject ---------------------------------------------------------------------------


async def _merge(
    tx: AsyncManagedTransaction,
    *,
    survivor: str,
    absorbed: str,
    pair: tuple[Key, Key],
    review: dict[str, Any],
    decided: Decided,
) -> list[dict[str, Any]]:
    """Everything of ``absorbed`` moves to ``survivor``; ``absorbed`` is deleted. Returns the
    relationships dropped on the way (a link both had to one node, the absorbed customer's
    other RM, a referral between the two) for the audit event."""
    apart = [
        p
        for p in await _run(tx, q.NOT_SAME_AS_BETWEEN, a=survivor, b=absorbed)
        if tuple(sorted((tuple(p["a"]), tuple(p["b"])))) != pair
    ]
    if apart:
        first = apart[0]
        why = f"review {first['review_id']}" if first.get("review_id") else "a split"
        raise BadUserInput(
            f"customers {survivor} and {absorbed} cannot be merged: a steward kept their records "
            f"{':'.join(first['a'])} and {':'.join(first['b'])} apart ({why})"
        )
    created = review.get("created_at")
    for kept in await _run(tx, q.NOT_SAME_AS_OF_PAIR, a=list(pair[0]), b=list(pair[1])):
        if kept["at"] is not None and (created is None or kept["at"] > created):
            why = f"review {kept['review_id']}" if kept.get("review_id") else "a split"
            raise BadUserInput(
                f"review {review['review_id']} is older than the decision that kept "
                f"{_key_text(pair[0])} and {_key_text(pair[1])} apart ({why} at "
                f"{kept['at']}): it cannot merge them: reject it"
            )
    await _run(tx, q.DROP_NOT_SAME_AS, a=list(pair[0]), b=list(pair[1]))
    ids = {"from_id": absorbed, "to_id": survivor}
    referred = q.EDGE_BY_NAME["(Customer)-[:REFERRED]->(Customer) at its start"]
    managed = q.EDGE_BY_NAME["(Employee)-[:MANAGES]->(Customer) at its end"]
    dropped = [
        {"edge": referred.name, "other": None, "props": r["props"]}
        for r in await _run(tx, q.MERGE_DROP_MUTUAL_REFERRALS, **ids)
    ]
    for edge in q.MOVED_EDGES:
        for r in await _run(tx, edge.resolve_conflicts, **ids):
            dropped.append({"edge": edge.name, "other": r["other"], "props": r["props"]})
    for r in await _run(tx, q.MERGE_OTHER_RM, **ids):
        dropped.append({"edge": managed.name, "other": r["other"], "props": r["props"]})
    for edge in q.MOVED_EDGES:
        await _run(tx, edge.move, **ids)
    await _run(tx, q.DROP_DERIVED, customer_id=absorbed)
    await _run(
        tx,
        q.MOVE_RECORDS,
        from_id=absorbed,
        to_id=survivor,
        confirmed=[list(k) for k in pair],
        match_weight=review.get("match_weight"),
        comparisons_json=review.get("comparisons_json"),
        review_id=review["review_id"],
        **decided.params(),
    )
    [left] = await _run(tx, q.RELATIONSHIP_TYPES_OF, customer_id=absorbed)
    if left["types"]:
        raise RuntimeError(
            f"customer {absorbed} still has {sorted(left['types'])} after the merge: declare the "
            "relationship in graph/queries/identity.RELATIONSHIPS"
        )
    await _run(tx, q.DELETE_CUSTOMER, customer_id=absorbed)
    await _write_golden(tx, [survivor])
    return dropped


async def _write_golden(tx: AsyncManagedTransaction, customer_ids: list[str]) -> None:
    """The golden records of customers whose records and relationships are in place: the fields
    from their records, then the home branch as the loader derives it."""
    found = await _run(tx, q.RECORDS_OF, customer_ids=customer_ids)
    placed = [(r["customer_id"], r["record"]) for r in found]
    await _run(tx, q.WRITE_GOLDEN, rows=golden_rows(placed, identity_config()))
    await _write_home_branches(tx, customer_ids)


async def _write_home_branches(tx: AsyncManagedTransaction, customer_ids: list[str]) -> None:
    """The one home branch of each customer, by the loader's rule (never moved by a decision:
    graph/queries/identity.DERIVED)."""
    rows = [{"customer_id": c} for c in customer_ids]
    await _run(tx, uq.UPSERT_HOME_BRANCHES, rows=rows)


async def _decide(
    ctx: Context,
    *,
    operation: Operation,
    review_id: str,
    reason: str,
    client_mutation_id: str,
) -> dict[str, Any]:
    """Confirm or reject a review: the review after the decision, its records as the caller sees
    them, and for a confirmation the surviving and the absorbed customer."""
    enforce.require(ctx.principal, operation)
    review_id = _text(review_id, "reviewId", MAX_ID)
    reason = _text(reason, "reason", MAX_REASON)
    key = idempotency_key(
        ctx.principal, operation, client_mutation_id, {"reviewId": review_id, "reason": reason}
    )
    scope = enforce.row_scope(ctx.principal)
    event_id = uuid.uuid4().hex

    async def work(tx: AsyncManagedTransaction, first: dict[str, Any] | None) -> Written | None:
        row = await _review_for_decision(tx, ctx, review_id)
        if row is None:
            return None
        review, records = row["review"], row["records"]
        if first is None:
            await _no_load_running(tx)
            decided = Decided.now(ctx, event_id)
            done, dropped = await _decision(tx, decided, operation, review, records, reason)
        else:  # the first request's answer, as things are now
            done = {k: first.get(k) for k in ("customer_id", "absorbed_customer_id")}
            dropped = []
        row = await one_row(
            tx, query=q.REVIEW[scope.kind], params={"review_id": review_id, **scope.params}
        )
        assert row is not None  # locked in this transaction
        ids = {r["customer_id"] for r in records if r.get("customer_id")}
        return Written(
            row={**row, **done},
            customer_ids=sorted(ids),
            replay={k: v for k, v in done.items() if v is not None},
            audit={
                "review_id": review_id,
                "dropped_json": dropped_json(dropped) if dropped else None,
            },
        )

    return await audited_write(
        ctx,
        key=key,
        fields=["identityReviews", "sourceRecords"],
        work=work,
        not_found=f"No identity review {review_id!r} is visible to you.",
        event_id=event_id,
    )


async def _decision(
    tx: AsyncManagedTransaction,
    decided: Decided,
    operation: Operation,
    review: dict[str, Any],
    records: list[dict[str, Any]],
    reason: str,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The decision's answer, and the relationships a merge dropped."""
    _open(review)
    pair = _pair(review, records)
    customers = sorted({r["customer_id"] for r in records})
    done: dict[str, Any] = {"customer_id": customers[0], "absorbed_customer_id": None}
    dropped: list[dict[str, Any]] = []
    if operation is Operation.REJECT_MATCH:
        if len(customers) == 1:
            raise BadUserInput(
                f"the records of review {review['review_id']} ({_key_text(pair[0])} and "
                f"{_key_text(pair[1])}) already resolve to one customer, {customers[0]}: to "
                f"separate them, use splitCustomer(customerId: {customers[0]!r})"
            )
        rows = [{"a": list(pair[0]), "b": list(pair[1]), "review_id": review["review_id"]}]
        await _run(tx, q.WRITE_NOT_SAME_AS, rows=rows, reason=reason, **decided.params())
        status = "REJECTED"
    else:
        if len(customers) == 2:
            survivor, absorbed = customers
            dropped = await _merge(
                tx,
                survivor=survivor,
                absorbed=absorbed,
                pair=pair,
                review=review,
                decided=decided,
            )
            done["absorbed_customer_id"] = absorbed
        status = "CONFIRMED"
    await _run(
        tx,
        q.DECIDE_REVIEW,
        review_id=review["review_id"],
        status=status,
        by=decided.by,
        at=decided.at,
        reason=reason,
        event_id=decided.event_id,
    )
    return done, dropped


async def confirm_match(
    ctx: Context, *, review_id: str, reason: str, client_mutation_id: str
) -> dict[str, Any]:
    return await _decide(
        ctx,
        operation=Operation.CONFIRM_MATCH,
        review_id=review_id,
        reason=reason,
        client_mutation_id=client_mutation_id,
    )


async def reject_match(
    ctx: Context, *, review_id: str, reason: str, client_mutation_id: str
) -> dict[str, Any]:
    return await _decide(
        ctx,
        operation=Operation.REJECT_MATCH,
        review_id=review_id,
        reason=reason,
        client_mutation_id=client_mutation_id,
    )


# -- split ----------------------------------------------------------------------------------------


def split_groups(
    customer_id: str, keys: list[Key], groups: list[list[Key]] | None, cfg: IdentityConfig
) -> dict[Key, str]:
    """The customer each record of ``customer_id`` goes to: the records of a group together,
    every record not named alone; the group of :func:`keeper_of` keeps ``customer_id``, every
    other the id the loader gives its records alone. Refuses groups that name a record the
    customer does not have, name one twice, or leave nothing to split."""
    own = set(keys)
    seen: set[Key] = set()
    together: list[list[Key]] = []
    for n, group in enumerate(groups or []):
        if not group:
            raise BadUserInput(f"groups[{n}] is empty: a group names one or more records")
        for key in group:
            if key not in own:
                raise BadUserInput(
                    f"groups[{n}] names record {_key_text(key)}, which is not a record of "
                    f"customer {customer_id}"
                )
            if key in seen:
                raise BadUserInput(f"groups[{n}] names record {_key_text(key)} a second time")
            seen.add(key)
        together.append(sorted(set(group)))
    together += [[k] for k in sorted(own - seen)]
    if len(together) < 2:
        raise BadUserInput(
            f"the groups keep every record of customer {customer_id} together: nothing to split"
        )
    ids = [loader_id(group, cfg) for group in together]
    if customer_id not in ids:  # no group is the loader's customer of that id: the keeper's is
        keeper = keeper_of(customer_id, keys, cfg)
        ids = [customer_id if keeper in g else cid for g, cid in zip(together, ids, strict=True)]
    return {k: cid for group, cid in zip(together, ids, strict=True) for k in group}


async def split_customer(
    ctx: Context,
    *,
    customer_id: str,
    reason: str,
    client_mutation_id: str,
    groups: list[list[Key]] | None = None,
) -> dict[str, Any]:
    """The customer's records on separate customers (``groups``: records that stay together):
    ``customer_id`` (the one that kept it) and ``records`` (each with its customer as the caller
    may see them)."""
    enforce.require(ctx.principal, Operation.SPLIT_CUSTOMER)
    customer_id = _text(customer_id, "customerId", MAX_ID)
    reason = _text(reason, "reason", MAX_REASON)
    named = [[(str(s), str(i)) for s, i in group] for group in groups or []]
    key = idempotency_key(
        ctx.principal,
        Operation.SPLIT_CUSTOMER,
        client_mutation_id,
        {"customerId": customer_id, "reason": reason, "groups": [sorted(g) for g in named]},
    )
    scope = enforce.row_scope(ctx.principal)
    event_id = uuid.uuid4().hex

    async def work(tx: AsyncManagedTransaction, first: dict[str, Any] | None) -> Written | None:
        await _run(tx, q.LOCK_CUSTOMERS, customer_ids=[customer_id])
        target = await one_row(
            tx,
            query=scoped(scope.kind, q.SPLIT_TARGET_TAIL),
            params={"customer_id": customer_id, **scope.params},
        )
        if target is None and first is None:
            return None
        closed: list[str] = []
        if first is not None:  # the first request's records, where they are now
            keys = [tuple(k.split(SEPARATOR, 1)) for k in first.get("record_keys") or []]
            placed = await _records(tx, ctx, keys)  # type: ignore[arg-type]
        else:
            assert target is not None
            await _no_load_running(tx)
            decided = Decided.now(ctx, event_id)
            placed, closed = await _split(
                tx, ctx, decided, customer_id, target["records"], named, reason
            )
        ids = sorted({r["customer_id"] for r in placed if r.get("customer_id")})
        keys_text = [f"{r['system']}{SEPARATOR}{r['source_id']}" for r in placed]
        return Written(
            row={"customer_id": customer_id, "records": placed},
            customer_ids=ids,
            replay={"record_keys": keys_text},
            audit={"review_ids": closed} if closed else {},
        )

    return await audited_write(
        ctx,
        key=key,
        fields=["sourceRecords"],
        work=work,
        not_found=f"No customer {customer_id!r} is visible to you.",
        event_id=event_id,
    )


async def _split(
    tx: AsyncManagedTransaction,
    ctx: Context,
    decided: Decided,
    customer_id: str,
    records: list[dict[str, Any]],
    groups: list[list[Key]],
    reason: str,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The records placed (as the caller sees them) and the reviews the split closed or undid."""
    if len(records) < 2:
        raise BadUserInput(
            f"customer {customer_id} has {len(records)} source record(s): a split needs two or more"
        )
    cfg = identity_config()
    keys: list[Key] = [(r["system"], r["source_id"]) for r in records]
    target = split_groups(customer_id, keys, groups, cfg)
    others = sorted({cid for cid in target.values() if cid != customer_id})
    [taken] = await _run(tx, q.EXISTING_CUSTOMERS, customer_ids=others)
    if taken["ids"]:
        clash = next(k for k in keys if target[k] in taken["ids"])
        raise BadUserInput(
            f"splitting {customer_id} would give record {_key_text(clash)} the customer id "
            f"{target[clash]}, which another customer has; merge or split that one first"
        )
    placed = [(target[(r["system"], r["source_id"])], r) for r in records]
    await _run(tx, q.WRITE_GOLDEN, rows=golden_rows(placed, cfg))
    await _run(tx, q.INHERIT_LOAD_RUN, from_id=customer_id, customer_ids=others)
    rows = [{"system": k[0], "source_id": k[1], "customer_id": target[k]} for k in keys]
    apart = [(a, b) for a, b in itertools.combinations(sorted(keys), 2) if target[a] != target[b]]
    undone = await _run(
        tx,
        q.CLOSE_SPLIT_REVIEWS,
        review_ids=[q.review_id(a, b) for a, b in apart],
        by=decided.by,
        at=decided.at,
        closed_reason=f"closed by splitCustomer of {customer_id}: {reason}",
    )
    split = sorted(r["review_id"] for r in undone if r["status"] == "SPLIT")
    await _run(
        tx, q.PLACE_RECORDS, rows=rows, review_id=split[0] if split else None, **decided.params()
    )
    for other in others:
        mine = [list(k) for k in keys if target[k] == other]
        for edge in q.MOVED_EDGES:
            await _run(tx, edge.split_move, from_id=customer_id, to_id=other, records=mine)
    confirmations = [r["event_id"] for r in undone if r["status"] == "SPLIT" and r["event_id"]]
    if confirmations:
        found = await _run(tx, q.DROPPED_BY_CONFIRMATIONS, event_ids=confirmations)
        dropped = [d for r in found for d in dropped_from_json(r["dropped_json"])]
        restored_rms: list[str] = []
        for name, rows in restorable(dropped, target).items():
            await _run(tx, q.EDGE_BY_NAME[name].restore, rows=rows)
            if name.startswith("(Employee)-[:MANAGES]"):
                restored_rms += [r["other"][0] for r in rows]
        if restored_rms:
            await _run(
                tx,
                q.FORGET_ALSO_MANAGED,
                customer_ids=sorted(set(target.values())),
                restored=restored_rms,
            )
    await _write_home_branches(tx, sorted(set(target.values())))
    pairs = [{"a": list(a), "b": list(b), "review_id": None} for a, b in apart]
    await _run(tx, q.WRITE_NOT_SAME_AS, rows=pairs, reason=reason, **decided.params())
    placed_now = await _records(tx, ctx, sorted(keys))
    return placed_now, sorted(r["review_id"] for r in undone)
