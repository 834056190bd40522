"""The linkage model: Splink settings from identity.yaml, training, and the versioned model file.

Comparisons are declared per attribute kind in etl/mappings/identity.yaml; :func:`comparison`
turns one into Splink's comparison levels (SQL over the columns of etl/linkage_frame.py, run by
DuckDB), from the most to the least specific:

- ``personal_name`` (one part: ``given`` or ``family``): same characters (or same spelling when
  either side is not hanzi), same pinyin with other characters (张/章), the two parts swapped
  (``WEI ZHANG`` / ``张伟``), one letter off (Levenshtein <= 1: DuckDB's Damerau-Levenshtein
  costs ten times as much, measured on 1 M FEBRL pairs, and Jaro-Winkler already forgives a
  transposition), Jaro-Winkler levels; term-frequency
  adjusted (a common name is weaker evidence).
- ``birth_date``: exact, day and month transposed, one digit off (Levenshtein <= 1 on
  ``YYYYMMDD``), within ``within_days``, same year.
- ``address``: exact, Jaro-Winkler levels, word overlap (Jaccard of the distinct words,
  precomputed per record as ``address_words``) at ``token_overlap``. ``place`` (city): exact with term frequencies, Jaro-Winkler.
  ``code`` (postcode): exact with term frequencies, one character off.
- ``national_id``: equal hashes, different hashes of the same type (strong evidence against;
  records of different ID types are not compared on it). ``exact`` (phone in E.164, e-mail,
  gender): equal or not.

Training (:func:`train`) needs no labels: u by random sampling of record pairs, the prior (the
share of pairs that match) from near-certain rules, m by expectation maximisation on the
``em_blocks``. What the training records cannot estimate is filled in explicitly, never left to
Splink's defaults (which gave a comparison whose column is empty, e.g. FEBRL's phone, e-mail
and gender, +9.1 for "same" and -1.7 for "different" at prediction, whatever the data): a
comparison no sampled pair has values for on both sides, or no EM match has, takes the
shipped model's m and u (or its m) when the shipped model has the same levels, else counts
for nothing (m = u: match weight 0); a level not seen among the N random pairs takes the
shipped model's m and u, else u = 1/N when EM saw it among the matches, else weight 0. Each
is a warning of the training (``c360 er-train`` prints them) and is listed in the model file
(``untrained``). The model file is Splink's model JSON inside our envelope (:data:`MODEL_VERSION`,
when and on what it was trained, and a fingerprint of the comparisons it was trained for: a model
trained for other comparisons is not used).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.identity import IdentityConfig, IdentityConfigError
from etl.mapping import MAPPINGS_DIR

MODEL_VERSION = 1
SHIPPED_MODEL = MAPPINGS_DIR / "er-model.json"
Level = dict[str, Any]


def _null(*cols: str) -> Level:
    cond = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols)
    return {"sql_condition": cond, "label_for_charts": "missing", "is_null_level": True}


def _level(sql: str, label: str, tf: str | None = None) -> Level:
    level: Level = {"sql_condition": sql, "label_for_charts": label}
    if tf:
        level |= {"tf_adjustment_column": tf, "tf_adjustment_weight": 1.0}
    return level


def _else() -> Level:
    return {"sql_condition": "ELSE", "label_for_charts": "different"}


def _thresholds(value: Any, default: list[float]) -> list[float]:
    if value is None:
        return default
    return [float(v) for v in (value if isinstance(value, list) else [value])]


def _personal_name(name: str, spec: dict[str, Any]) -> list[Level]:
    part = spec.get("part", name.removesuffix("_name"))
    if part not in ("given", "family"):
        raise IdentityConfigError(f"comparison {name}: part must be given or family, not {part}")
    col, other = f"{part}_name", "family_name" if part == "given" else "given_name"
    hz = f"{part}_hz"
    levels = [
        _null(col),
        _level(
            f"{hz}_l = {hz}_r OR (({hz}_l IS NULL OR {hz}_r IS NULL) AND {col}_l = {col}_r)",
            "same name",
            tf=col,
        ),
        _level(f"{col}_l = {col}_r", "same pinyin, other characters", tf=col),
        _level(f"{col}_l = {other}_r AND {other}_l = {col}_r", "swapped with the other part"),
        _level(f"levenshtein({col}_l, {col}_r) <= 1", "one letter off"),
    ]
    for t in _thresholds(spec.get("jaro_winkler"), [0.92, 0.8]):
        levels.append(_level(f"jaro_winkler_similarity({col}_l, {col}_r) >= {t}", f"similar {t}"))
    return [*levels, _else()]


def _birth_date(name: str, spec: dict[str, Any]) -> list[Level]:
    c = spec.get("column", "birth_date")
    days = int(spec.get("within_days", 31))
    ymd = "strftime({}, '%Y%m%d')"
    return [
        _null(c),
        _level(f"{c}_l = {c}_r", "same date"),
        _level(
            f"day({c}_l) = month({c}_r) AND month({c}_l) = day({c}_r) AND year({c}_l) = year({c}_r)",
            "day and month transposed",
        ),
        _level(
            f"levenshtein({ymd.format(c + '_l')}, {ymd.format(c + '_r')}) <= 1",
            "one digit off",
        ),
        _level(f"abs(datediff('day', {c}_l, {c}_r)) <= {days}", f"within {days} days"),
        _level(f"year({c}_l) = year({c}_r)", "same year"),
        _else(),
    ]


def _address(name: str, spec: dict[str, Any]) -> list[Level]:
    c = spec.get("column", name)
    words = spec.get("words_column", f"{c}_words")
    high, *rest = _thresholds(spec.get("jaro_winkler"), [0.9, 0.75])
    t = float(spec.get("token_overlap", 0.5))
    # Jaccard(A, B) >= t, with |A u B| = |A| + |B| - |A n B| (the words are distinct per record)
    shared = f"len(list_intersect({words}_l, {words}_r))"
    levels = [
        _null(c),
        _level(f"{c}_l = {c}_r", "same"),
        _level(f"jaro_winkler_similarity({c}_l, {c}_r) >= {high}", f"similar {high}"),
        _level(
            f"{shared} * {1 + t} >= {t} * (len({words}_l) + len({words}_r))", f"words overlap {t}"
        ),
    ]
    for t in rest:
        levels.append(_level(f"jaro_winkler_similarity({c}_l, {c}_r) >= {t}", f"similar {t}"))
    return [*levels, _else()]


def _place(name: str, spec: dict[str, Any]) -> list[Level]:
    c = spec.get("column", name)
    levels = [_null(c), _level(f"{c}_l = {c}_r", "same", tf=c)]
    for t in _thresholds(spec.get("jaro_winkler"), [0.9]):
        levels.append(_level(f"jaro_winkler_similarity({c}_l, {c}_r) >= {t}", f"similar {t}"))
    return [*levels, _else()]


def _code(name: str, spec: dict[str, Any]) -> list[Level]:
    c = spec.get("column", name)
    return [
        _null(c),
        _level(f"{c}_l = {c}_r", "same", tf=c),
        _level(f"levenshtein({c}_l, {c}_r) <= 1", "one character off"),
        _else(),
    ]


def _national_id(name: str, spec: dict[str, Any]) -> list[Level]:
    missing = "id_hash_l IS NULL OR id_hash_r IS NULL OR id_type_l <> id_type_r"
    return [
        {"sql_condition": missing, "label_for_charts": "missing", "is_null_level": True},
        _level("id_hash_l = id_hash_r", "same"),
        _else(),
    ]


def _exact(name: str, spec: dict[str, Any]) -> list[Level]:
    c = spec.get("column", name)
    return [_null(c), _level(f"{c}_l = {c}_r", "same"), _else()]


KINDS: dict[str, Callable[[str, dict[str, Any]], list[Level]]] = {
    "personal_name": _personal_name,
    "birth_date": _birth_date,
    "address": _address,
    "place": _place,
    "code": _code,
    "national_id": _national_id,
    "exact": _exact,
}


def comparison(spec: dict[str, Any]) -> dict[str, Any]:
    """One Splink comparison (as a settings dict) from its identity.yaml declaration."""
    name, kind = spec["name"], spec["kind"]
    if kind not in KINDS:
        raise IdentityConfigError(
            f"comparison {name}: unknown kind {kind!r} (one of {', '.join(KINDS)})"
        )
    return {
        "output_column_name": name,
        "comparison_description": f"{kind} {name}",
        "comparison_levels": KINDS[kind](name, spec),
    }


def comparisons_fingerprint(cfg: IdentityConfig) -> str:
    """What a model was trained for: the comparisons' levels (a model trained for others is
    not used)."""
    doc = [comparison(c) for c in cfg.comparisons]
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def settings(cfg: IdentityConfig) -> dict[str, Any]:
    """Untrained Splink settings for the configured comparisons and blocking rules."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1e-6,
        "comparisons": [comparison(c) for c in cfg.comparisons],
        "blocking_rules_to_generate_predictions": list(cfg.blocking_rules),
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": ["system", "source_id"],
    }


@dataclass(frozen=True)
class Model:
    """A trained model: Splink's settings (with m, u and the prior) and our metadata."""

    splink: dict[str, Any]
    meta: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(
            {"c360_er_model_version": MODEL_VERSION, **self.meta, "splink": self.splink},
            indent=1,
            ensure_ascii=False,
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)

    def for_config(self, cfg: IdentityConfig) -> dict[str, Any]:
        """The model's Splink settings with the configured blocking rules."""
        doc = json.loads(json.dumps(self.splink))
        doc["blocking_rules_to_generate_predictions"] = list(cfg.blocking_rules)
        doc["retain_intermediate_calculation_columns"] = True
        doc["additional_columns_to_retain"] = ["system", "source_id"]
        return doc


class ModelFileError(ValueError):
    """A model file that cannot be used; the message names the file."""


def read_model(path: Path) -> Model:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: not a readable model file ({exc})") from None
    version = doc.get("c360_er_model_version")
    if version != MODEL_VERSION or "splink" not in doc:
        raise ModelFileError(
            f"{path}: model format version {version!r}, this release reads {MODEL_VERSION}; "
            "train again with `c360 er-train`"
        )
    splink = doc.pop("splink")
    doc.pop("c360_er_model_version")
    return Model(splink, doc)


def compatible(model: Model, cfg: IdentityConfig) -> bool:
    return model.meta.get("comparisons_fingerprint") == comparisons_fingerprint(cfg)


def _quiet_splink() -> None:
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


def train(
    db_api: Any,
    table: str,
    cfg: IdentityConfig,
    *,
    source: str,
    records: int,
    echo: Callable[[str], None] = lambda _: None,
) -> Model:
    """Estimate the model on the records in DuckDB table ``table`` (columns of
    etl/linkage_frame.py), without labels (module docstring); what it cannot estimate is
    echoed as a warning."""
    from splink import Linker

    _quiet_splink()
    opts = cfg.model
    table = _training_sample(db_api, table, records, opts.max_training_records, opts.seed)
    linker = Linker(db_api.register(table), settings(cfg), log_level=None)
    if opts.prior_rules:
        linker.training.estimate_probability_two_random_records_match(
            list(opts.prior_rules), recall=opts.prior_recall
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=opts.u_max_pairs, seed=opts.seed)
    for block in opts.em_blocks:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block, estimate_without_term_frequencies=True
        )
    doc = linker.misc.save_model_to_json()
    seen = _estimated(doc)
    doc = _with_m_floor(doc, opts.m_floor)
    sampled = min(records, opts.max_training_records or records)
    pairs = int(min(opts.u_max_pairs, sampled * (sampled - 1) / 2))
    notes = _fill_untrained(doc, seen, _shipped_or_none(), max(pairs, 1))
    for note in notes:
        echo(f"warning: {note}")
    meta = {
        "trained_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "trained_on": source,
        "records": records,
        "sampled_records": sampled,
        "comparisons_fingerprint": comparisons_fingerprint(cfg),
        "splink_version": _splink_version(),
        "untrained": notes,
    }
    return Model(doc, meta)


def _training_sample(db_api: Any, table: str, records: int, limit: int, seed: int) -> str:
    """``table``, or a uniform sample of ``limit`` of its records when it has more.

    A uniform sample of a fraction f of the records keeps f² of the matching pairs and f² of
    all pairs, so the prior (the share of pairs that match) and the m and u probabilities are
    estimated without bias, at f² of the cost: on 2.5 M records EM over the birth-date block
    alone would compare about 10⁸ pairs. The sample is chosen by a seeded hash of the record
    key, so the same records train the same model."""
    if limit <= 0 or records <= limit:
        return table
    sample = f"{table}_training_sample"
    db_api.duckdb_con.execute(
        # table names are this module's callers' constants; values go as parameters
        f"CREATE OR REPLACE TABLE {sample} AS SELECT * FROM {table} "  # noqa: S608
        "ORDER BY hash(unique_id, ?::BIGINT) LIMIT ?",
        [seed, limit],
    )
    return sample


def _non_null(comp: dict[str, Any]) -> list[Level]:
    return [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]


def _estimated(doc: dict[str, Any]) -> dict[str, tuple[list[bool], list[bool]]]:
    """Per comparison, which levels training estimated m and u for (Splink's model JSON leaves
    out the probabilities it could not estimate)."""
    return {
        comp["output_column_name"]: (
            [bool(lv.get("m_probability")) for lv in _non_null(comp)],
            [lv.get("u_probability") is not None for lv in _non_null(comp)],
        )
        for comp in doc.get("comparisons", [])
    }


def _shipped_or_none() -> Model | None:
    try:
        return read_model(SHIPPED_MODEL)
    except ModelFileError:
        return None


def _shape(comp: dict[str, Any]) -> list[tuple[str, str]]:
    return [(lv["sql_condition"], lv.get("label_for_charts", "")) for lv in _non_null(comp)]


def _fill_untrained(
    doc: dict[str, Any],
    seen: dict[str, tuple[list[bool], list[bool]]],
    shipped: Model | None,
    pairs: int,
) -> list[str]:
    """Set the m and u training could not estimate (module docstring), in place; the notes."""
    shipped_comparisons = shipped.splink.get("comparisons", []) if shipped else []
    ref = {c["output_column_name"]: c for c in shipped_comparisons}
    notes = []
    for comp in doc.get("comparisons", []):
        name = comp["output_column_name"]
        levels = _non_null(comp)
        has_m, has_u = seen.get(name, ([True] * len(levels), [True] * len(levels)))
        theirs = ref.get(name)
        same = _non_null(theirs) if theirs is not None and _shape(theirs) == _shape(comp) else []
        if not any(has_u):
            for i, lv in enumerate(levels):
                lv["m_probability"], lv["u_probability"] = (
                    (same[i]["m_probability"], same[i]["u_probability"])
                    if same
                    else (lv["m_probability"], lv["m_probability"])
                )
            notes.append(
                f"comparison {name}: no pair of the training records has a value on both sides; "
                + ("it keeps the shipped model's weights" if same else "it counts for nothing "
                   "(match weight 0) until a model is trained on records that have it")
            )  # fmt: skip
            continue
        if not any(has_m):
            for i, lv in enumerate(levels):
                lv["m_probability"] = same[i]["m_probability"] if same else lv["u_probability"]
            notes.append(
                f"comparison {name}: no match in the EM blocks has a value on both sides; "
                + ("its m from the shipped model" if same else "it counts for nothing (match "
                   "weight 0)")
            )  # fmt: skip
            continue
        for i, lv in enumerate(levels):
            if has_u[i]:
                continue
            label = lv.get("label_for_charts", lv["sql_condition"])
            if same:
                lv["m_probability"] = same[i]["m_probability"]
                lv["u_probability"] = same[i]["u_probability"]
                how = "the shipped model's m and u"
            elif has_m[i]:
                lv["u_probability"] = 1 / pairs
                how = f"u taken as 1/{pairs:,}"
            else:
                lv["u_probability"] = lv["m_probability"]
                how = "nor among the EM matches: match weight 0"
            notes.append(
                f"comparison {name}, level {label!r}: in none of the {pairs:,} random pairs; {how}"
            )
    return notes


def _with_m_floor(doc: dict[str, Any], floor: float) -> dict[str, Any]:
    """Every non-null level keeps at least ``floor`` of m (renormalised): EM gives m = 0 to a
    level it never saw among matches (our generator's family names never disagree), which
    would make one disagreement a veto on a real bank's data, where they do."""
    for comp in doc.get("comparisons", []):
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        ms = [max(float(lv.get("m_probability") or 0.0), floor) for lv in levels]
        total = sum(ms)
        for lv, m in zip(levels, ms, strict=True):
            lv["m_probability"] = m / total
    return doc


def _splink_version() -> str:
    import splink

    return str(splink.__version__)


def level_weights(model: Model) -> list[tuple[str, str, float | None, float | None, float | None]]:
    """(comparison, level, m, u, match weight) of every non-null level: what `c360 er-train`
    prints."""
    out = []
    for comp in model.splink.get("comparisons", []):
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            out.append((comp["output_column_name"], level["label_for_charts"], m, u, weight))
    return out


def model_path(home: Path, cfg: IdentityConfig) -> Path:
    """Where loads look for the model: identity.yaml's ``model.file`` under the data folder."""
    path = Path(cfg.model.file)
    return path if path.is_absolute() else home / path


def model_for_load(
    path: Path, cfg: IdentityConfig, echo: Callable[[str], None] = lambda _: None
) -> Callable[[Any, str, int], Model]:
    """How a load gets its model: the one saved at ``path`` (``c360 er-train``) when it was
    trained for the configured comparisons; else one trained on the load's records and saved
    there (first use), when there are at least ``min_training_records``; else the model shipped
    in etl/mappings/er-model.json (a load of a few records cannot train EM)."""

    def get(db_api: Any, table: str, records: int) -> Model:
        from splink.internals.exceptions import EMTrainingException

        if path.exists():
            saved = read_model(path)
            if compatible(saved, cfg):
                return saved
            echo(f"{path} was trained for other comparisons than identity.yaml's: not used")
        if records >= cfg.model.min_training_records:
            echo(f"no ER model at {path}: training one on this load's {records:,} records")
            try:
                model = train(db_api, table, cfg, source=f"first load ({records} records)",
                              records=records, echo=echo)  # fmt: skip
            # EM on degenerate data: a block no pair falls in (EMTrainingException), or a prior
            # of 0 or 1 (Splink's log of it: ValueError "math domain error")
            except (EMTrainingException, ValueError, ZeroDivisionError) as exc:
                echo(
                    f"training on this load's records failed ({exc}); using the shipped model "
                    "(train one with `c360 er-train` and a suitable `model.em_blocks`)"
                )
            else:
                model.save(path)
                echo(f"saved the ER model to {path} (`c360 er-train` prints its weights)")
                return model
        shipped = read_model(SHIPPED_MODEL)
        if not compatible(shipped, cfg):
            raise ModelFileError(
                f"{records} records are too few to train an ER model (identity.yaml "
                f"model.min_training_records: {cfg.model.min_training_records}) and the shipped "
                f"{SHIPPED_MODEL.name} was trained for other comparisons: run `c360 er-train` "
                "on a larger extract first"
            )
        return shipped

    return get
