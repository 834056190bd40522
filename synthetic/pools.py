"""Pools of Chinese-looking names, addresses and jobs, built once per seed with Faker('zh_CN').

Faker is slow, so a million customers sample from these pools with a seeded ``random.Random``
instead of calling Faker per row.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from faker import Faker

CITIES = (
    "上海", "北京", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安",
    "重庆", "天津", "宁波", "厦门", "青岛", "长沙",
)  # fmt: skip
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "153",
    "155", "156", "158", "159", "176", "177", "180", "181", "185", "186", "187", "188", "189",
)  # fmt: skip
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "foxmail.com")
REGION_CODES = ("310101", "310115", "110105", "440106", "440305", "330106", "320106", "510107")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Pools:
    surnames: tuple[str, ...]
    given_names: tuple[str, ...]
    streets: tuple[str, ...]
    districts: tuple[str, ...]
    jobs: tuple[str, ...]
    user_names: tuple[str, ...]


def build_pools(seed: int, size: int = 4000) -> Pools:
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    return Pools(
        surnames=tuple(fake.last_name() for _ in range(size)),
        given_names=tuple(fake.first_name() for _ in range(size)),
        streets=tuple(fake.street_name() for _ in range(size // 4)),
        districts=tuple(fake.district() + "区" for _ in range(200)),
        jobs=tuple(dict.fromkeys(fake.job() for _ in range(400))),
        user_names=tuple(fake.user_name() for _ in range(size)),
    )


def national_id(rng: random.Random, birth: dt.date, gender: str) -> str:
    """An 18-character resident ID with a valid GB 11643 check character."""
    seq = rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
    return national_id_with(f"{rng.choice(REGION_CODES)}{birth:%Y%m%d}{seq:03d}")


def national_id_with(body: str) -> str:
    """The 17 characters ``body`` with their GB 11643 check character."""
    return body + _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def unique_national_id(candidate: str, issued: set[str]) -> str:
    """``candidate``, or when another person holds it already, the ID with the next free
    sequence number of the same parity (gender), as the issuing office would give: a resident
    ID is one person's (GB 11643: region, birth date, sequence). Adds the result to ``issued``.
    Draws nothing from a generator, so the bank's other values stay as they were."""
    body = candidate[:17]
    seq = int(body[14:])
    for step in range(500):
        nid = national_id_with(f"{body[:14]}{(seq + 2 * step) % 1000:03d}")
        if nid not in issued:
            issued.add(nid)
            return nid
    raise ValueError(f"no free resident ID for region and birth date {body[:14]}")


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


def address(rng: random.Random, pools: Pools, city: str) -> str:
    return (
        f"{city}市{rng.choice(pools.districts)}{rng.choice(pools.streets)}"
        f"{rng.randrange(1, 999)}号{rng.randrange(1, 30)}栋{rng.randrange(1, 33)}0{rng.randrange(1, 9)}室"
    )
