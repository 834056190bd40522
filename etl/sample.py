"""A minimal sample bank: enough for ``customer(id)`` to return something real."""

from __future__ import annotations

import datetime as dt
from typing import Any

from neo4j import Driver

from graph.queries import upserts as q

BRANCHES = [{"branch_id": "BR001", "name": "上海陆家嘴支行", "city": "上海"}]
EMPLOYEES = [
    {"employee_id": "E0001", "name": "王丽", "title": "Relationship Manager", "branch_id": "BR001"}
]
PRODUCTS = [
    {"product_code": "SAV-STD", "name": "活期储蓄", "category": "DEPOSIT", "min_tier": "ORDINARY"},
    {
        "product_code": "TD-3Y",
        "name": "三年定期存款",
        "category": "DEPOSIT",
        "min_tier": "ORDINARY",
    },
    {"product_code": "WM-STEADY", "name": "稳健理财", "category": "WEALTH", "min_tier": "KEY"},
    {"product_code": "CC-GOLD", "name": "金卡信用卡", "category": "CARD", "min_tier": "ORDINARY"},
]
CUSTOMERS = [
    {
        "customer_id": "C000001",
        "name": "张伟",
        "gender": "M",
        "birth_date": dt.date(1980, 5, 17),
        "phone": "+8613812345678",
        "email": "zhang.wei@example.com",
        "city": "上海",
        "segment": "RETAIL",
        "status": "ACTIVE",
        "national_id_last4": "1234",
        "address": "上海市浦东新区世纪大道100号",
    },
    {
        "customer_id": "C000002",
        "name": "李娜",
        "gender": "F",
        "birth_date": dt.date(1983, 9, 2),
        "phone": "+8613987654321",
        "email": "li.na@example.com",
        "city": "上海",
        "segment": "RETAIL",
        "status": "ACTIVE",
        "national_id_last4": "5678",
        "address": "上海市浦东新区世纪大道100号",
    },
    {
        "customer_id": "C000003",
        "name": "陈静",
        "gender": "F",
        "birth_date": dt.date(1995, 1, 30),
        "phone": "+8613600001111",
        "email": None,
        "city": "杭州",
        "segment": "RETAIL",
        "status": "ACTIVE",
        "national_id_last4": "9012",
        "address": "杭州市西湖区文三路8号",
    },
]
ACCOUNTS = [
    {
        "account_id": "A0000001",
        "props": {
            "product_type": "SAVINGS",
            "product_code": "SAV-STD",
            "currency": "CNY",
            "balance": 125000.0,
            "status": "OPEN",
            "opened_at": dt.date(2015, 3, 1),
        },
    },
    {
        "account_id": "A0000002",
        "props": {
            "product_type": "TIME_DEPOSIT",
            "product_code": "TD-3Y",
            "currency": "CNY",
            "balance": 500000.0,
            "status": "OPEN",
            "opened_at": dt.date(2024, 6, 1),
            "maturity_date": dt.date(2027, 6, 1),
        },
    },
    {
        "account_id": "A0000003",
        "props": {
            "product_type": "WEALTH",
            "product_code": "WM-STEADY",
            "currency": "CNY",
            "balance": 300000.0,
            "status": "OPEN",
            "opened_at": dt.date(2022, 1, 10),
        },
    },
    {
        "account_id": "A0000004",
        "props": {
            "product_type": "CREDIT_CARD",
            "product_code": "CC-GOLD",
            "currency": "CNY",
            "balance": -8200.0,
            "credit_limit": 50000.0,
            "status": "OPEN",
            "opened_at": dt.date(2019, 7, 7),
        },
    },
    {
        "account_id": "A0000005",
        "props": {
            "product_type": "SAVINGS",
            "product_code": "SAV-STD",
            "currency": "CNY",
            "balance": 4300.0,
            "status": "OPEN",
            "opened_at": dt.date(2021, 11, 11),
        },
    },
]
HOLDINGS = [
    {"customer_id": "C000001", "account_id": "A0000001", "role": "PRIMARY"},
    {"customer_id": "C000001", "account_id": "A0000002", "role": "PRIMARY"},
    {"customer_id": "C000002", "account_id": "A0000002", "role": "JOINT"},
    {"customer_id": "C000001", "account_id": "A0000003", "role": "PRIMARY"},
    {"customer_id": "C000001", "account_id": "A0000004", "role": "PRIMARY"},
    {"customer_id": "C000003", "account_id": "A0000005", "role": "PRIMARY"},
]
HOUSEHOLDS = [
    {"household_id": "H000001", "name": "张伟家庭", "address": "上海市浦东新区世纪大道100号"}
]
MEMBERSHIPS = [
    {
        "customer_id": "C000001",
        "household_id": "H000001",
        "role": "HEAD",
        "since": dt.date(2010, 10, 1),
    },
    {
        "customer_id": "C000002",
        "household_id": "H000001",
        "role": "SPOUSE",
        "since": dt.date(2010, 10, 1),
    },
]
MANAGES = [
    {"employee_id": "E0001", "customer_id": "C000001", "since": dt.date(2020, 1, 1)},
    {"employee_id": "E0001", "customer_id": "C000002", "since": dt.date(2020, 1, 1)},
]


def load_sample(driver: Driver, *, database: str) -> dict[str, int]:
    """Upsert the sample (idempotent); return the rows written per entity."""
    steps: list[tuple[str, str, list[dict[str, Any]]]] = [
        ("branches", q.UPSERT_BRANCHES, BRANCHES),
        ("employees", q.UPSERT_EMPLOYEES, EMPLOYEES),
        ("products", q.UPSERT_PRODUCTS, PRODUCTS),
        ("customers", q.UPSERT_CUSTOMERS, CUSTOMERS),
        ("accounts", q.UPSERT_ACCOUNTS, ACCOUNTS),
        ("holdings", q.UPSERT_HOLDINGS, HOLDINGS),
        ("households", q.UPSERT_HOUSEHOLDS, HOUSEHOLDS),
        ("memberships", q.UPSERT_MEMBERSHIPS, MEMBERSHIPS),
        ("manages", q.UPSERT_MANAGES, MANAGES),
    ]
    for _, query, rows in steps:
        q.write_batch(driver, query, rows, database=database)
    return {name: len(rows) for name, _, rows in steps}
