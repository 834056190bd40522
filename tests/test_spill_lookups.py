"""The spill's in-memory lookups (etl/spill.py) answer as the DuckDB join they replaced: the
customer of a system's source_id, with callers alternating systems, non-ASCII and absent keys;
the keys of a scope, before and after the scope is dropped from memory."""

from __future__ import annotations

import random

from etl.spill import CustomerSpill


def test_customer_ids_agree_with_the_join_over_the_records() -> None:
    with CustomerSpill(["system", "source_id"]) as spill:
        spill.db.execute(
            "INSERT INTO rec SELECT i, CASE WHEN i % 2 = 0 THEN 'core' ELSE 'crm' END, "
            "'k' || (i // 2) || CASE WHEN i % 7 = 0 THEN '漢' ELSE '' END, NULL FROM range(40000) t(i)"
        )
        spill.db.execute("CREATE TABLE out AS SELECT idx, 'C-' || idx AS cid FROM rec")
        spill.has_ids = True
        truth = {
            (system, key): cid
            for system, key, cid in spill.db.execute(
                "SELECT r.system, r.source_id, o.cid FROM rec r JOIN out o USING (idx)"
            ).fetchall()
        }
        rng = random.Random(20261201)
        for _ in range(10):
            for system in ("core", "crm", "card"):  # alternating, and one with no records
                wanted = [
                    f"k{rng.randint(0, 25000)}" + ("漢" if rng.random() < 0.2 else "")
                    for _ in range(300)
                ] + ["", "absent"]
                expected = {k: truth[(system, k)] for k in wanted if (system, k) in truth}
                assert spill.customer_ids(system, wanted) == expected
                assert expected or system == "card"


def test_known_keys_survive_forget_and_later_additions() -> None:
    with CustomerSpill(["system", "source_id"]) as spill:
        spill.add_keys("s", ["a", "b"])
        assert spill.known("s", ["a", "c"]) == {"a"}
        spill.add_keys("s", ["c"])
        assert spill.known("s", ["a", "c", "d"]) == {"a", "c"}
        spill.forget("s")
        spill.add_keys("s", ["d"])
        assert spill.known("s", ["a", "b", "c", "d", "e"]) == {"a", "b", "c", "d"}
        assert spill.known("other", ["a"]) == set()
        assert list(spill.keys_in_slices("s", 10)) == [["a", "b", "c", "d"]]
