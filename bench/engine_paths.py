"""The loader's read → map → validate stages on one customers file, by the pandas reader the loader
used before etl/engine.py and by the DuckDB engine, each in its own process under
``/usr/bin/time -v`` (peak RSS) with its wall time: the figures behind "no slower, no bigger".

    python -m bench.engine_paths --rows 200000 --work /tmp/engine-paths

writes ``core/customers.csv`` of ``--rows`` rows (a generated bank's customers, repeated with new
ids), then runs both paths over it and prints one line per path. ``--path pandas|duckdb`` runs
one path in this process (what the two subprocesses do).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import subprocess
import sys
import time
from pathlib import Path

from etl.engine import Engine
from etl.extracts import scan
from etl.mapping import apply_mapping, load_mapping
from etl.sources import read_chunks
from etl.validation import validate
from synthetic import GenerateOptions, generate_bank

TODAY = dt.date(2026, 11, 30)


def make(work: Path, rows: int) -> Path:
    target = work / "bank" / "core" / "customers.csv"
    if target.exists():
        return target
    seed = work / "seed"
    generate_bank(GenerateOptions(customers=10_000, seed=42, out=seed, chunk_size=5_000))
    target.parent.mkdir(parents=True)
    with (
        open(
            seed / "core" / "customers.csv", newline="", encoding="utf-8", errors="surrogateescape"
        ) as src,
        open(target, "w", newline="", encoding="utf-8", errors="surrogateescape") as dst,
    ):
        reader = csv.reader(src)
        writer = csv.writer(dst, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        body = list(reader)
        written, copy = 0, 0
        while written < rows:
            for row in body[: rows - written]:
                writer.writerow([f"{row[0]}-{copy}", *row[1:]])
            written += min(len(body), rows - written)
            copy += 1
    return target


def run(path_kind: str, bank: Path, batch: int) -> None:
    em = load_mapping("core").entities["customers"]
    started = time.perf_counter()
    read = good = 0
    file = bank / "core" / "customers.csv"
    scanned = scan(file, "core/customers.csv")  # both loaders scan every file first
    if path_kind == "pandas":
        chunks = read_chunks(file, batch, encoding=em.encoding)
        for chunk in chunks:
            mapped, errors = apply_mapping(chunk, em)
            ok, _ = validate(mapped, "customers", parse_errors=errors, today=TODAY)
            read, good = read + len(chunk), good + len(ok)
    else:
        with Engine() as engine:
            m = load_mapping("core")
            m = type(m)(system=m.system, entities={"customers": em}, source=m.source)
            plan = engine.plan(m, bank)
            path = plan.files["customers"]
            engine.register(plan, {path: scanned})
            for chunk in engine.batches(engine.sources["core", "customers"], batch):
                mapped, errors = apply_mapping(chunk, em)
                ok, _ = validate(mapped, "customers", parse_errors=errors, today=TODAY)
                read, good = read + len(chunk), good + len(ok)
    print(f"{path_kind}: {read} rows read, {good} valid, {time.perf_counter() - started:.1f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--work", type=Path, required=True, help="a folder for the extract")
    p.add_argument("--batch", type=int, default=5000)
    p.add_argument("--path", choices=["pandas", "duckdb"])
    args = p.parse_args()
    if args.path:
        run(args.path, args.work / "bank", args.batch)
        return
    make(args.work, args.rows)
    for kind in ("pandas", "duckdb", "pandas", "duckdb"):
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "bench.engine_paths", "--path", kind,
               "--work", str(args.work), "--batch", str(args.batch)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", done.stderr)
        assert rss and wall, done.stderr
        print(
            f"{done.stdout.strip()}; wall {wall.group(1)}, peak RSS "
            f"{int(rss.group(1)) / 1024:.0f} MiB"
        )


if __name__ == "__main__":
    main()
