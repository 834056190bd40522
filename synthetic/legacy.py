"""The fourth source system: a legacy Hong Kong subsidiary's core, in the shapes real extracts have.

Its files look like the public extracts of European and Chinese banks rather than like our other
three systems, so that the loader's mapping engine (etl/mapping.py, the SQL form) is exercised by
the demo and the tests on what we meet outside:

- semicolon-separated, GB18030-encoded (names in traditional characters), decimal commas;
- no gender and no birth date columns: both are encoded in one ``birth_number`` (``YYMMDD`` with
  the month + 50 for women and a two-digit year, as in the Czech birth number);
- the customer's city only through a ``district`` lookup file;
- current/savings/term accounts, loans and cards in three files whose ids overlap (1, 2, 3 ... in
  each), a loan's maturity only as its start date and duration in months;
- account holders given as OWNER and DISPONENT rows of a ``disp`` file (cards name a disposition,
  loans an account): two people on one account form a household;
- amounts in HKD, with an ``fx_rates`` file (CNY per HKD by month-end).

Layout of ``out/legacy``: client, district, deposit, loan, card, disp, fx_rates (``.csv``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import IO, Any

from etl.zh import to_traditional
from synthetic.people import Person, month_end

SYSTEM = "legacy"
SHARE = 0.2  # of the bank's people also in the legacy system
DELIMITER = ";"
ENCODING = "gb18030"
CURRENCY = "HKD"
PIVOT_YEAR = 26  # two-digit years above it are 19xx (the extracts are as of 2026)
DISTRICTS = (
    ("1", "中西區", "香港"), ("2", "灣仔區", "香港"), ("3", "油尖旺區", "香港"),
    ("4", "福田區", "深圳"), ("5", "天河區", "广州"), ("6", "浦東新區", "上海"),
)  # fmt: skip
CITY_DISTRICT = {"深圳": "4", "广州": "5", "上海": "6"}

# file -> columns, in order
FILES: dict[str, list[str]] = {
    "client": ["client_id", "name", "birth_number", "district_id", "phone", "id_no", "updated"],
    "district": ["district_id", "district_name", "city"],
    "deposit": ["account_id", "district_id", "kind", "opened", "term", "balance", "currency",
                "status"],
    "loan": ["loan_id", "account_id", "granted", "amount", "duration", "payments", "status"],
    "card": ["card_id", "disp_id", "type", "issued", "credit_limit"],
    "disp": ["disp_id", "client_id", "account_id", "type"],
    "fx_rates": ["currency", "rate_date", "rate"],
}  # fmt: skip
KINDS = {"CUR": 0.5, "SAV": 0.3, "TD": 0.2}


def birth_number(birth: dt.date, gender: str) -> str:
    """``YYMMDD`` with the month + 50 for women (the Czech birth number's first six digits)."""
    month = birth.month + (50 if gender == "F" else 0)
    return f"{birth.year % 100:02d}{month:02d}{birth.day:02d}"


def decode_birth_number(value: str) -> tuple[dt.date, str]:
    """The inverse of :func:`birth_number` (the tests' oracle, not the loader's: the loader
    decodes it in the mapping's SQL)."""
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:6])
    gender = "F" if mm > 50 else "M"
    year = 1900 + yy if yy > PIVOT_YEAR else 2000 + yy
    return dt.date(year, mm - 50 if mm > 50 else mm, dd), gender


def _yymmdd(day: dt.date) -> str:
    return day.strftime("%y%m%d")


def _amount(value: float) -> str:
    """A decimal comma, no thousands separator: ``-1234,50``."""
    return f"{value:.2f}".replace(".", ",")


def _phone(rng: random.Random, digits: str) -> str:
    """A mainland mobile as the subsidiary writes it: international prefixes and spaces."""
    return rng.choice(
        (
            f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}",
            f"0086-{digits}",
            f"(+86) {digits}",
        )
    )


class LegacySystem:
    """Picks the bank's people the subsidiary also knows and writes its rows chunk by chunk."""

    def __init__(self, out: Path, as_of: dt.date) -> None:
        self.folder = out / SYSTEM
        self.folder.mkdir(parents=True, exist_ok=True)
        self.as_of = as_of
        self.ids = {k: count(1) for k in ("client", "account", "loan", "card", "disp")}
        self.files: dict[str, IO[str]] = {}
        self.rows_written = dict.fromkeys(FILES, 0)
        for name, columns in FILES.items():
            f = open(self.folder / f"{name}.csv", "w", encoding=ENCODING, newline="")  # noqa: SIM115
            f.write(DELIMITER.join(columns) + "\r\n")
            self.files[name] = f
        self._write("district", [dict(zip(FILES["district"], d, strict=True)) for d in DISTRICTS])
        end = month_end(as_of)
        months = [end]
        for _ in range(2):
            months.append(months[-1].replace(day=1) - dt.timedelta(days=1))
        rates = [{"currency": CURRENCY, "rate_date": f"{m:%Y-%m-%d}", "rate": rate}
                 for m, rate in zip(months, ("0,9132", "0,9187", "0,9241"), strict=True)]  # fmt: skip
        self._write("fx_rates", rates)

    def _write(self, name: str, rows: list[dict[str, Any]]) -> None:
        columns = FILES[name]
        f = self.files[name]
        for row in rows:
            f.write(DELIMITER.join("" if row.get(c) is None else str(row[c]) for c in columns))
            f.write("\r\n")
        self.rows_written[name] += len(rows)

    def chunk(self, rng: random.Random, people: list[Person]) -> Iterator[dict[str, str]]:
        """Write the legacy rows of a chunk of people; yield their ground-truth identities."""
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in FILES}
        chosen = [p for p in people if rng.random() < SHARE]
        client_of: dict[int, str] = {}
        for p in chosen:
            client_id = str(next(self.ids["client"]))
            client_of[p.index] = client_id
            rows["client"].append(
                {
                    "client_id": client_id,
                    "name": to_traditional(p.name),
                    "birth_number": birth_number(p.birth, p.gender),
                    "district_id": CITY_DISTRICT.get(p.city, rng.choice("123")),
                    "phone": _phone(rng, p.phone) if rng.random() < 0.8 else None,
                    "id_no": p.national_id if rng.random() < 0.5 else None,
                    "updated": f"{p.updated:%Y-%m-%d %H:%M}",
                }
            )
            yield {"system": SYSTEM, "source_id": client_id, "person_id": p.person_id}
        by_household: dict[str, list[Person]] = {}
        for p in chosen:
            if p.household:
                by_household.setdefault(p.household, []).append(p)
        partner = {
            members[0].index: members[1] for members in by_household.values() if len(members) > 1
        }
        for p in chosen:
            self._accounts(rng, p, client_of, partner.get(p.index), rows)
        for name, file_rows in rows.items():
            self._write(name, file_rows)

    def _disp(self, rows: dict, client_id: str, account_id: str, kind: str) -> str:
        disp_id = str(next(self.ids["disp"]))
        rows["disp"].append(
            {"disp_id": disp_id, "client_id": client_id, "account_id": account_id, "type": kind}
        )
        return disp_id

    def _accounts(
        self,
        rng: random.Random,
        p: Person,
        client_of: dict[int, str],
        partner: Person | None,
        rows: dict[str, list[dict[str, Any]]],
    ) -> None:
        client_id = client_of[p.index]
        for n in range(rng.choice((1, 1, 2))):
            kind = rng.choices(list(KINDS), list(KINDS.values()))[0] if n else "CUR"
            account_id = str(next(self.ids["account"]))
            opened = self.as_of - dt.timedelta(days=rng.randrange(90, 6000))
            balance = round(rng.lognormvariate(10.5, 1.3), 2)
            if kind == "CUR" and rng.random() < 0.08:
                balance = -round(rng.uniform(100, 20_000), 2)  # overdrawn: normal for a CUR
            rows["deposit"].append(
                {
                    "account_id": account_id,
                    "district_id": CITY_DISTRICT.get(p.city, "1"),
                    "kind": kind,
                    "opened": _yymmdd(opened),
                    "term": rng.choice((12, 24, 36)) if kind == "TD" else None,
                    "balance": _amount(balance),
                    "currency": CURRENCY,
                    "status": "A",
                }
            )
            owner_disp = self._disp(rows, client_id, account_id, "OWNER")
            if n == 0 and partner is not None:
                self._disp(rows, client_of[partner.index], account_id, "DISPONENT")
            if n == 0 and rng.random() < 0.35:
                granted = self.as_of - dt.timedelta(days=rng.randrange(60, 1500))
                duration = rng.choice((12, 24, 36, 48, 60))
                amount = round(rng.uniform(20_000, 500_000), 0)
                rows["loan"].append(
                    {
                        "loan_id": str(next(self.ids["loan"])),
                        "account_id": account_id,
                        "granted": _yymmdd(granted),
                        "amount": _amount(amount),
                        "duration": duration,
                        "payments": _amount(round(amount / duration, 2)),
                        "status": rng.choice("AC"),
                    }
                )
            if n == 0 and rng.random() < 0.3:
                rows["card"].append(
                    {
                        "card_id": str(next(self.ids["card"])),
                        "disp_id": owner_disp,
                        "type": rng.choice(("classic", "gold")),
                        "issued": _yymmdd(self.as_of - dt.timedelta(days=rng.randrange(30, 2000))),
                        "credit_limit": _amount(rng.choice((10_000, 30_000, 80_000))),
                    }
                )

    def close(self) -> dict[str, int]:
        for f in self.files.values():
            f.close()
        return {f"{SYSTEM}/{name}": n for name, n in self.rows_written.items()}
