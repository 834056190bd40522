"""The spill's appends at bank size, by DuckDB checkpoint threshold (etl/spill.CHECKPOINT_THRESHOLD).

    python -m bench.spill_appends --records 2500000 --thresholds 16MB 256MB

Each threshold runs in a process of its own: a CustomerSpill receives ``--records`` customer
records a chunk of 10,000 at a time (the loader's ``rec`` and ``m`` tables, synthetic values of
the real columns and sizes), and the script prints the seconds the appends and the spill's closing
took and the process's peak RSS. 16MB is DuckDB's default.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import random
import resource
import string
import subprocess
import sys
import time

CHUNK = 10_000


def _frames(rng: random.Random) -> tuple:
    import pandas as pd

    def word(k: int = 8) -> str:
        return "".join(rng.choices(string.ascii_lowercase, k=k))

    rows = [
        pickle.dumps((word(), word(), word(12), word(14), dt.date(1980, 1, 1), word(64)), 5)
        for _ in range(CHUNK)
    ]
    rec = pd.DataFrame(
        {"idx": range(CHUNK), "system": "core", "source_id": [word(12) for _ in range(CHUNK)],
         "row": rows}
    )  # fmt: skip
    text = {c: [word() for _ in range(CHUNK)] for c in ("given_name", "family_name", "city")}
    m = pd.DataFrame(
        {
            "unique_id": range(CHUNK),
            "system": "core",
            "source_id": rec["source_id"],
            **text,
            "birth_date": [dt.date(1950 + i % 50, 1 + i % 12, 1) for i in range(CHUNK)],
            "phone": [f"+86155{rng.randrange(10**8):08d}" for _ in range(CHUNK)],
            "email": [f"{word()}@qq.com" for _ in range(CHUNK)],
            "address": [f"{word(20)} {word(6)}" for _ in range(CHUNK)],
            "address_words": [[word(20), word(6)] for _ in range(CHUNK)],
            "id_hash": [word(64) for _ in range(CHUNK)],
            "id_type": "CN_RESIDENT",
            "cid": pd.Series([None] * CHUNK, dtype=object),
            "fresh": True,
        }
    )
    return rec, m


def one(records: int, threshold: str) -> dict:
    from etl import spill as s
    from etl.loader import KEPT_CUSTOMER_COLUMNS

    s.CHECKPOINT_THRESHOLD = threshold
    rec, m = _frames(random.Random(7))
    t0 = time.perf_counter()
    with s.CustomerSpill(KEPT_CUSTOMER_COLUMNS, memory_limit="400MB") as sp:
        for start in range(0, records, CHUNK):
            sp._append("rec", rec.assign(idx=rec["idx"] + start))
            sp._append("m", m.assign(unique_id=m["unique_id"] + start))
        (held,) = sp.db.execute("SELECT count(*) FROM m").fetchall()[0]
    seconds = time.perf_counter() - t0  # (with the spill's closing)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"threshold": threshold, "records": held, "seconds": round(seconds, 1),
            "peak_rss_mib": round(peak)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2_500_000)
    ap.add_argument("--thresholds", nargs="+", default=["16MB", "256MB"])
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.records, args.one)))
        return
    print(f"{'threshold':>10} {'records':>10} {'appends, s':>11} {'peak RSS, MiB':>14}")
    for threshold in args.thresholds:
        out = subprocess.run(
            [sys.executable, "-m", "bench.spill_appends", "--records", str(args.records),
             "--one", threshold],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['threshold']:>10} {r['records']:>10,} {r['seconds']:>11} {r['peak_rss_mib']:>14}"
        )


if __name__ == "__main__":
    main()
