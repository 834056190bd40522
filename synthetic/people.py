"""People and their money: the truth the source systems each see a part of.

A :class:`Person` is generated once; :mod:`synthetic.bank` then writes what each system knows
of them (with each system's noise). Pure functions of a seeded ``random.Random``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from synthetic.layout import PRODUCTS_BY_TYPE
from synthetic.pools import CITIES, EMAIL_DOMAINS, Pools, address, mobile, national_id

SCENARIO_RATES = (("DECLINER", 0.03), ("DORMANT", 0.03), ("STABLE", 0.05), ("INFLUENCER", 0.006))
MONTHS = 12


@dataclass
class Account:
    account_id: str
    product_type: str
    product_code: str
    balance: float
    monthly: list[float]
    opened_at: dt.date
    maturity_date: dt.date | None = None
    closed_at: dt.date | None = None
    credit_limit: float | None = None
    status: str = "OPEN"
    joint_with: int | None = None  # index of a JOINT/GUARANTOR co-holder in the chunk
    joint_role: str = "JOINT"


@dataclass
class Person:
    index: int
    person_id: str
    core_id: str
    name: str
    gender: str
    birth: dt.date
    national_id: str
    phone: str
    email: str | None
    address: str
    city: str
    occupation: str
    segment: str
    onboarded: dt.date
    updated: dt.datetime
    scenario: str | None = None
    card_id: str | None = None
    crm_id: str | None = None
    accounts: list[Account] = field(default_factory=list)
    cards: list[Account] = field(default_factory=list)
    household: str | None = None


def month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def make_person(rng: random.Random, pools: Pools, index: int, as_of: dt.date) -> Person:
    gender = rng.choice("MF")
    birth = as_of - dt.timedelta(days=rng.randrange(20 * 365, 80 * 365))
    city = rng.choice(CITIES)
    name = rng.choice(pools.surnames) + rng.choice(pools.given_names)
    email = None
    if rng.random() < 0.75:
        email = (
            f"{rng.choice(pools.user_names)}{rng.randrange(10, 9999)}@{rng.choice(EMAIL_DOMAINS)}"
        )
    onboarded = as_of - dt.timedelta(days=rng.randrange(60, 20 * 365))
    return Person(
        index=index,
        person_id=f"P{index:08d}",
        core_id=f"CIF{index + 10_000_000:09d}",
        name=name,
        gender=gender,
        birth=birth,
        national_id=national_id(rng, birth, gender),
        phone=mobile(rng),
        email=email,
        address=address(rng, pools, city),
        city=city,
        occupation=rng.choice(pools.jobs),
        segment=rng.choices(("RETAIL", "SME", "PRIVATE"), (0.85, 0.1, 0.05))[0],
        onboarded=onboarded,
        updated=dt.datetime.combine(
            as_of - dt.timedelta(days=rng.randrange(30, 900)), dt.time(rng.randrange(8, 20))
        ),
    )


def pick_scenario(rng: random.Random) -> str | None:
    roll = rng.random()
    for name, rate in SCENARIO_RATES:
        if roll < rate:
            return name
        roll -= rate
    return None


def _history(rng: random.Random, current: float, volatility: float = 0.03) -> list[float]:
    """Twelve month-end balances ending at ``current``, walking backwards."""
    values = [current]
    for _ in range(MONTHS - 1):
        values.append(max(0.0, values[-1] * (1 + rng.uniform(-volatility, volatility))))
    return [round(v, 2) for v in reversed(values)]


def _decline(rng: random.Random, start: float) -> list[float]:
    """Flat, then falling 30-60 % over the last 3-6 months."""
    months = rng.randint(3, 6)
    drop = rng.uniform(0.30, 0.60)
    flat = [start * (1 + rng.uniform(-0.01, 0.01)) for _ in range(MONTHS - months)]
    falling = [start * (1 - drop * (k + 1) / months) for k in range(months)]
    return [round(v, 2) for v in flat + falling]


def make_accounts(rng: random.Random, person: Person, as_of: dt.date, next_id) -> None:
    """The person's core-banking accounts, shaped by their planted scenario."""
    sc = person.scenario

    def account(ptype: str, balance: float, monthly: list[float] | None = None) -> Account:
        opened = max(person.onboarded, as_of - dt.timedelta(days=rng.randrange(90, 15 * 365)))
        acc = Account(
            account_id=next_id(),
            product_type=ptype,
            product_code=rng.choice(PRODUCTS_BY_TYPE[ptype]),
            balance=round(balance, 2),
            monthly=monthly or _history(rng, balance),
            opened_at=opened,
        )
        acc.balance = acc.monthly[-1]
        if ptype == "TIME_DEPOSIT":
            acc.maturity_date = as_of + dt.timedelta(days=rng.randrange(5, 3 * 365))
        elif ptype in ("LOAN", "MORTGAGE"):
            acc.maturity_date = as_of + dt.timedelta(days=rng.randrange(200, 25 * 365))
        return acc

    if sc == "DORMANT":
        tiny = round(rng.uniform(5, 900), 2)
        person.accounts.append(account("SAVINGS", tiny, [tiny] * MONTHS))
        return
    if sc == "DECLINER":
        start = (
            rng.uniform(1_050_000, 3_000_000)
            if rng.random() < 0.4
            else rng.uniform(320_000, 900_000)
        )
        parts = rng.choice(((1.0,), (0.6, 0.4), (0.5, 0.3, 0.2)))
        for share, ptype in zip(parts, ("WEALTH", "SAVINGS", "FUND"), strict=False):
            person.accounts.append(account(ptype, 0, _decline(rng, start * share)))
        return
    if sc == "STABLE":
        aum = rng.uniform(50_000, 2_000_000)
        for share, ptype in ((0.5, "SAVINGS"), (0.5, "TIME_DEPOSIT")):
            flat = round(aum * share, 2)
            person.accounts.append(account(ptype, flat, [flat] * MONTHS))
        return
    aum = rng.lognormvariate(11.0, 1.4)
    if sc == "INFLUENCER":
        aum = max(aum, 500_000)
    person.accounts.append(account(rng.choice(("CURRENT", "SAVINGS")), aum * 0.3))
    for _ in range(rng.choices((0, 1, 2, 3), (0.35, 0.35, 0.2, 0.1))[0]):
        ptype = rng.choices(
            ("SAVINGS", "TIME_DEPOSIT", "WEALTH", "FUND", "INSURANCE", "LOAN", "MORTGAGE"),
            (0.15, 0.25, 0.2, 0.15, 0.1, 0.08, 0.07),
        )[0]
        if ptype in ("LOAN", "MORTGAGE"):
            acc = account(ptype, rng.uniform(20_000, 200_000) * (8 if ptype == "MORTGAGE" else 1))
            acc.credit_limit = round(acc.monthly[0] * 1.2, 2)
        else:
            acc = account(ptype, aum * rng.uniform(0.1, 0.7))
        person.accounts.append(acc)
    if rng.random() < 0.04 and len(person.accounts) > 1:
        closed = person.accounts[-1]
        closed.status = "CLOSED"
        closed.closed_at = as_of - dt.timedelta(days=rng.randrange(1, 300))
        closed.balance = 0.0
        closed.monthly = [*closed.monthly[:-3], 0.0, 0.0, 0.0]


def make_cards(rng: random.Random, person: Person, as_of: dt.date, next_id) -> None:
    for _ in range(rng.choice((1, 1, 2))):
        limit = rng.choice((10_000, 20_000, 50_000, 100_000, 200_000))
        owed = round(rng.uniform(0, limit * 0.6), 2)
        person.cards.append(
            Account(
                account_id=next_id(),
                product_type="CREDIT_CARD",
                product_code=rng.choice(PRODUCTS_BY_TYPE["CREDIT_CARD"]),
                balance=owed,
                monthly=[round(min(limit, v), 2) for v in _history(rng, owed, 0.2)],
                opened_at=max(person.onboarded, as_of - dt.timedelta(days=rng.randrange(60, 3000))),
                maturity_date=as_of + dt.timedelta(days=rng.randrange(100, 5 * 365)),
                credit_limit=float(limit),
            )
        )
