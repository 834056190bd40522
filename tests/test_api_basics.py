from __future__ import annotations

from neo4j import RoutingControl

PROFILE = """query($id: ID!) { customer(id: $id) {
  id name segment status aum
  accounts { id productType balance holderRole }
  household { id name role }
} }"""


def test_customer_over_http_returns_the_sample_customer(api, sample_graph, settings, auth_header):
    resp = api.post(
        "/graphql",
        json={"query": PROFILE, "variables": {"id": "C000001"}},
        headers=auth_header("admin"),
    )
    assert resp.status_code == 200
    body = resp.json()
    assert "errors" not in body
    customer = body["data"]["customer"]
    expected = sample_graph.execute_query(
        "MATCH (c:Customer {customer_id: 'C000001'})-[:HOLDS]->(a:Account) "
        "RETURN c.name AS name, collect(a.account_id) AS accounts",
        database_=settings.neo4j_database,
        routing_control=RoutingControl.READ,
    ).records[0]
    assert customer["name"] == expected["name"]
    assert sorted(a["id"] for a in customer["accounts"]) == sorted(expected["accounts"])
    assert customer["household"] == {"id": "H000001", "name": "张伟家庭", "role": "HEAD"}
    # AUM counts deposits and wealth, not card debt.
    assert customer["aum"] == 125000.0 + 500000.0 + 300000.0


def test_unknown_customer_is_not_found(api, auth_header):
    resp = api.post(
        "/graphql",
        json={"query": PROFILE, "variables": {"id": "C999999"}},
        headers=auth_header("admin"),
    )
    body = resp.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_get_queries_work_and_bad_fields_are_bad_user_input(api, auth_header):
    admin = auth_header("admin")
    resp = api.get(
        "/graphql", params={"query": '{ customer(id: "C000003") { id city } }'}, headers=admin
    )
    assert resp.status_code == 200
    assert resp.json()["data"]["customer"] == {"id": "C000003", "city": "杭州"}
    resp = api.post(
        "/graphql", json={"query": '{ customer(id: "C000003") { nope } }'}, headers=admin
    )
    assert resp.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_graphql_without_a_token_is_unauthenticated(api):
    resp = api.post("/graphql", json={"query": '{ customer(id: "C000001") { id } }'})
    assert resp.status_code == 401
    assert resp.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_health_live_and_ready(api):
    assert api.get("/health/live").json() == {"status": "live"}
    ready = api.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["graph"] == "ok"


def test_schema_file_matches_code():
    from schema import SDL_PATH, sdl

    assert SDL_PATH.read_text() == sdl(), "schema/schema.graphql is stale: run `c360 export-schema`"
