"""Persisted operations over HTTP: Apollo Client's persisted-queries link against the served app
(miss, register, hit), the protocol's refusals, trusted documents (the CLI registers a manifest
in the graph, or refuses it naming the operation; only registered operations run; the console's
and the README's documents keep working)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from c360.app import create_app
from c360.cli import app as cli
from core import settings as settings_module
from core.settings import PROJECT_ROOT
from tests.live_server import served
from tests.node_clients import run_client

ME = "query Me { me { subject roles } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _persisted(sha256: str, version: int = 1) -> dict:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256}}


def _codes(resp) -> list[str]:
    return [e["extensions"]["code"] for e in resp.json().get("errors", [])]


def _token(auth_header, role: str = "admin", **claims: str) -> str:
    return auth_header(role, **claims)["Authorization"].removeprefix("Bearer ")


def _seen(requests: list[dict]) -> list[tuple[str, bool, bool, int]]:
    return [(r["method"], r["query"], r["hash"], r["status"]) for r in requests]


# -- automatic persisted queries ----------------------------------------------------------


@pytest.mark.parametrize("use_get", [False, True], ids=["POST", "GET for hashed queries"])
def test_apollo_persisted_query_link_round_trip(settings, sample_graph, auth_header, use_get):
    """First app start: the hash alone (a miss), then hash and document (registered, run). The
    next start sends the hash only and is answered."""
    query = f"query Me{'Get' if use_get else 'Post'} {{ me {{ subject roles }} }}"
    hashed = "GET" if use_get else "POST"
    with served(create_app(settings)) as base:
        report = run_client(
            "apq.mjs",
            {
                "url": f"{base}/graphql",
                "token": _token(auth_header),
                "runs": [[{"query": query}], [{"query": query}]],
                "useGET": use_get,
            },
        )
    [[first], [second]] = report["runs"]
    assert first["codes"] == [] and second["codes"] == []
    assert first["data"]["me"]["roles"] == ["admin"] == second["data"]["me"]["roles"]
    # Apollo Client 4 asks for graphql-response+json: the miss is a request error, 400.
    assert _seen(first["requests"]) == [(hashed, False, True, 400), ("POST", True, True, 200)]
    assert _seen(second["requests"]) == [(hashed, False, True, 200)]
    assert all(GRAPHQL_RESPONSE in r["contentType"] for r in first["requests"] + second["requests"])


def test_apq_protocol_answers(api, auth_header):
    admin = auth_header()
    unknown = _sha("query Unknown { me { subject } }")
    # application/json: the miss is 200 with the error Apollo's clients look for.
    resp = api.post("/graphql", json={"extensions": _persisted(unknown)}, headers=admin)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    assert resp.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert _codes(resp) == ["PERSISTED_QUERY_NOT_FOUND"]
    # graphql-response+json: 400 and no data.
    resp = api.post(
        "/graphql",
        json={"extensions": _persisted(unknown)},
        headers={**admin, "Accept": GRAPHQL_RESPONSE},
    )
    assert resp.status_code == 400 and "data" not in resp.json()
    assert resp.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert _codes(resp) == ["PERSISTED_QUERY_NOT_FOUND"]
    # A hash that is not the document's: refused, naming the hash; nothing registered.
    wrong = _sha("something else")
    resp = api.post("/graphql", json={"query": ME, "extensions": _persisted(wrong)}, headers=admin)
    assert resp.status_code == 400 and _codes(resp) == ["BAD_USER_INPUT"]
    assert wrong in resp.json()["errors"][0]["message"]
    # Unsupported version, malformed hash.
    for extensions, named in (
        (_persisted(_sha(ME), version=2), "version"),
        ({"persistedQuery": {"version": 1, "sha256Hash": "abc"}}, "sha256Hash"),
        ({"persistedQuery": "yes"}, "persistedQuery"),
    ):
        resp = api.post("/graphql", json={"query": ME, "extensions": extensions}, headers=admin)
        assert resp.status_code == 400 and _codes(resp) == ["BAD_USER_INPUT"], extensions
        assert named in resp.json()["errors"][0]["message"]
    # Register by sending both, then the hash alone runs it, by POST and by GET.
    resp = api.post(
        "/graphql", json={"query": ME, "extensions": _persisted(_sha(ME))}, headers=admin
    )
    assert resp.json()["data"]["me"]["subject"]
    resp = api.post("/graphql", json={"extensions": _persisted(_sha(ME))}, headers=admin)
    assert resp.json()["data"]["me"]["subject"]
    params = {"extensions": json.dumps(_persisted(_sha(ME)))}
    assert api.get("/graphql", params=params, headers=admin).json()["data"]["me"]["subject"]


def test_apq_documents_pass_the_same_limits_and_are_not_kept_when_refused(api, auth_header):
    admin = auth_header()
    deep = '{ customer(id: "C000001") { ' + "household { " * 30 + "id" + " }" * 30 + " } }"
    invalid = '{ customer(id: "C000001") { nope } }'
    for query, code in ((deep, "LIMIT_EXCEEDED"), (invalid, "BAD_USER_INPUT")):
        sent = {"query": query, "extensions": _persisted(_sha(query))}
        refused = api.post("/graphql", json=sent, headers=admin)
        assert code in _codes(refused) and refused.json()["data"] is None
        again = api.post("/graphql", json={"extensions": _persisted(_sha(query))}, headers=admin)
        assert _codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]


def test_a_persisted_mutation_is_not_run_by_get(api, auth_header):
    mutation = (
        'mutation { logInteraction(input: {clientMutationId: "6f1c8a52-1d2e-4b3c-9a8b-7c6d5e4f3a2b",'
        ' customerId: "C000001", channel: VISIT, summary: "x"}) { created } }'
    )
    rm = auth_header("relationship_manager", employee_id="E0001")
    params = {"query": mutation, "extensions": json.dumps(_persisted(_sha(mutation)))}
    resp = api.get("/graphql", params=params, headers=rm)
    assert resp.status_code == 405 and resp.headers["allow"] == "POST"
    assert _codes(resp) == ["BAD_USER_INPUT"]


# -- trusted documents ----------------------------------------------------------------------


@pytest.fixture
def documents_cli(monkeypatch, settings):
    """`c360 documents ...` against the test graph."""

    def invoke(*args: str):
        monkeypatch.setenv("C360_ENV", "test")
        monkeypatch.setenv("NEO4J_LOCAL_PORT", str(settings.neo4j_local_port))
        if settings.neo4j_uri:
            monkeypatch.setenv("NEO4J_URI", settings.neo4j_uri)
        else:
            monkeypatch.delenv("NEO4J_URI", raising=False)
        settings_module.get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli, ["documents", *args])
        finally:
            settings_module.get_settings.cache_clear()

    return invoke


def _manifest(path: Path, *operations: tuple[str, str, str]) -> Path:
    path.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": _sha(body), "name": name, "type": kind, "body": body}
                    for name, kind, body in operations
                ],
            }
        )
    )
    return path


REGISTERED = "query Registered($id: ID!) { customer(id: $id) { id name } }"
UNREGISTERED = "query Unregistered { me { subject } }"


def test_the_cli_refuses_an_invalid_manifest_naming_the_operation(
    documents_cli, sample_graph, tmp_path
):
    manifest = _manifest(
        tmp_path / "bad.json",
        ("Good", "query", "query Good { me { subject } }"),
        ("Broken", "query", "query Broken { me { nosuchfield } }"),
        ("Mislabelled", "mutation", "query Mislabelled { me { roles } }"),
    )
    result = documents_cli("register", str(manifest))
    assert result.exit_code == 2, result.output
    assert "'Broken'" in result.output and "nosuchfield" in result.output
    assert "'Mislabelled'" in result.output and "type 'mutation'" in result.output
    assert "nothing registered" in result.output
    listed = documents_cli("list")
    assert listed.exit_code == 0 and "Good" not in listed.output


def test_trusted_mode_runs_registered_operations_only(
    documents_cli, settings, sample_graph, auth_header, tmp_path
):
    """A channel team registers what its client sends (Apollo adds __typename: the manifest
    holds the document as the client prints it, as Apollo's manifest generator writes it)."""
    trusted = settings.model_copy(update={"trusted_documents": True, "console_dist_dir": tmp_path})
    token = _token(auth_header)
    operations = [
        {"query": REGISTERED, "variables": {"id": "C000001"}},
        {"query": UNREGISTERED},
    ]
    with served(create_app(trusted)) as base:
        before = run_client(
            "apq.mjs", {"url": f"{base}/graphql", "token": token, "runs": [operations[:1]]}
        )
    [[refused_first]] = before["runs"]
    assert refused_first["codes"] == ["PERSISTED_QUERY_NOT_ALLOWED"]
    sent = refused_first["requests"][-1]["text"]
    assert "__typename" in sent

    manifest = _manifest(tmp_path / "channel.json", ("Registered", "query", sent))
    result = documents_cli("register", str(manifest))
    assert result.exit_code == 0 and "Registered 1 operations" in result.output, result.output
    listed = documents_cli("list")
    assert _sha(sent) in listed.output and "channel.json" in listed.output

    admin = auth_header()
    with served(create_app(trusted)) as base, httpx.Client(timeout=90) as http:
        report = run_client(
            "apq.mjs", {"url": f"{base}/graphql", "token": token, "runs": [operations]}
        )
        url = f"{base}/graphql"
        variables = {"id": "C000001"}
        # By hash alone and by body (in another layout too): it runs.
        by_hash = http.post(
            url, json={"extensions": _persisted(_sha(sent)), "variables": variables}, headers=admin
        )
        relaid = " ".join(sent.split())
        by_body = http.post(url, json={"query": relaid, "variables": variables}, headers=admin)
        # Not registered: refused, in full and with its hash.
        full = http.post(url, json={"query": UNREGISTERED}, headers=admin)
        hashed = http.post(
            url,
            json={"query": UNREGISTERED, "extensions": _persisted(_sha(UNREGISTERED))},
            headers=admin,
        )
    [[registered, unregistered]] = report["runs"]
    assert registered["data"]["customer"]["id"] == "C000001"
    assert _seen(registered["requests"]) == [("POST", False, True, 200)]  # the hash was enough
    assert unregistered["data"] is None
    assert unregistered["codes"] == ["PERSISTED_QUERY_NOT_ALLOWED"]
    assert _seen(unregistered["requests"]) == [
        ("POST", False, True, 400),
        ("POST", True, True, 403),
    ]
    assert by_hash.json()["data"]["customer"]["id"] == "C000001"
    assert by_body.json()["data"]["customer"]["id"] == "C000001"
    for resp in (full, hashed):
        assert resp.status_code == 403 and _codes(resp) == ["PERSISTED_QUERY_NOT_ALLOWED"]
        assert "c360 documents register" in resp.json()["errors"][0]["message"]


def test_a_removed_document_stops_running_at_the_next_reload(
    documents_cli, settings, sample_graph, auth_header, tmp_path, monkeypatch
):
    from c360.http import persisted

    monkeypatch.setattr(persisted, "REFRESH_EVERY_S", 0.0)  # reload on every miss
    trusted = settings.model_copy(update={"trusted_documents": True, "console_dist_dir": tmp_path})
    first, second = "query First { me { subject } }", "query Second { me { roles } }"
    manifest = _manifest(
        tmp_path / "two.json", ("First", "query", first), ("Second", "query", second)
    )
    assert documents_cli("register", str(manifest)).exit_code == 0
    admin = auth_header()
    with served(create_app(trusted)) as base, httpx.Client(timeout=90) as http:
        url = f"{base}/graphql"
        assert http.post(url, json={"query": first}, headers=admin).status_code == 200
        removed = documents_cli("remove", _sha(first))
        assert removed.exit_code == 0 and "Removed 1" in removed.output, removed.output
        # A miss (any unknown document) reloads the registry: the removed one is gone, the
        # other still runs.
        http.post(url, json={"query": UNREGISTERED}, headers=admin)
        gone = http.post(url, json={"query": first}, headers=admin)
        kept = http.post(url, json={"query": second}, headers=admin)
    assert gone.status_code == 403 and _codes(gone) == ["PERSISTED_QUERY_NOT_ALLOWED"]
    assert kept.status_code == 200 and kept.json()["data"]["me"]["roles"] == ["admin"]
    again = documents_cli("remove", _sha(first))
    assert again.exit_code == 1 and "not registered" in again.output
    assert documents_cli("remove", "not-a-hash").exit_code == 2


def test_apq_documents_are_kept_per_caller(api, auth_header):
    """A hit would tell one caller which exact documents another ran (literals included)."""
    query = 'query Probe { customer(id: "C000001") { id } }'
    sha = _sha(query)
    admin, other = auth_header("admin"), auth_header("admin", subject="someone-else")
    ran = api.post("/graphql", json={"query": query, "extensions": _persisted(sha)}, headers=admin)
    assert "errors" not in ran.json(), ran.json()
    mine = api.post("/graphql", json={"extensions": _persisted(sha)}, headers=admin)
    theirs = api.post("/graphql", json={"extensions": _persisted(sha)}, headers=other)
    assert mine.json()["data"]["customer"]["id"] == "C000001"
    assert _codes(theirs) == ["PERSISTED_QUERY_NOT_FOUND"]


def _console_source() -> str:
    """The console's scripts (main.js and the views it imports, e.g. dashboard.js), one text."""
    return "\n".join(p.read_text() for p in sorted((PROJECT_ROOT / "console" / "src").glob("*.js")))


def _console_documents() -> list[str]:
    """The console's documents, read from its source independently of the app's extraction:
    the template literals that start an operation, and the inline `gql("{ ... }")` calls."""
    source = _console_source()
    literals = re.findall(r"`((?:query|mutation)(?:[^`$]|\$(?!\{))*)`", source)
    inline = re.findall(r'gql\("(\{[^"]*\})"\)', source)
    return literals + inline


def test_the_console_and_readme_documents_run_in_trusted_mode(
    documents_cli, settings, sample_graph, auth_header, tmp_path
):
    """The console's documents are trusted from its bundle at start-up (a copy of its source
    stands for the bundle here: minifying keeps string values); the README's examples once
    registered with the manifest `c360 documents manifest README.md` prints."""
    console_docs = _console_documents()
    assert len(console_docs) >= 8
    bundle_dir = tmp_path / "dist"
    bundle_dir.mkdir()
    (bundle_dir / "main.js").write_text(_console_source())
    made = documents_cli("manifest", str(PROJECT_ROOT / "README.md"))
    assert made.exit_code == 0, made.output
    manifest = json.loads(made.stdout)
    readme_docs = [op["body"] for op in manifest["operations"]]
    assert len(readme_docs) >= 5
    (tmp_path / "readme.json").write_text(made.stdout)
    assert documents_cli("register", str(tmp_path / "readme.json")).exit_code == 0

    trusted = settings.model_copy(
        update={"trusted_documents": True, "console_dist_dir": bundle_dir}
    )
    rm = auth_header("relationship_manager", employee_id="E0001")
    with served(create_app(trusted)) as base, httpx.Client(timeout=90) as http:
        answers = {
            body: http.post(f"{base}/graphql", json={"query": body}, headers=rm)
            for body in console_docs + readme_docs
        }
        refused = http.post(f"{base}/graphql", json={"query": UNREGISTERED}, headers=rm)
    assert _codes(refused) == ["PERSISTED_QUERY_NOT_ALLOWED"]
    for body, resp in answers.items():
        assert resp.status_code != 403 and "PERSISTED_QUERY_NOT_ALLOWED" not in _codes(resp), body
    me = next(b for b in console_docs if b.startswith("{ me"))
    assert answers[me].json()["data"]["me"]["employeeId"] == "E0001"


def test_the_built_bundle_sends_the_documents_of_the_source():
    """What the app trusts at start-up (the minified bundle) is what the source holds, to the
    byte: the same hashes (`make test` builds the console first)."""
    from c360.documents import documents_in_javascript
    from schema import build_schema

    schema = build_schema(introspection=False)._schema
    source = _console_source()
    bundle = (PROJECT_ROOT / "console" / "dist" / "main.js").read_text()
    from_source = {d.id for d in documents_in_javascript(source, schema)}
    assert from_source == {_sha(text) for text in _console_documents()}
    assert {d.id for d in documents_in_javascript(bundle, schema)} == from_source
