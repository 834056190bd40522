"""The loader's read → map → validate stages on one customers file, by the pandas reader the loader
used before etl/engine.py and by the DuckDB engine, each in its own process under
``/usr/bin/time -v`` (peak RSS) with its wall time: the figures behind "no slower, no bigger".

    python -m bench.engine_paths --rows 200000 --work /tmp/engine-paths

writes ``core/customers.csv`` of ``--rows`` rows (a generated bank's customers, repeated with new
ids), then runs both paths over it, alternating, ``--repeat`` times each, and prints one line per run
and the median wall time per path. ``--path pandas|duckdb`` runs
one path in this process (what the two subprocesses do).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import statistics
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
    p.add_argument("--repeat", type=int, default=5, help="runs of each path, alternating")
    args = p.parse_args()
    if args.path:
        run(args.path, args.work / "bank", args.batch)
        return
    make(args.work, args.rows)
    walls: dict[str, list[float]] = {"pandas": [], "duckdb": []}
    cpus: dict[str, list[float]] = {"pandas": [], "duckdb": []}
    for kind in ("pandas", "duckdb") * args.repeat:
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "bench.engine_paths", "--path", kind,
               "--work", str(args.work), "--batch", str(args.batch)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", done.stderr)
        user = re.search(r"User time \(seconds\): (\S+)", done.stderr)
        system = re.search(r"System time \(seconds\): (\S+)", done.stderr)
        assert rss and wall and user and system, done.stderr
        cpu = float(user.group(1)) + float(system.group(1))
        cpus[kind].append(cpu)
        print(
            f"{done.stdout.strip()}; wall {wall.group(1)}, CPU {cpu:.1f} s, peak RSS "
            f"{int(rss.group(1)) / 1024:.0f} MiB"
        )
        minutes, seconds = wall.group(1).rsplit(":", 1)
        walls[kind].append(60 * float(minutes.split(":")[-1]) + float(seconds))
    for kind, times in walls.items():
        print(
            f"{kind}: median wall {statistics.median(times):.2f} s, median CPU "
            f"{statistics.median(cpus[kind]):.2f} s over {len(times)} runs"
        )


if __name__ == "__main__":
    main()
