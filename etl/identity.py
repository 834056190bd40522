"""Identity resolution: which source records are the same person, and their golden record.

Pure functions, no driver. The steps:

1. **Deterministic**: records with the same national-ID hash are one person (rule ``NATIONAL_ID``).
   Two records with *different* ID hashes are never merged.
2. **Probabilistic** on the rest: candidate pairs come from blocks (same birth date and surname,
   same phone, same email, same ID hash); a pair scores the summed weights of
   etl/mappings/identity.yaml (name similarity with rapidfuzz on simplified names, birth date,
   phone, email, address, gender). ``>= match_threshold`` merges (rule ``PROBABILISTIC``),
   ``>= review_threshold`` is listed for review and not merged.
3. **Clusters** by union-find; each record's ``RESOLVED_TO {rule, confidence}`` is its best edge
   into the cluster (the anchor record gets ``ANCHOR``, a lone record ``SINGLETON``).
4. **Golden id**, stable across re-runs and resumes: a record already resolved in the graph keeps
   its customer (the smallest id if a cluster now joins several); otherwise
   ``C-<source_id>`` of the anchor when the anchor is from the first system of
   ``system_priority`` (the core CIF number), else ``C-<system>-<source_id>``. The anchor is the
   record of the highest-priority system with the smallest source id.
5. **Survivorship** (:func:`golden_records`): per field the first non-empty value in system
   priority order, except the ``recent`` fields (phone, email, address, city: the most recently
   updated non-empty value wins, so a move is picked up) and per-field orders (occupation: CRM first).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import yaml
from rapidfuzz.fuzz import ratio

from etl.mapping import MAPPINGS_DIR
from graph.model import GOLDEN_CUSTOMER_FIELDS


@dataclass(frozen=True)
class IdentityConfig:
    system_priority: tuple[str, ...] = ("core", "card", "crm")
    weights: dict[str, float] = field(default_factory=dict)
    match_threshold: float = 6.5
    review_threshold: float = 3.5
    max_block_size: int = 60
    compare_within_system: bool = False
    recent_fields: tuple[str, ...] = ("phone", "email", "address", "city")
    field_priority: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def rank(self, system: str) -> int:
        p = self.system_priority
        return p.index(system) if system in p else len(p)


def load_identity_config(path: Path | None = None) -> IdentityConfig:
    doc = yaml.safe_load((path or MAPPINGS_DIR / "identity.yaml").read_text(encoding="utf-8"))
    surv = doc.get("survivorship") or {}
    return IdentityConfig(
        system_priority=tuple(doc["system_priority"]),
        weights={k: float(v) for k, v in doc["weights"].items()},
        match_threshold=float(doc["match_threshold"]),
        review_threshold=float(doc["review_threshold"]),
        max_block_size=int(doc.get("max_block_size", 60)),
        compare_within_system=bool(doc.get("compare_within_system", False)),
        recent_fields=tuple(surv.get("recent", ())),
        field_priority={k: tuple(v) for k, v in (surv.get("fields") or {}).items()},
    )


class Candidate(NamedTuple):
    """The compact form of a source record that matching needs (one tuple per record)."""

    system: str
    source_id: str
    name: str  # normalised (etl.zh.normalise_name)
    birth: dt.date | None
    id_hash: str | None
    phone: str | None  # 11 digits
    email: str | None  # lower case
    address: str | None
    gender: str | None


class Link(NamedTuple):
    rule: str
    confidence: float


@dataclass
class Resolution:
    cluster: list[int]  # record index -> cluster root index
    links: list[Link]  # record index -> how it joined its cluster
    review: list[tuple[int, int, float]]  # (i, j, score) near misses, not merged


def score_pair(a: Candidate, b: Candidate, w: dict[str, float]) -> float:
    """The summed agreement weights of two records without a shared national-ID hash."""
    s = 0.0
    sim = ratio(a.name, b.name) / 100 if a.name and b.name else 0.0
    if sim >= 0.999:
        s += w["name_exact"]
    elif sim >= w["name_close_ratio"]:
        s += w["name_close"]
    else:
        s += w["name_diff"]
    if a.birth and b.birth:
        s += w["birth_same"] if a.birth == b.birth else w["birth_diff"]
    if a.phone and b.phone:
        s += w["phone_same"] if a.phone == b.phone else w["phone_diff"]
    if a.email and b.email:
        s += w["email_same"] if a.email == b.email else w["email_diff"]
    if a.address and a.address == b.address:
        s += w["address_same"]
    if a.gender and b.gender and a.gender != b.gender:
        s += w["gender_diff"]
    return s


def confidence(score: float, cfg: IdentityConfig) -> float:
    """A 0-1 reading of a score: 0.5 at the review threshold, ~0.9 at the match threshold."""
    scale = (cfg.match_threshold - cfg.review_threshold) / math.log(9)
    return round(1 / (1 + math.exp(-(score - cfg.review_threshold) / scale)), 3)


def block_keys(c: Candidate) -> list[tuple[str, object]]:
    keys: list[tuple[str, object]] = []
    if c.birth and c.name:
        keys.append(("birth+surname", (c.birth, c.name[0])))
    if c.phone:
        keys.append(("phone", c.phone))
    if c.email:
        keys.append(("email", c.email))
    if c.id_hash:
        keys.append(("id", c.id_hash))
    return keys


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)


def resolve(records: list[Candidate], cfg: IdentityConfig) -> Resolution:
    """Cluster the records (see the module docstring)."""
    n = len(records)
    uf = _UnionFind(n)
    best: list[Link | None] = [None] * n

    def note(i: int, link: Link) -> None:
        if best[i] is None or link.confidence > best[i].confidence:  # type: ignore[union-attr]
            best[i] = link

    blocks: dict[tuple[str, object], list[int]] = defaultdict(list)
    for i, rec in enumerate(records):
        for key in block_keys(rec):
            blocks[key].append(i)
    seen: set[tuple[int, int]] = set()
    scored: list[tuple[int, int, float]] = []
    for (kind, _), members in blocks.items():
        if kind == "id":
            for j in members[1:]:
                uf.union(members[0], j)
                note(j, Link("NATIONAL_ID", 1.0))
                note(members[0], Link("NATIONAL_ID", 1.0))
            continue
        if len(members) < 2 or len(members) > cfg.max_block_size:
            continue
        for x, i in enumerate(members):
            a = records[i]
            for j in members[x + 1 :]:
                b = records[j]
                if (i, j) in seen or (not cfg.compare_within_system and a.system == b.system):
                    continue
                seen.add((i, j))
                if a.id_hash and b.id_hash:
                    continue  # equal hashes merged above; different ones never merge
                scored.append((i, j, score_pair(a, b, cfg.weights)))
    review = []
    for i, j, s in scored:
        if s >= cfg.match_threshold:
            uf.union(i, j)
            link = Link("PROBABILISTIC", confidence(s, cfg))
            note(i, link)
            note(j, link)
    for i, j, s in scored:
        if cfg.review_threshold <= s < cfg.match_threshold and uf.find(i) != uf.find(j):
            review.append((i, j, round(s, 2)))
    cluster = [uf.find(i) for i in range(n)]
    return Resolution(
        cluster=cluster, links=[b or Link("SINGLETON", 1.0) for b in best], review=review
    )


def assign_customer_ids(
    records: list[Candidate],
    resolution: Resolution,
    cfg: IdentityConfig,
    existing: dict[tuple[str, str], str] | None = None,
    by_id_hash: dict[str, str] | None = None,
) -> tuple[list[str], list[Link]]:
    """The golden customer_id of every record, and its link (the anchor's rule is ``ANCHOR``).

    ``existing``: records already resolved in the graph; ``by_id_hash``: customers already in the
    graph by national-ID hash (a later load of one system joins the people loaded before)."""
    existing = existing or {}
    by_id_hash = by_id_hash or {}
    members: dict[int, list[int]] = defaultdict(list)
    for i, root in enumerate(resolution.cluster):
        members[root].append(i)
    ids = [""] * len(records)
    links = list(resolution.links)
    for group in members.values():
        anchor = min(group, key=lambda i: (cfg.rank(records[i].system), records[i].source_id))
        known = sorted(
            existing[k]
            for i in group
            if (k := (records[i].system, records[i].source_id)) in existing
        )
        hashed = sorted(
            by_id_hash[h] for i in group if (h := records[i].id_hash) and h in by_id_hash
        )
        if records[anchor].system == cfg.system_priority[0]:
            own = f"C-{records[anchor].source_id}"
        else:
            own = f"C-{records[anchor].system}-{records[anchor].source_id}"
        cid = known[0] if known else own
        if not known and hashed and hashed[0] != own:
            cid = hashed[0]  # the person is in the graph from an earlier load
            for i in group:
                if records[i].id_hash in by_id_hash:
                    links[i] = Link("NATIONAL_ID", 1.0)
        for i in group:
            ids[i] = cid
        if len(group) > 1:
            links[anchor] = Link("ANCHOR", 1.0)
    return ids, links


# the stored fields survivorship chooses (graph/model.py); of the loaded fields not among them,
# ``updated_at`` is the latest of the cluster
GOLDEN_FIELDS = GOLDEN_CUSTOMER_FIELDS


def golden_records(records: pd.DataFrame, cfg: IdentityConfig) -> pd.DataFrame:
    """One row per ``customer_id`` by the survivorship rules (module docstring, point 5).

    ``records`` has columns customer_id, system, updated_at and the :data:`GOLDEN_FIELDS`
    (normalised: phone as 11 digits, no raw national ID). Returns customer_id, the fields and
    updated_at (the latest of the cluster)."""
    frame = records.copy()
    frame["_rank"] = frame["system"].map(cfg.rank)
    frame["_updated"] = pd.to_datetime(frame["updated_at"], utc=True)
    out = pd.DataFrame(index=pd.Index(sorted(frame["customer_id"].unique()), name="customer_id"))
    by_rank = frame.sort_values(["customer_id", "_rank", "_updated"], ascending=[True, True, False])
    by_recent = frame.sort_values(
        ["customer_id", "_updated", "_rank"], ascending=[True, False, True]
    )
    # the fields that survive by the same ordering are taken in one groupby (first non-null)
    orderings: dict[str | tuple[str, ...], list[str]] = {}
    for col in GOLDEN_FIELDS:
        if col in cfg.recent_fields:
            orderings.setdefault("recent", []).append(col)
        elif col in cfg.field_priority:
            orderings.setdefault(cfg.field_priority[col], []).append(col)
        else:
            orderings.setdefault("rank", []).append(col)
    for how, cols in orderings.items():
        if how == "recent":
            source = by_recent
        elif how == "rank":
            source = by_rank
        else:
            order = {system: k for k, system in enumerate(how)}
            source = frame.assign(_r=frame["system"].map(lambda s, order=order: order.get(s, 99)))
            source = source.sort_values(
                ["customer_id", "_r", "_updated"], ascending=[True, True, False]
            )
        firsts = source.groupby("customer_id", sort=True)[cols].first()
        for col in cols:
            out[col] = firsts[col]
    out = out[list(GOLDEN_FIELDS)]
    out["updated_at"] = frame.groupby("customer_id")["_updated"].max()
    out = out.astype(object).where(out.notna(), None)
    return out.reset_index()
