"""Identity resolution of one load on DuckDB: score, cluster, name (called by etl/spill.py).

The records are in two tables of the spill's database (columns of etl/linkage_frame.py):
``m`` (this load; ``fresh`` unless the graph already resolved the record, then ``cid`` is its
customer) and ``known`` (the graph's records this load does not bring, with their ``cid``).

1. **Score** with Splink: the fresh records with each other (``predict_within``) and against the
   resolved ones (``predict_between``: cross-load linking; resolved records are not compared
   with each other), on the configured blocking rules, term frequencies from all the records.
   (Fewer records than ``model.min_training_records``: no term-frequency adjustment, a name's
   frequency among a few records says nothing.) Pairs of one system are dropped when the
   system does not dedupe (identity.yaml). Pairs whose two records both carry IDs of a
   ``national_id_veto`` type are left out of blocking (the IDs decide them); those with the same
   ID are scored from their own list, for their evidence only. Kept: pairs
   at or above the ``review`` threshold, and pairs with the same national-ID hash of one type
   (rule ``NATIONAL_ID``, whatever their score).
2. **Cluster**: Splink's connected components over the links (``link`` threshold, or same ID),
   without the pairs that may never be one customer: NOT_SAME_AS (a steward's decision), two
   national IDs of a ``national_id_veto`` type that differ. A component is then checked: it may
   not join two customers already in the graph (a load never merges existing customers: that is
   a steward's ``confirmMatch``), nor hold a NOT_SAME_AS pair, nor two records whose own score is
   below ``separate`` (scored for every pair of a component of at most
   :data:`MAX_CHECKED_CLUSTER` records, blocked or not), nor two IDs of a veto type that differ:
   the IDs of its records **and of every record of the customers they already belong to** (a
   new record linked to one record of a customer meets the IDs of all that customer's records,
   compared or not). The ID check is linear (the distinct IDs per type and component), so it
   holds in components of any size. A component that breaks a rule is re-clustered greedily
   (:class:`_Groups`): its links strongest first (same ID first, then by weight, ties by the
   records' keys), each joining two groups unless that would break a rule, so a chain is cut
   at its weakest link. A group carries the IDs of its records and customers; two groups join
   when, for every veto type, the IDs of one are among the other's (a customer a steward gave
   two IDs of a type takes a record with either, never a third).
3. **Name**: a cluster with a resolved record takes its customer; a new one the id of its anchor
   (etl/identity.customer_id_for). Each fresh record's link is its strongest link inside its
   cluster (rule, probability, match weight and the comparison levels with their weights).
4. **Review**: scored pairs at or above ``review`` whose records end in different customers
   (not the NOT_SAME_AS ones: decided already).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pandas as pd

from etl.identity import IdentityConfig, customer_id_for
from etl.linkage_model import Model

ID_WEIGHT = 1e9  # a same-ID link sorts before any scored one
# larger components are re-clustered without scoring all their pairs (the ``separate`` check);
# the owners, NOT_SAME_AS and the national-ID veto hold at any size
MAX_CHECKED_CLUSTER = 200
COLUMNS = (
    "unique_id, system, source_id, given_name, family_name, given_hz, family_hz, birth_date, "
    "gender, phone, email, address, address_words, city, postcode, id_hash, id_type"
)


def _count(db: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = db.execute(sql).fetchall()  # not fetchone: Splink may not use an unfinished connection
    return int(rows[0][0]) if rows else 0


def _prepare(db: duckdb.DuckDBPyConnection) -> None:
    """Assignments from the graph, and the tables Splink reads."""
    db.execute(
        """
        UPDATE m SET cid = k.cid, fresh = false FROM known k
        WHERE m.system = k.system AND m.source_id = k.source_id;
        DELETE FROM known WHERE EXISTS (
            SELECT 1 FROM m WHERE m.system = known.system AND m.source_id = known.source_id);
        """
    )
    db.execute(
        f"""
        CREATE OR REPLACE TABLE fresh AS SELECT {COLUMNS} FROM m WHERE fresh;
        CREATE OR REPLACE TABLE resolved AS
            SELECT {COLUMNS} FROM m WHERE NOT fresh
            UNION ALL SELECT {COLUMNS} FROM known;
        CREATE OR REPLACE TABLE allrec AS
            SELECT *, true AS is_fresh FROM fresh
            UNION ALL SELECT *, false AS is_fresh FROM resolved;
        CREATE OR REPLACE TABLE owner AS
            SELECT unique_id, cid FROM m WHERE NOT fresh
            UNION ALL SELECT unique_id, cid FROM known;
        """  # noqa: S608 - constant column list
    )


def _comparisons_sql(linker: Any) -> str:
    """SQL of the comparisons JSON of a scored pair: ``[{name, level, weight}]`` of the
    comparisons both records have a value for (the weight with its term-frequency part)."""
    parts = []
    for comp in linker._settings_obj.comparisons:
        name = comp.output_column_name
        cases = " ".join(
            f"WHEN {lv.comparison_vector_value} THEN '{lv.label_for_charts}'"
            for lv in comp.comparison_levels
            if not lv.is_null_level
        )
        tf = f" + coalesce(mw_tf_adj_{name}, 0)" if comp._has_tf_adjustments else ""
        parts.append(
            f"CASE WHEN gamma_{name} >= 0 THEN {{'name': '{name}', 'level': CASE gamma_{name} "
            f"{cases} END, 'weight': round(mw_{name}{tf}, 3)}} END"
        )
    return f"to_json(list_filter([{', '.join(parts)}], lambda x: x IS NOT NULL))::VARCHAR"


def _score(
    db: duckdb.DuckDBPyConnection,
    cfg: IdentityConfig,
    model_for: Callable[[Any, str, int], Model],
    echo: Callable[[str], None],
) -> Any:
    """Splink's scores of the candidate pairs into table ``scored`` (l, r, p, w, comps)."""
    from splink import DuckDBAPI, Linker

    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)
    records = _count(db, "SELECT count(*) FROM allrec")
    model = model_for(DuckDBAPI(connection=db), "allrec", records)
    # a Splink API of its own for scoring: the one training used caches the term-frequency
    # tables it computed on its sample, which scoring would take for the whole load's (a first
    # load, which trains, would then resolve otherwise than every later one)
    db_api = DuckDBAPI(connection=db)
    settings = model.for_config(cfg) | {"retain_matching_columns": True}
    if records < cfg.model.min_training_records:
        # a name's frequency among a few records says nothing of its frequency in the bank
        for comp in settings["comparisons"]:
            for level in comp["comparison_levels"]:
                level.pop("tf_adjustment_column", None)
                level.pop("tf_adjustment_weight", None)
    linker = Linker(db_api.register("allrec"), settings, log_level=None)
    for comp in linker._settings_obj.comparisons:
        for level in comp.comparison_levels:
            if level._has_tf_adjustments:
                linker.table_management.compute_tf_table(level._tf_adjustment_input_column.name)
    review = cfg.thresholds.review
    rules: list[Any] = list(_rules_outside_veto(cfg))
    echo("scoring the new records with each other")
    parts = [
        linker.inference.predict_within(
            db_api.register("fresh"),
            blocking_rules_to_generate_predictions=rules,
            threshold_match_probability=review,
            warning_mode="never",
        )
    ]
    if _count(db, "SELECT count(*) FROM resolved"):
        echo("scoring the new records against the records already in the graph")
        parts.append(
            linker.inference.predict_between(
                db_api.register("fresh"),
                db_api.register("resolved"),
                blocking_rules_to_generate_predictions=rules,
                threshold_match_probability=review,
                warning_mode="never",
            )
        )
    if cfg.national_id_veto:
        # pairs with the same checked ID link by the ID: scored only for their evidence
        types = _veto_types(cfg)
        db.execute(
            f"""
            CREATE OR REPLACE TABLE same_id_pairs AS
            SELECT '0' AS match_key, a.unique_id AS join_key_l, b.unique_id AS join_key_r
            FROM allrec a JOIN allrec b
              ON a.id_hash = b.id_hash AND a.id_type = b.id_type AND a.unique_id < b.unique_id
            WHERE a.id_type IN ({types}) AND (a.is_fresh OR b.is_fresh)
            """  # noqa: S608 - config values checked
        )
        if _count(db, "SELECT count(*) FROM same_id_pairs"):
            echo("scoring the pairs with the same national ID (their evidence)")
            linker.table_management.register_blocked_pairs_for_predict(
                db_api.register("same_id_pairs")
            )
            parts.append(
                linker.inference.predict(threshold_match_probability=review, warning_mode="never")
            )
    comps = _comparisons_sql(linker)
    selects = " UNION ALL ".join(
        f"SELECT least(unique_id_l, unique_id_r) AS l, greatest(unique_id_l, unique_id_r) AS r, "  # noqa: S608
        f"match_probability AS p, match_weight AS w, {comps} AS comps, "
        f"system_l AS sys_l, system_r AS sys_r FROM {part.physical_name}"
        for part in parts
    )
    db.execute(f"CREATE OR REPLACE TABLE scored AS {selects}")  # noqa: S608 - Splink's tables
    for part in parts:
        part.drop_table_from_database_and_remove_from_cache()
    return linker


def _veto_types(cfg: IdentityConfig) -> str:
    """SQL list of the ``national_id_veto`` types (config values, checked on load)."""
    return ", ".join(f"'{t}'" for t in cfg.national_id_veto)


def _rules_outside_veto(cfg: IdentityConfig) -> list[str]:
    """The blocking rules without the pairs whose two records carry IDs of one veto type: the
    IDs decide those (equal: one customer, rule NATIONAL_ID; different: never one), so scoring
    them would change nothing but the cost (at bank size most records have a checked ID)."""
    if not cfg.national_id_veto:
        return list(cfg.blocking_rules)
    types = _veto_types(cfg)
    both = (
        f"coalesce(l.id_type = r.id_type AND l.id_type IN ({types}) "
        "AND l.id_hash IS NOT NULL AND r.id_hash IS NOT NULL, false)"
    )
    return [f"({rule}) AND NOT {both}" for rule in cfg.blocking_rules]


def _no_dedupe_filter(cfg: IdentityConfig, a: str, b: str) -> str:
    """SQL: the pair is not of one system that does not dedupe."""
    off = [s for s, on in cfg.dedupe_systems.items() if not on]
    if cfg.dedupe_default:
        if not off:
            return "true"
        names = ", ".join(f"'{s}'" for s in off)
        return f"NOT ({a} = {b} AND {a} IN ({names}))"
    on = [s for s, v in cfg.dedupe_systems.items() if v]
    if not on:
        return f"coalesce({a} <> {b}, true)"  # never ``IN (NULL)``: NULL would keep the pair
    names = ", ".join(f"'{s}'" for s in on)
    return f"coalesce({a} <> {b} OR {a} IN ({names}), true)"


def _veto_sql(cfg: IdentityConfig, a: str, b: str) -> str:
    if not cfg.national_id_veto:
        return "false"
    types = _veto_types(cfg)
    return (
        f"coalesce({a}.id_type = {b}.id_type AND {a}.id_type IN ({types}) "
        f"AND {a}.id_hash <> {b}.id_hash, false)"
    )


def _edges(db: duckdb.DuckDBPyConnection, cfg: IdentityConfig, scored: bool) -> None:
    """Table ``edge`` (l, r, p, w, comps, same_id): the links clustering may use."""
    within = _no_dedupe_filter(cfg, "a.system", "b.system")
    db.execute(
        f"""
        CREATE OR REPLACE TABLE idpair AS
        SELECT a.unique_id AS l, b.unique_id AS r FROM allrec a JOIN allrec b
          ON a.id_hash = b.id_hash AND a.id_type = b.id_type AND a.unique_id < b.unique_id
        WHERE (a.is_fresh OR b.is_fresh) AND {within};
        CREATE OR REPLACE TABLE nsa_id AS
        SELECT least(a.unique_id, b.unique_id) AS l, greatest(a.unique_id, b.unique_id) AS r
        FROM nsa n
        JOIN (SELECT unique_id, system, source_id FROM allrec) a
          ON a.system = n.system_a AND a.source_id = n.source_id_a
        JOIN (SELECT unique_id, system, source_id FROM allrec) b
          ON b.system = n.system_b AND b.source_id = n.source_id_b;
        """  # noqa: S608 - config values checked
    )
    if not scored:
        db.execute(
            "CREATE OR REPLACE TABLE scored (l BIGINT, r BIGINT, p DOUBLE, w DOUBLE, "
            "comps VARCHAR, sys_l VARCHAR, sys_r VARCHAR)"
        )
    else:
        db.execute(f"DELETE FROM scored WHERE NOT ({_no_dedupe_filter(cfg, 'sys_l', 'sys_r')})")  # noqa: S608
    link = cfg.thresholds.link
    db.execute(
        f"""
        CREATE OR REPLACE TABLE edge AS
        WITH cand AS (
            SELECT coalesce(s.l, i.l) AS l, coalesce(s.r, i.r) AS r, s.p, s.w, s.comps,
                   i.l IS NOT NULL AS same_id
            FROM (SELECT * FROM scored WHERE p >= {link}) s
            FULL JOIN idpair i ON i.l = s.l AND i.r = s.r
        )
        SELECT c.* FROM cand c
        JOIN allrec a ON a.unique_id = c.l JOIN allrec b ON b.unique_id = c.r
        WHERE NOT {_veto_sql(cfg, "a", "b")}
          AND NOT EXISTS (SELECT 1 FROM nsa_id n WHERE n.l = c.l AND n.r = c.r);
        UPDATE edge SET p = coalesce(s.p, edge.p), w = coalesce(s.w, edge.w),
                        comps = coalesce(s.comps, edge.comps)
        FROM scored s WHERE s.l = edge.l AND s.r = edge.r AND edge.p IS NULL;
        """  # noqa: S608 - config values checked
    )


def _components(db: duckdb.DuckDBPyConnection) -> None:
    """Table ``comp`` (unique_id, cluster): Splink's connected components of the edges."""
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    db.execute(
        """
        CREATE OR REPLACE TABLE node AS
        SELECT unique_id FROM fresh
        UNION SELECT l FROM edge UNION SELECT r FROM edge;
        CREATE OR REPLACE TABLE edge_cc AS
        SELECT l AS unique_id_l, r AS unique_id_r, 1.0 AS match_probability FROM edge;
        """
    )
    db_api = DuckDBAPI(connection=db)
    cc = cluster_pairwise_predictions_at_threshold(
        db_api.register("node"),
        db_api.register("edge_cc"),
        db_api,
        "unique_id",
        threshold_match_probability=0.5,
    )
    db.execute(
        "CREATE OR REPLACE TABLE comp AS SELECT unique_id, cluster_id AS cluster "  # noqa: S608
        f"FROM {cc.physical_name}"
    )
    cc.drop_table_from_database_and_remove_from_cache()


def _vetoed_ids(db: duckdb.DuckDBPyConnection, cfg: IdentityConfig) -> None:
    """Table ``vid`` (unique_id, id_type, id_hash): the IDs of a veto type each record of a
    component stands for: its own, and those of every record of the customer it belongs to."""
    if not cfg.national_id_veto:
        db.execute(
            "CREATE OR REPLACE TABLE vid (unique_id BIGINT, id_type VARCHAR, id_hash VARCHAR)"
        )
        return
    types = _veto_types(cfg)
    db.execute(
        f"""
        CREATE OR REPLACE TABLE vid AS
        WITH ids AS (
            SELECT unique_id, id_type, id_hash FROM allrec
            WHERE id_hash IS NOT NULL AND id_type IN ({types})
        ), held AS (  -- the customers of the components' records, with all their records' IDs
            SELECT DISTINCT o.cid, i.id_type, i.id_hash FROM owner o JOIN ids i USING (unique_id)
            WHERE o.cid IN (SELECT o2.cid FROM comp c JOIN owner o2 USING (unique_id))
        )
        SELECT c.unique_id, i.id_type, i.id_hash FROM comp c JOIN ids i USING (unique_id)
        UNION
        SELECT c.unique_id, h.id_type, h.id_hash
        FROM comp c JOIN owner o USING (unique_id) JOIN held h ON h.cid = o.cid;
        """  # noqa: S608 - config values checked
    )


def _cluster_pairs_below_separate(
    db: duckdb.DuckDBPyConnection, cfg: IdentityConfig, linker: Any
) -> None:
    """Table ``apart`` (l, r): pairs in one component that may not be one customer (a steward's
    NOT_SAME_AS; in a component of 3 to :data:`MAX_CHECKED_CLUSTER` records, a score below
    ``separate``). The national-ID veto is not a pair here: :func:`_recluster` checks IDs."""
    db.execute(
        f"""
        CREATE OR REPLACE TABLE csize AS
        SELECT cluster, count(*) AS n FROM comp GROUP BY cluster HAVING count(*) > 1;
        CREATE OR REPLACE TABLE cpair AS
        SELECT a.unique_id AS l, b.unique_id AS r, a.cluster
        FROM comp a JOIN comp b ON a.cluster = b.cluster AND a.unique_id < b.unique_id
        JOIN csize s ON s.cluster = a.cluster
        WHERE s.n >= 3 AND s.n <= {MAX_CHECKED_CLUSTER};
        CREATE OR REPLACE TABLE apart AS
        SELECT n.l, n.r FROM nsa_id n
        JOIN comp a ON a.unique_id = n.l JOIN comp b ON b.unique_id = n.r
        WHERE a.cluster = b.cluster;
        """  # noqa: S608 - a constant
    )
    if linker is None:
        return
    # score the pairs of components of three or more that no blocking rule put together
    db.execute(
        """
        CREATE OR REPLACE TABLE unscored AS
        SELECT '0' AS match_key, p.l AS join_key_l, p.r AS join_key_r FROM cpair p
        WHERE NOT EXISTS (SELECT 1 FROM edge e WHERE e.l = p.l AND e.r = p.r)
        """
    )
    if not _count(db, "SELECT count(*) FROM unscored"):
        return
    from splink import DuckDBAPI

    db_api = linker._db_api if hasattr(linker, "_db_api") else DuckDBAPI(connection=db)
    linker.table_management.register_blocked_pairs_for_predict(db_api.register("unscored"))
    pred = linker.inference.predict(warning_mode="never")
    db.execute(
        "INSERT INTO apart SELECT least(unique_id_l, unique_id_r), "  # noqa: S608
        f"greatest(unique_id_l, unique_id_r) FROM {pred.physical_name} "
        f"WHERE match_probability < {cfg.thresholds.separate}"  # noqa: S608 - Splink's table
    )
    pred.drop_table_from_database_and_remove_from_cache()


IdSet = dict[str, frozenset[str]]  # veto type -> the ID hashes a group holds


def _ids_agree(a: IdSet, b: IdSet) -> bool:
    """Whether two groups may join under the veto: for every type both hold, the IDs of one
    are among the other's (one record's ID, or a customer's, which a steward may have given
    two)."""
    for kind, ours in a.items():
        theirs = b.get(kind)
        if theirs and not (ours <= theirs or theirs <= ours):
            return False
    return True


class _Groups:
    """Union-find over the records of the components that broke a rule (module docstring)."""

    def __init__(
        self, owners: dict[int, str], apart: dict[int, set[int]], ids: dict[int, IdSet]
    ) -> None:
        self.parent: dict[int, int] = {}
        self.members: dict[int, set[int]] = {}
        self.owner = owners
        self.apart = apart
        self.ids = ids  # by root: the IDs of the group's records and of their customers

    def find(self, i: int) -> int:
        if i not in self.parent:
            self.parent[i], self.members[i] = i, {i}
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def join(self, a: int, b: int) -> bool:
        """Join the groups of ``a`` and ``b`` unless a rule forbids it; whether they are one."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        oa, ob = self.owner.get(ra), self.owner.get(rb)
        if oa and ob and oa != ob:
            return False  # two customers of the graph: a steward's decision
        ia, ib = self.ids.get(ra, {}), self.ids.get(rb, {})
        if not _ids_agree(ia, ib):
            return False  # two national IDs of a veto type
        small, large = sorted((ra, rb), key=lambda r: len(self.members[r]))
        forbidden = set().union(*(self.apart.get(i, set()) for i in self.members[small]))
        if forbidden & self.members[large]:
            return False
        self.parent[small] = large
        self.members[large] |= self.members.pop(small)
        if oa or ob:
            self.owner[large] = oa or ob  # type: ignore[assignment]
        merged = {k: ia.get(k, frozenset()) | ib.get(k, frozenset()) for k in {*ia, *ib}}
        self.ids.pop(small, None)
        if merged:
            self.ids[large] = merged
        return True


def _recluster(db: duckdb.DuckDBPyConnection) -> None:
    """Table ``final`` (unique_id, cluster): the components, those breaking a rule re-clustered."""
    db.execute(
        f"""
        CREATE OR REPLACE TABLE bad AS
        SELECT c.cluster FROM comp c JOIN owner o ON o.unique_id = c.unique_id
        GROUP BY c.cluster HAVING count(DISTINCT o.cid) > 1
        UNION SELECT c.cluster FROM apart a JOIN comp c ON c.unique_id = a.l
        UNION SELECT c.cluster FROM comp c JOIN vid v USING (unique_id)
        GROUP BY c.cluster, v.id_type HAVING count(DISTINCT v.id_hash) > 1
        UNION SELECT cluster FROM comp GROUP BY cluster HAVING count(*) > {MAX_CHECKED_CLUSTER};
        CREATE OR REPLACE TABLE final AS
        SELECT unique_id, cluster FROM comp WHERE cluster NOT IN (SELECT cluster FROM bad);
        """  # noqa: S608 - a constant
    )
    members = db.execute(
        "SELECT c.unique_id, o.cid FROM comp c LEFT JOIN owner o ON o.unique_id = c.unique_id "
        "WHERE c.cluster IN (SELECT cluster FROM bad)"
    ).fetchall()
    if not members:
        return
    owners = {uid: cid for uid, cid in members if cid is not None}
    apart: dict[int, set[int]] = {}
    for a, b in db.execute(
        "SELECT l, r FROM apart WHERE l IN (SELECT c.unique_id FROM comp c "
        "WHERE c.cluster IN (SELECT cluster FROM bad))"
    ).fetchall():
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)
    held: dict[int, dict[str, set[str]]] = {}
    for uid, kind, value in db.execute(
        "SELECT v.unique_id, v.id_type, v.id_hash FROM vid v JOIN comp c USING (unique_id) "
        "WHERE c.cluster IN (SELECT cluster FROM bad)"
    ).fetchall():
        held.setdefault(uid, {}).setdefault(kind, set()).add(value)
    ids = {uid: {k: frozenset(v) for k, v in kinds.items()} for uid, kinds in held.items()}
    groups = _Groups(dict(owners), apart, ids)
    for uid, _ in members:
        groups.find(uid)
    edges = db.execute(
        f"""
        SELECT e.l, e.r FROM edge e JOIN comp c ON c.unique_id = e.l
        JOIN allrec a ON a.unique_id = e.l JOIN allrec b ON b.unique_id = e.r
        WHERE c.cluster IN (SELECT cluster FROM bad)
        -- same-ID links first, then by weight; ties by the two records' keys, the lesser
        -- first: never by the order the records came in (which gives the unique ids, and
        -- which of a pair is l), so a load, a resume and a re-load cluster alike
        ORDER BY e.same_id DESC, CASE WHEN e.same_id THEN {ID_WEIGHT} ELSE e.w END DESC
                 NULLS LAST,
                 least([a.system, a.source_id], [b.system, b.source_id]),
                 greatest([a.system, a.source_id], [b.system, b.source_id])
        """  # noqa: S608 - constant
    ).fetchall()
    for a, b in edges:
        groups.join(a, b)
    rows = pd.DataFrame(
        [(uid, -1 - groups.find(uid)) for uid, _ in members], columns=["unique_id", "cluster"]
    )
    db.register("_regrouped", rows)
    try:
        db.execute("INSERT INTO final SELECT unique_id, cluster FROM _regrouped")
    finally:
        db.unregister("_regrouped")


def _name(db: duckdb.DuckDBPyConnection, cfg: IdentityConfig) -> None:
    """Tables ``out`` (idx, cid, resolved) and ``link`` (idx, rule, confidence, match_weight,
    comparisons_json) for every record of this load."""
    db.execute(
        """
        CREATE OR REPLACE TABLE cl AS
        SELECT f.unique_id, f.cluster, a.system, a.source_id, a.is_fresh, o.cid
        FROM final f JOIN allrec a ON a.unique_id = f.unique_id
        LEFT JOIN owner o ON o.unique_id = f.unique_id
        WHERE f.cluster IN (SELECT cluster FROM final f2 JOIN fresh x ON x.unique_id = f2.unique_id)
        """
    )
    priority = pd.DataFrame(
        {"system": list(cfg.system_priority), "rank": range(len(cfg.system_priority))}
    )
    rank = len(cfg.system_priority)  # of a system not listed
    db.register("_priority", priority)
    try:
        rows = db.execute(
            f"""
            WITH anchor AS (  -- the key orders records fully: two systems may share a rank
                SELECT cluster, arg_min(system, (coalesce(p.rank, {rank}), source_id, system))
                       AS system,
                       arg_min(source_id, (coalesce(p.rank, {rank}), source_id, system))
                       AS source_id,
                       arg_min(unique_id, (coalesce(p.rank, {rank}), source_id, system))
                       AS anchor,
                       list(DISTINCT cid) FILTER (WHERE cid IS NOT NULL) AS known,
                       count(*) AS n
                FROM cl LEFT JOIN _priority p USING (system)
                WHERE is_fresh OR cid IS NOT NULL GROUP BY cluster
            )
            SELECT cluster, system, source_id, anchor, known, n FROM anchor
            """  # noqa: S608 - numbers only
        ).fetchall()
    finally:
        db.unregister("_priority")
    named = pd.DataFrame(
        [
            (cluster, customer_id_for(system, source_id, list(known or []), cfg), anchor,
             not known and n > 1)
            for cluster, system, source_id, anchor, known, n in rows
        ],
        columns=["cluster", "cid", "anchor", "new_group"],
    )  # fmt: skip
    db.register("_named", named)
    try:
        db.execute(
            """
            CREATE OR REPLACE TABLE clname AS SELECT * FROM _named;
            CREATE OR REPLACE TABLE out AS
            SELECT m.unique_id AS idx,
                   CASE WHEN m.fresh THEN n.cid ELSE m.cid END AS cid,
                   NOT m.fresh AS resolved
            FROM m LEFT JOIN final f ON f.unique_id = m.unique_id
            LEFT JOIN clname n ON n.cluster = f.cluster;
            """
        )
    finally:
        db.unregister("_named")
    # a fresh record in no cluster is alone: its own anchor
    lonely = db.execute(
        "SELECT o.idx, m.system, m.source_id FROM out o JOIN m ON m.unique_id = o.idx "
        "WHERE o.cid IS NULL"
    ).fetchall()
    if lonely:
        fix = pd.DataFrame(
            [(idx, customer_id_for(s, i, [], cfg)) for idx, s, i in lonely],
            columns=["idx", "cid"],
        )
        db.register("_lonely", fix)
        try:
            db.execute("UPDATE out SET cid = l.cid FROM _lonely l WHERE l.idx = out.idx")
        finally:
            db.unregister("_lonely")
    db.execute(
        f"""
        CREATE OR REPLACE TABLE inside AS
        SELECT e.* FROM edge e JOIN final a ON a.unique_id = e.l JOIN final b ON b.unique_id = e.r
        WHERE a.cluster = b.cluster;
        CREATE OR REPLACE TABLE best AS  -- equal links: the other record's key decides
        SELECT i.idx, arg_max(struct_pack(i.same_id, i.p, i.w, i.comps),
                              (i.same_id, coalesce(i.w, {ID_WEIGHT}), o.system, o.source_id))
                      AS e
        FROM (SELECT l AS idx, r AS other, * EXCLUDE (l, r) FROM inside
              UNION ALL SELECT r AS idx, l AS other, * EXCLUDE (l, r) FROM inside) i
        JOIN allrec o ON o.unique_id = i.other
        GROUP BY i.idx;
        CREATE OR REPLACE TABLE link AS
        SELECT m.unique_id AS idx,
               CASE WHEN NOT m.fresh THEN 'SINGLETON'
                    WHEN n.anchor = m.unique_id AND n.new_group THEN 'ANCHOR'
                    WHEN b.e IS NULL THEN 'SINGLETON'
                    WHEN b.e.same_id THEN 'NATIONAL_ID'
                    ELSE 'PROBABILISTIC' END AS rule,
               CASE WHEN b.e IS NULL OR b.e.same_id OR n.anchor = m.unique_id THEN 1.0
                    ELSE round(b.e.p, 6) END AS confidence,
               round(b.e.w, 3) AS match_weight,
               b.e.comps AS comparisons_json
        FROM m LEFT JOIN final f ON f.unique_id = m.unique_id
        LEFT JOIN clname n ON n.cluster = f.cluster
        LEFT JOIN best b ON b.idx = m.unique_id;
        """  # noqa: S608 - constant
    )
    db.execute(
        """
        CREATE OR REPLACE TABLE cust AS
        SELECT idx AS unique_id, cid FROM out UNION ALL SELECT unique_id, cid FROM known;
        CREATE OR REPLACE TABLE review AS
        SELECT s.*, a.cid AS cid_l, b.cid AS cid_r FROM scored s
        JOIN cust a ON a.unique_id = s.l JOIN cust b ON b.unique_id = s.r
        WHERE a.cid <> b.cid
          AND NOT EXISTS (SELECT 1 FROM nsa_id n WHERE n.l = s.l AND n.r = s.r);
        """
    )


def resolve(
    db: duckdb.DuckDBPyConnection,
    cfg: IdentityConfig,
    model_for: Callable[[Any, str, int], Model],
    *,
    echo: Callable[[str], None] = lambda _: None,
) -> int:
    """Resolve the load (module docstring); the number of review pairs."""
    _prepare(db)
    fresh = _count(db, "SELECT count(*) FROM fresh")
    linker = _score(db, cfg, model_for, echo) if fresh else None
    _edges(db, cfg, scored=linker is not None)
    echo("clustering")
    _components(db)
    _vetoed_ids(db, cfg)
    _cluster_pairs_below_separate(db, cfg, linker)
    _recluster(db)
    _name(db, cfg)
    return _count(db, "SELECT count(*) FROM review")


def review_rows(db: duckdb.DuckDBPyConnection) -> Iterator[dict[str, Any]]:
    """The review pairs, most probable first (then by key): both records, their customers, the
    pair's probability, match weight and comparisons JSON."""
    rows = db.execute(
        """
        SELECT a.system, a.source_id, v.cid_l, b.system, b.source_id, v.cid_r, v.p, v.w, v.comps
        FROM review v JOIN allrec a ON a.unique_id = v.l JOIN allrec b ON b.unique_id = v.r
        ORDER BY v.p DESC, a.system, a.source_id, b.system, b.source_id
        """
    ).fetchall()  # all at once: the caller may query the database between two rows
    for sa, ia, ca, sb, ib, cb, p, w, comps in rows:
        (sa, ia, ca), (sb, ib, cb) = sorted(((sa, ia, ca), (sb, ib, cb)))
        yield {
            "system_a": sa, "source_id_a": ia, "customer_id_a": ca,
            "system_b": sb, "source_id_b": ib, "customer_id_b": cb,
            "probability": round(p, 6), "match_weight": round(w, 3),
            "comparisons": json.loads(comps) if comps else [],
        }  # fmt: skip
