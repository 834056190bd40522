"""The short way for leaves (schema/execution.py) answers as graphql-core's own executor does.

The oracle is graphql-core's ``execute_fields`` (strawberry's execution context, unchanged), run
in the same process on the same graph: every document is sent with it, with ours, and with it
again. Where graphql-core answers the same twice (a document whose answer does not change
between two calls: not one that lists the audit events the calls themselves write), ours must
answer exactly the same, data and errors (sealed cursors, fresh on every call, and the instant
a live figure was computed are compared as present or null).

The documents are not listed here: they are the leak crawler's (tests/test_leak_crawler.py),
derived from the schema: every Query entry point with every field reachable from it, with
arguments from their types, for a role that sees everything and for a relationship manager
(masking, scopes, refusals); and the benchmark's customer-360 read with 100 timeline items.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLString
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from auth.policy import Role
from bench.compare_graphql import OURS
from schema import execution
from schema.execution import LeafFastExecution
from tests import leak_bank as bank
from tests.test_leak_crawler import (
    CONTROL,
    SELECTIONS,
    claims_for,
    guard_for,
    pools_for,
    variants,
)


@contextmanager
def graphql_cores_own() -> Iterator[None]:
    """Within: every field executed by graphql-core's own ``execute_fields``."""
    ours = LeafFastExecution.execute_fields
    LeafFastExecution.execute_fields = StrawberryGraphQLCoreExecutionContext.execute_fields  # type: ignore[method-assign]
    try:
        yield
    finally:
        LeafFastExecution.execute_fields = ours  # type: ignore[method-assign]


# values that differ between two calls by design: sealed cursors (a fresh nonce each time:
# resolvers/pagination.py) and the instant a live figure was computed; compared as present or null
SEALED = frozenset({"cursor", "endCursor", "startCursor", "computedAt"})


def _steady(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("<differs by design>" if k in SEALED and v is not None else _steady(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


def _post(client: Any, headers: dict[str, str], query: str, variables: dict | None = None) -> Any:
    resp = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return resp.status_code, _steady(resp.json())


def _compare(client: Any, headers: dict[str, str], query: str, variables=None) -> str | None:
    """'same', 'unsteady' (graphql-core's two answers differ) or a description of the difference."""
    with graphql_cores_own():
        before = _post(client, headers, query, variables)
    ours = _post(client, headers, query, variables)
    with graphql_cores_own():
        after = _post(client, headers, query, variables)
    if before != after:
        return "unsteady"
    if ours != before:
        return f"{query}\n  graphql-core: {str(before)[:600]}\n  ours:         {str(ours)[:600]}"
    return "same"


@pytest.fixture(scope="module")
def leak_api(settings, driver):
    with bank.leak_bank_client(settings, driver) as client:
        yield client


@pytest.mark.parametrize("role", [CONTROL, Role.RELATIONSHIP_MANAGER], ids=lambda r: r.value)
def test_every_crawled_document_answers_as_graphql_cores_own_executor(leak_api, auth_header, role):
    headers = auth_header(role.value, **claims_for(role))
    pools = pools_for(guard_for(role))
    outcomes: dict[str, int] = {"same": 0, "unsteady": 0}
    differences = []
    for root in SELECTIONS:
        for variant in variants(root, pools):
            outcome = _compare(leak_api, headers, variant.document(None))
            if outcome in outcomes:
                outcomes[outcome] += 1
            else:
                differences.append(outcome)
    assert not differences, f"{len(differences)} answers differ:\n" + "\n".join(differences[:5])
    compared = outcomes["same"]
    # the comparison has teeth only if most documents are steady (the audit lists are not)
    assert compared >= 50 and compared >= 9 * outcomes["unsteady"], outcomes


def test_the_customer_360_read_with_100_timeline_items_answers_as_graphql_cores_own(
    leak_api, auth_header
):
    headers = auth_header(CONTROL.value, **claims_for(CONTROL))
    customers = sorted(bank.BY_ID)
    LeafFastExecution._leaves.clear()
    LeafFastExecution._attributes.clear()
    answered = 0
    for customer_id in customers:
        assert _compare(leak_api, headers, OURS, {"id": customer_id, "n": 100}) == "same"
        _, body = _post(leak_api, headers, OURS, {"id": customer_id, "n": 100})
        answered += bool((body.get("data") or {}).get("customer"))
    assert answered >= 1, "no customer answered: the comparison saw nothing"
    # the served schema took the short way (no middleware turned it off) for the items' leaves,
    # and walked the pages' edges and nodes and the accounts in one go
    short = {(t.name, f) for (t, f), leaf in LeafFastExecution._leaves.items() if leaf}
    walked = {(t.name, f) for (t, f), field in LeafFastExecution._attributes.items() if field}
    assert {("Interaction", "channel"), ("Interaction", "occurredAt"), ("Account", "id")} <= (
        short | walked
    )
    assert {("TimelineEdge", "node"), ("Interaction", "channel"), ("Account", "id")} <= walked
    # the leaves of an object that cannot be walked (the customer: fields with resolvers)
    assert ("Customer", "name") in short


@strawberry.type
class Item:
    name: str
    note: str | None


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return [Item(name="a", note="x"), Item(name=None, note="y")]  # type: ignore[arg-type]


@strawberry.type
class Thing:
    plain: str
    listed: list[str]

    @strawberry.field
    def computed(self) -> str:
        return "c"

    @strawberry.field
    def with_args(self, n: int) -> str:
        return str(n)


def test_a_null_under_a_non_null_leaf_is_graphql_cores_error_with_its_path():
    """The short way leaves a null under a non-null type to graphql-core: the same error, the
    same path, the parent nulled."""
    query = "{ items { name note } }"
    ours = strawberry.Schema(Query, execution_context_class=LeafFastExecution).execute_sync(query)
    theirs = strawberry.Schema(Query).execute_sync(query)
    assert ours.data == theirs.data == {"items": [{"name": "a", "note": "x"}, None]}
    assert [(e.message, e.path) for e in ours.errors or []] == [
        (e.message, e.path) for e in theirs.errors or []
    ]
    assert theirs.errors and theirs.errors[0].path == ["items", 1, "name"]


def test_only_attribute_leaves_without_arguments_take_the_short_way():
    gql = strawberry.Schema(query=Thing)._schema
    thing = gql.get_type("Thing")
    assert isinstance(thing, GraphQLObjectType)
    short = {name for name in thing.fields if execution._leaf(thing, name) is not None}
    assert short == {"plain"}
    resolve, leaf_type, non_null = execution._leaf(thing, "plain")  # type: ignore[misc]
    assert leaf_type is GraphQLString and non_null
    assert isinstance(thing.fields["plain"].type, GraphQLNonNull)


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    name: str
    colour: Colour
    tags: list[str]
    note: str | None = None


@strawberry.type
class Box:
    leaves: list[Leaf]
    first: Leaf | None

    @strawberry.field
    def computed(self) -> str:
        return "c"


@strawberry.type
class BoxQuery:
    @strawberry.field
    def boxes(self) -> list[Box]:
        leaves = [
            Leaf(name="a", colour=Colour.RED, tags=["x"]),
            Leaf(name="b", colour=Colour.BLUE, tags=[]),
        ]
        broken = [Leaf(name=None, colour=Colour.RED, tags=[])]  # type: ignore[arg-type]
        return [Box(leaves=leaves, first=leaves[0]), Box(leaves=broken, first=None)]


WALKED = """{ boxes { __typename leaves { n: name colour tags ...F } first { name }
  more: leaves { note } } } fragment F on Leaf { name note }"""


@pytest.mark.parametrize(
    "query",
    [
        WALKED,
        "{ boxes { leaves { name } computed } }",
        "{ boxes { leaves { name @include(if: false) colour } first { tags } } }",
        "{ boxes { first { name } } }",
    ],
)
def test_a_walked_value_answers_as_graphql_cores_own(query):
    """Objects and lists of objects made only of attribute fields are walked in one go; a
    resolver, a directive or a null under non-null (the second box's leaf) hands the value
    back to graphql-core: the same data, the same errors and paths."""
    LeafFastExecution._attributes.clear()
    ours = strawberry.Schema(BoxQuery, execution_context_class=LeafFastExecution)
    theirs = strawberry.Schema(BoxQuery)
    mine, other = ours.execute_sync(query), theirs.execute_sync(query)
    assert mine.data == other.data
    assert [(e.message, e.path) for e in mine.errors or []] == [
        (e.message, e.path) for e in other.errors or []
    ]
    if query == WALKED:
        assert other.errors and other.errors[0].path == ["boxes", 1, "leaves", 0, "n"]
        walked = {(t.name, f) for (t, f), read in LeafFastExecution._attributes.items() if read}
        assert {("Leaf", "colour"), ("Leaf", "tags"), ("Box", "first")} <= walked
