"""``c360 generate``: a synthetic bank as three source systems' extracts, plus the ground truth.

Streaming: people are made in chunks (``chunk_size``) and every file is appended chunk by chunk,
so a million customers need no more memory than one chunk. Deterministic for a seed: each chunk
has its own ``random.Random`` seeded from (seed, chunk number).

Layout of ``out``::

    core/{branches,employees,products,customers,accounts,holdings,households,
          household_members,rm_assignments}.csv
    card/{customers,accounts,holdings}.csv
    crm/{customers,interactions,referrals}.csv
    legacy/{client,district,deposit,loan,card,disp,fx_rates}.csv   (with ``legacy``: see
          synthetic/legacy.py; semicolons, GB18030, decimal commas)
    ground_truth/{identities,scenarios,bad_rows}.csv
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

from core.settings import PROJECT_ROOT
from core.taxonomy import load_taxonomy
from etl.zh import to_traditional
from synthetic import corrupt
from synthetic.layout import DATE_FORMATS, DATETIME_FORMATS, FILES, GENDER_CODES, PRODUCTS
from synthetic.legacy import LegacySystem
from synthetic.people import (
    Person,
    make_accounts,
    make_cards,
    make_person,
    month_end,
    pick_scenario,
)
from synthetic.pools import CITIES, Pools, address, build_pools, mobile, unique_national_id
from synthetic.writer import ExtractWriter

Row = dict[str, Any]
CHANNELS = ("BRANCH", "PHONE", "APP", "WEB", "WECHAT", "SMS", "EMAIL", "VISIT")
KINDS = ("SERVICE", "SALES", "COMPLAINT", "FOLLOW_UP", "SURVEY", "CAMPAIGN")
_TAXONOMY = load_taxonomy(PROJECT_ROOT / "core" / "complaint_taxonomy.toml")
STAFFED = {"BRANCH", "PHONE", "VISIT"}


@dataclass(frozen=True)
class GenerateOptions:
    customers: int
    seed: int
    out: Path
    parquet: bool = False
    as_of: dt.date = dt.date(2026, 10, 31)
    chunk_size: int = 5000
    bad_rate: float = 0.02
    # Shape knobs (the defaults make the tests' and the demo's bank; `c360 generate --shape bank`
    # makes the benchmark's: about 0.3 households and 5 interactions per customer).
    household_share: float = 0.35  # share of people pooled into households (avg size 2.75)
    interaction_mean: float = 3.0  # mean interactions of a CRM contact (capped at 4x)
    legacy: bool = False  # also write the legacy subsidiary's extracts (synthetic/legacy.py)


def _d(system: str, value: dt.date | None) -> str | None:
    return None if value is None else value.strftime(DATE_FORMATS[system])


def _ts(system: str, value: dt.datetime | None) -> str | None:
    return None if value is None else value.strftime(DATETIME_FORMATS[system])


def _complaint_cause(interaction_no: str, resolved: bool) -> dict[str, str | None]:
    """A complaint's category (and, once resolved, its cause) from the complaint taxonomy, drawn
    from a generator of its own, keyed by the interaction: the bank's other draws stay as they
    were before complaints had causes."""
    rng = random.Random(f"complaint-cause:{interaction_no}")
    category = rng.choice(_TAXONOMY.categories)
    cause = rng.choice(category.causes)
    subtype = rng.choice(cause.subtypes)
    return {
        "category": category.code,
        "cause_type": cause.type if resolved else None,
        "cause_subtype": subtype if resolved else None,
    }


def format_phone(rng: random.Random, digits: str) -> str:
    a, b, c = digits[:3], digits[3:7], digits[7:]
    return rng.choice(
        (digits, f"{a} {b} {c}", f"{a}-{b}-{c}", f"+86 {a}-{b}-{c}", f"+86{digits}", f"86-{digits}")
    )


def vary_name(rng: random.Random, name: str, pools: Pools) -> str:
    roll = rng.random()
    if roll < 0.14:
        return to_traditional(name)
    if roll < 0.24 and len(name) > 1:
        pos = rng.randrange(1, len(name))
        return name[:pos] + rng.choice(pools.given_names)[0] + name[pos + 1 :]
    if roll < 0.28:
        return name[0] + " " + name[1:]
    return name


class Bank:
    """Generates one chunk of people at a time and hands rows to the writers."""

    def __init__(self, opts: GenerateOptions) -> None:
        self.opts = opts
        self.pools = build_pools(opts.seed)
        self.issued_ids: set[str] = set()
        self.ids = {k: count(1) for k in ("card", "crm", "acct", "card_acct", "hh", "int")}
        ref = random.Random(opts.seed)
        n_branches = max(3, opts.customers // 500)
        self.branches = [
            {
                "branch_code": f"BR{i:04d}",
                "branch_name": f"{c}{ref.choice(self.pools.streets)}支行",
                "city": c,
            }
            for i in range(1, n_branches + 1)
            for c in [ref.choice(CITIES)]
        ]
        self.employees: list[Row] = []
        titles = ["Branch Manager"] + ["Relationship Manager"] * 3 + ["Service Officer"] * 2
        for b in self.branches:
            for title in titles:
                self.employees.append(
                    {
                        "emp_no": f"E{len(self.employees) + 1:05d}",
                        "emp_name": ref.choice(self.pools.surnames)
                        + ref.choice(self.pools.given_names),
                        "title": title,
                        "branch_code": b["branch_code"],
                    }
                )
        self.rms = [e["emp_no"] for e in self.employees if e["title"] == "Relationship Manager"]
        self.staff = [e["emp_no"] for e in self.employees if e["title"] != "Branch Manager"]
        self.branch_of = {e["emp_no"]: e["branch_code"] for e in self.employees}
        self.branch_codes = [b["branch_code"] for b in self.branches]
        self.branches_by_city: dict[str, list[str]] = {}
        for b in self.branches:
            self.branches_by_city.setdefault(b["city"], []).append(b["branch_code"])

    def next_id(self, kind: str) -> Callable[[], str]:
        fmt = {"acct": "6222{:012d}", "card_acct": "CC{:08d}"}[kind]
        return lambda: fmt.format(next(self.ids[kind]))

    # -- one chunk -------------------------------------------------------------------------
    def chunk(
        self, number: int, start: int, stop: int
    ) -> tuple[dict[tuple[str, str], list[Row]], list[Row], list[Row], list[Person]]:
        o = self.opts
        rng = random.Random(o.seed * 1_000_003 + number)
        people = [make_person(rng, self.pools, i, o.as_of) for i in range(start, stop)]
        for p in people:  # two people never share a resident ID (as real ones do not)
            p.national_id = unique_national_id(p.national_id, self.issued_ids)
        for p in people:
            p.scenario = pick_scenario(rng)
            in_card, in_crm = rng.random() < 0.6, rng.random() < 0.75
            if p.scenario in ("INFLUENCER", "DECLINER") or not in_card:
                in_crm = True
            if in_card:
                p.card_id = f"K{next(self.ids['card']):08d}"
            if in_crm:
                p.crm_id = f"CRM{next(self.ids['crm']):08d}"
            make_accounts(rng, p, o.as_of, self.next_id("acct"))
            if p.card_id and p.scenario != "DORMANT":
                make_cards(rng, p, o.as_of, self.next_id("card_acct"))
        rows: dict[tuple[str, str], list[Row]] = {key: [] for key in FILES}
        for p in people:
            rows["core", "customers"].append(self.core_customer(rng, p))
            if p.card_id:
                rows["card", "customers"].append(self.card_customer(rng, p))
            if p.crm_id:
                rows["crm", "customers"].append(self.crm_customer(rng, p))
        self.households(rng, people, rows)
        for p in people:
            # (the draws of the assignment come before the accounts' branches are chosen; the
            # accounts take none from ``rng``, so the bank's other draws stay as they were)
            rm = None
            if rng.random() < 0.6 or p.scenario in ("DECLINER", "INFLUENCER"):
                rm = rng.choice(self.rms)
                rows["core", "rm_assignments"].append(
                    {"emp_no": rm, "cust_no": p.core_id, "since_dt": _d("core", p.onboarded)}
                )
            self.accounts(p, rows, self.opening_branches(p, rm))
            self.interactions(rng, p, rows)
        self.referrals(rng, people, rows)
        identities = [
            {"system": s, "source_id": sid, "person_id": p.person_id}
            for p in people
            for s, sid in (("core", p.core_id), ("card", p.card_id), ("crm", p.crm_id))
            if sid
        ]
        scenarios = [
            {"person_id": p.person_id, "core_source_id": p.core_id, "scenario": p.scenario}
            for p in people
            if p.scenario
        ]
        return rows, identities, scenarios, people

    # -- what each system knows of a person -------------------------------------------------
    def core_customer(self, rng: random.Random, p: Person) -> Row:
        return {
            "cust_no": p.core_id,
            "cust_name": p.name,
            "gender": GENDER_CODES["core"][p.gender],
            "birth_dt": _d("core", p.birth),
            "id_no": p.national_id,
            "mobile": format_phone(rng, p.phone),
            "email": p.email,
            "addr": p.address,
            "city": p.city,
            "occupation": p.occupation,
            "segment": p.segment,
            "kyc_status": rng.choices(("VERIFIED", "PENDING", "EXPIRED"), (0.9, 0.05, 0.05))[0],
            "risk_level": rng.choice(("R1", "R2", "R3", "R4", "R5")),
            "open_dt": _d("core", p.onboarded),
            "cust_status": "ACTIVE",
            "last_upd": _ts("core", p.updated),
        }

    def _contact(
        self, rng: random.Random, p: Person
    ) -> tuple[str | None, str | None, str, dt.datetime]:
        roll = rng.random()
        phone = p.phone if roll < 0.82 else (mobile(rng) if roll < 0.95 else None)
        roll = rng.random()
        other = f"{rng.choice(self.pools.user_names)}{rng.randrange(100, 999)}@139.com"
        email = p.email if roll < 0.6 else (None if roll < 0.88 else other)
        moved = rng.random() < 0.3
        addr = address(rng, self.pools, p.city) if moved else p.address
        shift = rng.randrange(1, 400) if moved else -rng.randrange(1, 400)
        when = p.updated + dt.timedelta(days=shift)
        return (
            (format_phone(rng, phone) if phone else None),
            email,
            addr,
            min(when, dt.datetime.combine(self.opts.as_of, dt.time(18))),
        )

    def card_customer(self, rng: random.Random, p: Person) -> Row:
        phone, email, addr, when = self._contact(rng, p)
        return {
            "card_cust_id": p.card_id,
            "holder_name": vary_name(rng, p.name, self.pools),
            "sex": GENDER_CODES["card"][p.gender],
            "dob": _d("card", p.birth),
            "cert_no": p.national_id,
            "phone_no": phone,
            "email_addr": email,
            "bill_addr": addr,
            "city": p.city,
            "upd_time": _ts("card", when),
        }

    def crm_customer(self, rng: random.Random, p: Person) -> Row:
        phone, email, addr, when = self._contact(rng, p)
        return {
            "contact_id": p.crm_id,
            "full_name": vary_name(rng, p.name, self.pools),
            "gender": GENDER_CODES["crm"][p.gender],
            "birthday": _d("crm", p.birth) if rng.random() < 0.95 else None,
            "id_number": p.national_id if rng.random() < 0.4 else None,
            "mobile_phone": phone,
            "email": email,
            "address": addr,
            "city": p.city,
            "occupation": p.occupation if rng.random() < 0.7 else rng.choice(self.pools.jobs),
            "modified": _ts("crm", when),
        }

    # -- relationships ----------------------------------------------------------------------
    def households(self, rng: random.Random, people: list[Person], rows: dict) -> None:
        pool = [p for p in people if rng.random() < self.opts.household_share]
        rng.shuffle(pool)
        i = 0
        while i + 1 < len(pool):
            size = rng.choice((2, 2, 3, 4))
            members = pool[i : i + size]
            i += size
            head = members[0]
            hh = f"H{next(self.ids['hh']):08d}"
            rows["core", "households"].append(
                {"hh_no": hh, "hh_name": f"{head.name}家庭", "hh_addr": head.address}
            )
            since = max(m.onboarded for m in members)
            for k, m in enumerate(members):
                role = "HEAD" if k == 0 else "SPOUSE" if k == 1 else rng.choice(("CHILD", "PARENT"))
                ended = None
                if k > 0 and rng.random() < 0.05:
                    role, ended = (
                        "OTHER",
                        self.opts.as_of - dt.timedelta(days=rng.randrange(10, 500)),
                    )
                m.household = hh
                rows["core", "household_members"].append(
                    {"hh_no": hh, "cust_no": m.core_id, "member_role": role,
                     "since_dt": _d("core", since), "end_dt": _d("core", ended)}
                )  # fmt: skip
                if role == "SPOUSE" and rng.random() < 0.5:
                    for acc in head.accounts:
                        if acc.product_type in ("SAVINGS", "TIME_DEPOSIT", "CURRENT"):
                            acc.joint_with = m.index
                            break
                if role == "CHILD" and rng.random() < 0.3:
                    for acc in head.accounts:
                        if acc.product_type == "MORTGAGE":
                            acc.joint_with, acc.joint_role = m.index, "GUARANTOR"

    def opening_branches(self, p: Person, rm: str | None) -> list[str]:
        """The branch each of the person's core accounts was opened at, from a generator of its
        own keyed by the person (the bank's other draws stay as they were before accounts had
        branches). Their home branch is their relationship manager's branch for 85 % of the
        managed, else a branch of their city (any branch when their city has none); 10 % of
        their later accounts were opened elsewhere."""
        rng = random.Random(f"opening-branch:{self.opts.seed}:{p.person_id}")
        local = self.branches_by_city.get(p.city) or self.branch_codes
        home = rng.choice(local)
        if rm is not None and rng.random() < 0.85:
            home = self.branch_of[rm]
        return [
            home if k == 0 or rng.random() >= 0.1 else rng.choice(self.branch_codes)
            for k in range(len(p.accounts))
        ]

    def accounts(self, p: Person, rows: dict, branches: list[str]) -> None:
        end = month_end(self.opts.as_of)
        for a, branch in zip(p.accounts, branches, strict=True):
            rows["core", "accounts"].append(
                {
                    "acct_no": a.account_id,
                    "branch_code": branch,
                    "prod_code": a.product_code,
                    "prod_type": a.product_type,
                    "ccy": "CNY",
                    "bal": f"{a.balance:.2f}",
                    "credit_limit": None if a.credit_limit is None else f"{a.credit_limit:.2f}",
                    "open_dt": _d("core", a.opened_at),
                    "mat_dt": _d("core", a.maturity_date),
                    "close_dt": _d("core", a.closed_at),
                    "acct_status": a.status,
                    "bal_hist": "|".join(f"{v:.2f}" for v in a.monthly),
                    "bal_hist_end": _d("core", end),
                }
            )
            rows["core", "holdings"].append(
                {
                    "acct_no": a.account_id,
                    "cust_no": p.core_id,
                    "holder_role": "PRIMARY",
                    "end_dt": None,
                }
            )
            if a.joint_with is not None:
                rows["core", "holdings"].append(
                    {"acct_no": a.account_id, "cust_no": f"CIF{a.joint_with + 10_000_000:09d}",
                     "holder_role": a.joint_role, "end_dt": None}
                )  # fmt: skip
        for a in p.cards:
            rows["card", "accounts"].append(
                {
                    "card_acct_no": a.account_id,
                    "card_product": a.product_code,
                    "ccy": "CNY",
                    "balance_fen": str(round(a.balance * 100)),
                    "limit_fen": str(round((a.credit_limit or 0) * 100)),
                    "open_date": _d("card", a.opened_at),
                    "expiry_date": _d("card", a.maturity_date),
                    "close_date": None,
                    "acct_state": "A",
                    "stmt_hist_fen": ";".join(str(round(v * 100)) for v in a.monthly),
                    "stmt_hist_end": _d("card", end),
                }
            )
            rows["card", "holdings"].append(
                {"card_acct_no": a.account_id, "card_cust_id": p.card_id, "holder_type": "P"}
            )

    def interactions(self, rng: random.Random, p: Person, rows: dict) -> None:
        if not p.crm_id:
            return
        as_of = dt.datetime.combine(self.opts.as_of, dt.time(23, 59))
        if p.scenario == "DORMANT":
            n, oldest, newest = rng.choice((0, 0, 1, 2)), 900, 400
        else:
            mean = self.opts.interaction_mean
            n, oldest, newest = min(int(4 * mean), int(rng.expovariate(1 / mean))), 700, 0
        if p.scenario == "DECLINER":
            n += 1
        for k in range(n):
            when = as_of - dt.timedelta(minutes=rng.randrange(newest * 1440 + 60, oldest * 1440))
            kind = rng.choices(KINDS, (0.4, 0.15, 0.08, 0.15, 0.1, 0.12))[0]
            if p.scenario == "DECLINER" and k == n - 1:
                kind, when = "COMPLAINT", as_of - dt.timedelta(days=rng.randrange(3, 60))
            channel = rng.choice(CHANNELS)
            row: Row = {
                "interaction_no": f"I{next(self.ids['int']):010d}",
                "contact_id": p.crm_id,
                "handled_by": rng.choice(self.staff) if channel in STAFFED else None,
                "channel": channel,
                "kind": kind,
                "occurred": _ts("crm", when),
                "summary": f"{kind.lower()} via {channel.lower()}",
                "outcome": rng.choice(("RESOLVED", "INFORMED", "PRODUCT_OFFERED", "NO_ACTION")),
                "csat": str(rng.randint(1, 5))
                if kind in ("SERVICE", "COMPLAINT", "SURVEY")
                else None,
                "nps": str(rng.randint(0, 10)) if kind == "SURVEY" else None,
            }
            if kind == "COMPLAINT":
                first = when + dt.timedelta(hours=rng.uniform(0.2, 72))
                resolved = (
                    first + dt.timedelta(hours=rng.uniform(1, 240)) if rng.random() < 0.75 else None
                )
                resolved = resolved if resolved is None or resolved < as_of else None
                breached = (first - when) > dt.timedelta(hours=24)
                row |= {
                    "severity": rng.choices(("一般", "严重"), (0.75, 0.25))[0],
                    "first_response": _ts("crm", min(first, as_of)),
                    "resolved": _ts("crm", resolved),
                    "sla": "BREACHED" if breached else ("MET" if resolved else "OPEN"),
                    **_complaint_cause(row["interaction_no"], resolved is not None),
                }
            else:
                row |= {"category": None, "cause_type": None, "cause_subtype": None}
            rows["crm", "interactions"].append(row)

    def referrals(self, rng: random.Random, people: list[Person], rows: dict) -> None:
        crm = [p for p in people if p.crm_id]
        asset_holders = [p for p in crm if p.scenario not in ("DORMANT", "INFLUENCER")]
        referred: set[int] = set()

        def refer(src: Person, dst: Person) -> None:
            if dst.index in referred or dst.index == src.index:
                return
            referred.add(dst.index)
            when = max(src.onboarded, dst.onboarded)
            rows["crm", "referrals"].append(
                {"referrer_contact": src.crm_id, "referred_contact": dst.crm_id,
                 "referred_on": _d("crm", when), "channel": rng.choice(("BRANCH", "APP", "WECHAT")),
                 "status": rng.choices(("CONVERTED", "PENDING"), (0.85, 0.15))[0]}
            )  # fmt: skip

        for inf in (p for p in crm if p.scenario == "INFLUENCER"):
            for dst in rng.sample(asset_holders, min(len(asset_holders), rng.randint(8, 15))):
                refer(inf, dst)
        chain = [p for p in crm if p.scenario != "DORMANT"]
        for dst in chain:
            if rng.random() < 0.08:
                src = rng.choice(chain)
                if src.index < dst.index:
                    refer(src, dst)


def generate_bank(
    opts: GenerateOptions, *, on_chunk: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Write the extracts and the ground truth; return the rows written per file."""
    bank = Bank(opts)
    out = opts.out
    writers = {
        key: ExtractWriter(out / key[0] / key[1], cols, parquet=opts.parquet)
        for key, cols in FILES.items()
    }
    truth_dir = out / "ground_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    with (
        open(truth_dir / "identities.csv", "w", newline="", encoding="utf-8") as f_id,
        open(truth_dir / "scenarios.csv", "w", newline="", encoding="utf-8") as f_sc,
        open(truth_dir / "bad_rows.csv", "w", newline="", encoding="utf-8") as f_bad,
    ):
        ids = csv.DictWriter(f_id, ["system", "source_id", "person_id"])
        scs = csv.DictWriter(f_sc, ["person_id", "core_source_id", "scenario"])
        bad = csv.DictWriter(f_bad, ["file", "row_number", "kind"])
        for w in (ids, scs, bad):
            w.writeheader()
        ref_rng = random.Random(opts.seed + 7)
        static = {
            ("core", "branches"): bank.branches,
            ("core", "employees"): bank.employees,
            ("core", "products"): [
                {"prod_code": c, "prod_name": n, "prod_type": t, "category": cat, "min_tier": tier}
                for c, (n, t, cat, tier) in PRODUCTS.items()
            ],
        }
        for key, static_rows in static.items():
            writers[key].write(static_rows)
        legacy = LegacySystem(out, opts.as_of) if opts.legacy else None
        for number, start in enumerate(range(0, opts.customers, opts.chunk_size)):
            stop = min(opts.customers, start + opts.chunk_size)
            chunk_rows, identities, scenarios, people = bank.chunk(number, start, stop)
            if legacy is not None:
                legacy_rng = random.Random(opts.seed * 7_000_003 + number)
                identities += list(legacy.chunk(legacy_rng, people))
            for (system, file), file_rows in chunk_rows.items():
                if (system, file) in static:
                    continue
                writer = writers[system, file]
                for index, kind in corrupt.plant(
                    ref_rng, system, file, file_rows, rate=opts.bad_rate, parquet=opts.parquet
                ):
                    bad.writerow(
                        {
                            "file": f"{system}/{writer.path.name}",
                            "row_number": writer.rows_written + index + 1,
                            "kind": kind,
                        }
                    )
                if file_rows:
                    writer.write(file_rows)
            ids.writerows(identities)
            scs.writerows(scenarios)
            if on_chunk:
                on_chunk(stop - start)
    for extract in writers.values():
        extract.close()
    written = {f"{s}/{f}": w.rows_written for (s, f), w in writers.items()}
    return written | (legacy.close() if legacy is not None else {})
