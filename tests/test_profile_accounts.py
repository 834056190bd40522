"""A profile's accounts carry only the Account fields its selection shows (graph/queries/
customers.py, ``account_parts_for``): the product's name is read only for ``productName``, a
date only when shown. Narrow selections must hold the same values as the whole one, which is
generated from the schema, for every role and every customer the policy graph holds; the unscored
AUM summed from the accounts must not change with what the accounts show.
"""

from __future__ import annotations

import pytest
from graphql import GraphQLObjectType

from auth.policy import Role
from tests.round_trips import CountingSession
from tests.test_leak_crawler import selection
from tests.test_profile_timeline import (  # noqa: F401 (api: the fixture)
    CASES,
    CUSTOMER,
    _ask,
    _project,
    api,
)

assert isinstance(CUSTOMER, GraphQLObjectType)
WHOLE = " ".join(
    f"{name} {{ {selection(CUSTOMER.fields[name].type, 2, frozenset({'Customer'}), set())} }}"
    for name in ("accounts", "holdings")
)
NARROW = {
    "compared": "accounts { id productType balance }",
    "product": "accounts { id productName }",
    "dates": "holdings { role account { id openedAt maturityDate closedAt } }",
    "aum": "aum accounts { id }",
    "typename": "accounts { __typename } holdings { account { __typename id } }",
}


def _document(fields: str) -> str:
    return f"query($id: ID!) {{ customer(id: $id) {{ id aum {fields} }} }}"


@pytest.mark.parametrize(("role", "customer_id"), CASES, ids=[f"{r.value}-{c}" for r, c in CASES])
def test_narrow_account_selections_hold_the_wholes_values(api, auth_header, role, customer_id):  # noqa: F811
    variables = {"id": customer_id}
    whole, _ = _ask(api, auth_header, role, _document(WHOLE), variables)
    assert "OF_PRODUCT]" in " ".join(CountingSession.queries) or whole["data"] is None
    for name, fields in NARROW.items():
        narrow, _ = _ask(api, auth_header, role, _document(fields), variables)
        sent = " ".join(CountingSession.queries)
        assert narrow.get("errors") == whole.get("errors"), name
        if whole["data"] is None or whole["data"]["customer"] is None:
            assert narrow["data"] == whole["data"], name
            continue
        assert ("OF_PRODUCT]" in sent) == ("productName" in fields), (name, sent)
        assert (".opened_at" in sent) == ("openedAt" in fields), (name, sent)
        got = narrow["data"]["customer"]
        assert got == _project(whole["data"]["customer"], got), name


def test_the_compared_customer_holds_accounts(api, auth_header):  # noqa: F811
    """The fixture's first customer: the comparison above is not trivially empty."""
    body, _ = _ask(api, auth_header, Role.ADMIN, _document(WHOLE), {"id": "C000001"})
    accounts = body["data"]["customer"]["accounts"]
    assert accounts and all(a["productName"] for a in accounts)
    assert any(a["openedAt"] for a in accounts) and body["data"]["customer"]["aum"] > 0


def test_an_account_whose_product_code_changed_is_listed_once(api, auth_header, driver, settings):  # noqa: F811
    """A later load that changes an account's product code leaves the old OF_PRODUCT edge: the
    account is still one account, named after its current product, whatever the selection (and
    the unscored AUM summed from the accounts counts it once)."""
    [record] = driver.execute_query(
        """MATCH (:Customer {customer_id: 'C000001'})-[:HOLDS]->(a:Account)-[:OF_PRODUCT]->(p)
        WITH a, p ORDER BY a.account_id LIMIT 1
        MERGE (old:Product {product_code: 'OLD-' + p.product_code}) SET old.name = 'retired'
        MERGE (a)-[:OF_PRODUCT]->(old)
        RETURN a.account_id AS account, p.name AS name""",
        database_=settings.neo4j_database,
    ).records
    answers = {}
    for fields in ("aum accounts { id }", "aum accounts { id productName }", WHOLE):
        body, _ = _ask(api, auth_header, Role.ADMIN, _document(fields), {"id": "C000001"})
        customer = body["data"]["customer"]
        ids = [a["id"] for a in customer["accounts"]]
        assert ids.count(record["account"]) == 1 and ids == sorted(ids), fields
        answers[fields] = customer["aum"]
        if "productName" in fields:
            named = {a["id"]: a["productName"] for a in customer["accounts"]}
            assert named[record["account"]] == record["name"], fields
    assert len(set(answers.values())) == 1, answers
