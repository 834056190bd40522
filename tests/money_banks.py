"""Two small banks written as their own systems export them, for the money and scoring tests.

- ``czbank``: a Czech bank. Balances in CZK (one fund in EUR, for which no rate is given), an
  exchange-rate file (CNY per unit), clients identified by birth numbers and reachable on Czech
  mobiles, an overdrawn current account, no CRM at all (no interaction file). Its mapping sets
  the identifier type, country and phone region by ``defaults``.
- ``cnbank``: a mainland bank in CNY with month-end balance histories and a CRM extract.

Each bank is a dict of rows per file; :func:`write_bank` writes the CSV files and the mapping.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

Rows = list[dict[str, Any]]

CZ_MAPPING = """
system: czbank
date_format: "%Y-%m-%d"
list_separator: "|"
entities:
  fx_rates:
    file: fx
    columns: {ccy: currency, day: rate_date, cny_per_unit: rate}
  products:
    file: products
    columns: {code: product_code, label: name, kind: product_type}
  customers:
    file: clients
    columns: {client_id: source_id, full_name: name, birth_number: national_id, born: birth_date,
              tel: phone}
    defaults: {national_id_type: CZ_BIRTH_NUMBER, national_id_country: CZ, phone_region: CZ}
  households:
    file: households
    columns: {hh: household_id, hh_name: name}
  accounts:
    file: accounts
    columns: {account_id: account_id, code: product_code, kind: product_type, ccy: currency,
              balance: balance, opened: opened_at, closed: closed_at, history: monthly_balances,
              history_end: monthly_balance_end}
  holdings:
    file: owners
    columns: {account_id: account_id, client_id: customer_ref, role: role}
  memberships:
    file: household_members
    columns: {hh: household_id, client_id: customer_ref, role: role}
"""

CN_MAPPING = """
system: cnbank
date_format: "%Y-%m-%d"
datetime_format: "%Y-%m-%d %H:%M:%S"
timezone: Asia/Shanghai
entities:
  products:
    file: products
    columns: {code: product_code, label: name, kind: product_type}
  customers:
    file: customers
    columns: {cif: source_id, name: name, id_no: national_id, mobile: phone, born: birth_date}
  accounts:
    file: accounts
    columns: {acct: account_id, code: product_code, kind: product_type, ccy: currency,
              bal: balance, opened: opened_at, hist: monthly_balances, hist_end: monthly_balance_end}
  holdings:
    file: holdings
    columns: {acct: account_id, cif: customer_ref, role: role}
  interactions:
    file: contacts
    columns: {contact_no: interaction_id, cif: customer_ref, channel: channel, kind: kind,
              at: occurred_at}
"""


def birth_number(yymmdd: str, serial: str) -> str:
    """A ten-digit Czech birth number: its check digit makes it divisible by 11."""
    nine = yymmdd + serial
    return nine + str(int(nine) % 11 % 10)


def resident_id(body17: str) -> str:
    """A Chinese resident ID with its GB 11643 check character."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return (
        body17 + "10X98765432"[sum(int(c) * w for c, w in zip(body17, weights, strict=True)) % 11]
    )


# -- czbank --------------------------------------------------------------------------------------

# CNY per unit: the rate in force at the end of October 1998 is the one of 1998-10-30; the rate
# of 1998-12-31 comes after the data's month-end and must not be used.
CZ_RATES = [
    ("CZK", "1998-09-30", "0.30"),
    ("CZK", "1998-10-30", "0.31"),
    ("CZK", "1998-12-31", "0.50"),
]
CZ_RATE_AT_AS_OF = 0.31
# client -> [(account, product type, currency, balance)]; balances picked near the tier floors,
# so that the rate before or after the right one, or a 1:1 reading, gives other tiers
CZ_HOLDINGS: dict[str, list[tuple[str, str, str, float]]] = {
    "K1": [("A1", "SAVINGS", "CZK", 3_300_000.0)],
    "K2": [("A2", "SAVINGS", "CZK", 980_000.0)],
    "K3": [("A3", "SAVINGS", "CZK", 700_000.0)],
    "K4": [("A4", "SAVINGS", "CZK", 200_000.0), ("A4C", "CURRENT", "CZK", -20_000.0)],
    "K5": [("A5", "SAVINGS", "CZK", 2_000_000.0), ("A5F", "FUND", "EUR", 100_000.0)],
    "K6": [("A6", "SAVINGS", "CNY", 500_000.0)],
}
CZ_CLIENTS = {
    "K1": ("Jan Novák", "450312/123", "1945-03-12", "601 123 456"),  # before 1954: 9 digits
    "K2": ("Marie Svobodová", birth_number("625804", "217"), "1962-08-04", "602 345 678"),
    "K3": ("Petr Dvořák", birth_number("710115", "031"), "1971-01-15", "603 111 222"),
    "K4": ("Eva Černá", birth_number("835520", "448"), "1983-05-20", "724 555 666"),
    "K5": ("Tomáš Procházka", birth_number("580930", "302"), "1958-09-30", "777 123 456"),
    "K6": ("Wang Li", birth_number("676111", "004"), "1967-11-11", "605 000 111"),
}
CZ_HOUSEHOLD = ("H1", ["K2", "K3"])
# An account's opening date keyed wrong, years after today by the real clock (a fixed 2031 would
# be a date of the past from 2031-03-01 on, and move the 1998 bank's as-of to it).
FUTURE_OPENED = dt.date(dt.date.today().year + 5, 3, 1).isoformat()


def czbank() -> dict[str, Rows]:
    """The Czech bank's files. Accounts opened 1993-1997, one closed in October 1998 (the newest
    date of the data: its month ends on 1998-10-31), one "opened" years ahead (a keying error, to be
    ignored); no balance history, no interactions."""
    accounts, owners = [], []
    for n, (client, held) in enumerate(CZ_HOLDINGS.items()):
        for account, kind, ccy, balance in held:
            accounts.append(
                {
                    "account_id": account,
                    "code": f"{kind[:3]}-{ccy}",
                    "kind": kind,
                    "ccy": ccy,
                    "balance": f"{balance:.2f}",
                    "opened": f"{1993 + n % 5}-0{1 + n}-15",
                    "closed": "",
                    "history": "",
                    "history_end": "",
                }  # fmt: skip
            )
            owners.append({"account_id": account, "client_id": client, "role": "PRIMARY"})
    accounts += [
        # a closed account: the newest date in the data
        {"account_id": "A9", "code": "SAV-CZK", "kind": "SAVINGS", "ccy": "CZK", "balance": "0",
         "opened": "1994-02-01", "closed": "1998-10-07", "history": "", "history_end": ""},
        # a keying error: opened years after today; the as-of must stay in 1998
        {"account_id": "A10", "code": "SAV-CZK", "kind": "SAVINGS", "ccy": "CZK", "balance": "0",
         "opened": FUTURE_OPENED, "closed": "", "history": "", "history_end": ""},
        # refused: a term deposit cannot be overdrawn; a currency that is not an ISO code
        {"account_id": "X1", "code": "TIM-CZK", "kind": "TIME_DEPOSIT", "ccy": "CZK",
         "balance": "-1000.00", "opened": "1995-01-01", "closed": "", "history": "",
         "history_end": ""},
        {"account_id": "X2", "code": "SAV-CZK", "kind": "SAVINGS", "ccy": "Kč",
         "balance": "1000.00", "opened": "1995-01-01", "closed": "", "history": "",
         "history_end": ""},
    ]  # fmt: skip
    owners.append({"account_id": "A9", "client_id": "K1", "role": "PRIMARY"})
    owners.append({"account_id": "A10", "client_id": "K1", "role": "PRIMARY"})
    products = sorted({(a["code"], a["kind"]) for a in accounts})
    return {
        "fx": [{"ccy": c, "day": d, "cny_per_unit": r} for c, d, r in CZ_RATES]
        + [
            {"ccy": "USD", "day": "1998-10-30", "cny_per_unit": "0"},  # refused: not above 0
            {"ccy": "CZK", "day": "1998-10-30", "cny_per_unit": "0.99"},  # refused: same key
        ],
        "products": [{"code": c, "label": f"{k} account", "kind": k} for c, k in products],
        "clients": [
            {"client_id": cid, "full_name": name, "birth_number": number, "born": born, "tel": tel}
            for cid, (name, number, born, tel) in CZ_CLIENTS.items()
        ],
        "households": [{"hh": CZ_HOUSEHOLD[0], "hh_name": "Svobodová a Dvořák"}],
        "accounts": accounts,
        "owners": owners,
        "household_members": [
            {"hh": CZ_HOUSEHOLD[0], "client_id": c, "role": "HEAD" if i == 0 else "SPOUSE"}
            for i, c in enumerate(CZ_HOUSEHOLD[1])
        ],
    }


# -- cnbank --------------------------------------------------------------------------------------

CN_MONTH_END = dt.date(2026, 9, 30)


def cnbank() -> dict[str, Rows]:
    """A mainland bank: four customers, twelve month-end balances ending 2026-09-30 (one account's
    history ends a month earlier), an interaction for two of them."""
    customers, accounts, holdings = [], [], []
    for i in range(4):
        cif = f"CN{i}"
        customers.append(
            {
                "cif": cif,
                "name": ["张伟", "李娜", "王芳", "刘洋"][i],
                "id_no": resident_id(f"11010519800517{i}00"),
                "mobile": f"138 1234 56{i}0",
                "born": f"198{i}-05-17",
            }  # fmt: skip
        )
        balance = 100_000.0 * (i + 1)
        end = CN_MONTH_END if i else dt.date(2026, 8, 31)
        accounts.append(
            {
                "acct": f"C{i}",
                "code": "SAV-CNY",
                "kind": "SAVINGS",
                "ccy": "CNY",
                "bal": f"{balance:.2f}",
                "opened": "2015-01-10",
                "hist": "|".join([f"{balance:.2f}"] * 12),
                "hist_end": end.isoformat(),
            }  # fmt: skip
        )
        holdings.append({"acct": f"C{i}", "cif": cif, "role": "PRIMARY"})
    contacts = [
        {
            "contact_no": f"I{i}",
            "cif": f"CN{i}",
            "channel": "APP",
            "kind": "SERVICE",
            "at": "2026-09-15 10:00:00",
        }  # fmt: skip
        for i in range(2)
    ]
    return {
        "products": [{"code": "SAV-CNY", "label": "活期储蓄", "kind": "SAVINGS"}],
        "customers": customers,
        "accounts": accounts,
        "holdings": holdings,
        "contacts": contacts,
    }


def write_bank(root: Path, system: str, files: dict[str, Rows], mapping: str) -> Path:
    """``root/<system>/<file>.csv`` for each file and ``root/<system>.yaml``; returns the mapping."""
    folder = root / system
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    path = root.parent / f"{root.name}-{system}.yaml"
    path.write_text(mapping, encoding="utf-8")
    return path
