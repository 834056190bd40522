"""Follow-up plans (issue 22) on a hand-built history, over real HTTP and Neo4j: due dates and
days overdue, the due list per role, a logged visit taking a customer off at once, the visit
report, and the coverage per tier.

The expectations are computed here from the history this module writes (the newest counted
contact, the plan's interval), independently of the graph query; two literal spot checks keep
that computation honest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from neo4j import RoutingControl
from starlette.testclient import TestClient

from core import followups as plans
from graph import migrate
from graph.queries.scope import ACCESS_EXPR, ScopeKind
from tests.conftest import wipe

AS_OF = dt.date(2026, 10, 31)
CFG = plans.load()


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day + "T10:00:00+00:00")


# customer -> (tier, relationship manager or None, onboarded, [(kind, channel, when)])
HISTORY: dict[str, tuple[str, str | None, str, list[tuple[str, str, str]]]] = {
    # a visit (as the CRM records one: its channel) 51 days before; a later one after AS_OF
    "F01": (
        "CORE",
        "E1",
        "2015-01-01",
        [("FOLLOW_UP", "VISIT", "2026-09-10"), ("SERVICE", "APP", "2026-10-30")],
    ),  # fmt: skip
    # a phone follow-up 11 days before: not due within the upcoming days
    "F02": ("CORE", "E1", "2016-01-01", [("FOLLOW_UP", "PHONE", "2026-10-20")]),
    # a survey does not count, even by phone; the last call is older
    "F03": (
        "CORE",
        "E1",
        "2017-01-01",
        [("SURVEY", "PHONE", "2026-10-25"), ("CALL", "APP", "2026-08-01")],
    ),  # fmt: skip
    # a call (kind CALL) 87 days before: due in 3 days, listed but not overdue
    "F04": ("KEY", "E1", "2018-01-01", [("CALL", "WECHAT", "2026-08-05")]),
    # never contacted: due one interval after onboarding
    "F05": ("KEY", "E1", "2026-01-15", []),
    # no plan for ORDINARY
    "F06": ("ORDINARY", "E1", "2019-01-01", []),
    # another branch's RM
    "F07": ("CORE", "E2", "2020-01-01", [("FOLLOW_UP", "VISIT", "2026-07-01")]),
    # a second RM of branch B1
    "F08": ("KEY", "E3", "2021-01-01", [("FOLLOW_UP", "BRANCH", "2026-10-01")]),
    # nobody's: the bank-wide lists only
    "F09": ("CORE", None, "2022-01-01", [("VISIT", "VISIT", "2026-10-28")]),
    # nobody's, but branch B1 is its home branch: a branch manager's once the branch scope
    # admits home-branch customers (graph/queries/scope.py decides; see branch())
    "F10": ("CORE", None, "2023-01-01", []),
}
HOME_BRANCH = {"F10": "B1"}
STAFF = {"E1": "B1", "E2": "B2", "E3": "B1"}

WRITE = """
UNWIND $staff AS s
MERGE (b:Branch {branch_id: s.branch}) SET b.name = s.branch, b.city = '上海'
MERGE (e:Employee {employee_id: s.id}) SET e.name = s.id, e.branch_id = s.branch
MERGE (e)-[:WORKS_AT]->(b)
WITH count(*) AS _
UNWIND $customers AS row
CREATE (c:Customer {customer_id: row.id, name: '客户' + row.id, tier: row.tier,
                    onboarded_at: row.onboarded, status: 'ACTIVE', city: '上海'})
WITH c, row
CALL (c, row) {
  MATCH (e:Employee {employee_id: row.rm}) MERGE (e)-[:MANAGES {since: date('2020-01-01')}]->(c)
}
CALL (c, row) {
  MATCH (b:Branch {branch_id: row.home}) MERGE (c)-[:HOME_BRANCH]->(b)
}
CALL (c, row) {
  UNWIND row.contacts AS i
  CREATE (c)-[:HAD]->(:Interaction {interaction_id: row.id + '-' + i.kind + '-' + i.at,
                                    kind: i.kind, channel: i.channel, occurred_at: i.at})
}
"""


def _counted_dates(customer: str, until: dt.date) -> list[dt.date]:
    """The days of the customer's contacts the plan counts, up to ``until``: by the rule as the
    issue states it (a visit or a call counts, a survey does not)."""
    return [
        _at(day).date()
        for kind, channel, day in HISTORY[customer][3]
        if kind != "SURVEY"
        and (kind in ("VISIT", "CALL") or channel in ("VISIT", "PHONE"))
        and _at(day).date() <= until
    ]


def expected_due(customer: str, as_of: dt.date) -> dt.date:
    tier, _, onboarded, _ = HISTORY[customer]
    days = {"CORE": 30, "KEY": 90}[tier]
    counted = _counted_dates(customer, as_of)
    start = max(counted) if counted else dt.date.fromisoformat(onboarded)
    return start + dt.timedelta(days=days)


def expected_list(customers: list[str], as_of: dt.date, overdue_only: bool) -> list[dict[str, Any]]:
    horizon = as_of + dt.timedelta(days=-1 if overdue_only else 7)
    dues = [(expected_due(c, as_of), c) for c in customers if HISTORY[c][0] in ("CORE", "KEY")]
    return [{"customer": c, "due": due} for due, c in sorted(dues) if due <= horizon]


# The customers the branch scope fragment admits, by a scan of every customer: the lists must
# reach all of them, whatever the fragment says (they start from a candidate set of their own).
BRANCH_SCOPE = f"""MATCH (c:Customer) WITH c, {ACCESS_EXPR[ScopeKind.BRANCH]} AS access
WHERE access = 'direct' RETURN c.customer_id AS id"""


@pytest.fixture
def branch(driver, settings):
    def customers(branch_id: str) -> list[str]:
        records = driver.execute_query(
            BRANCH_SCOPE,
            branch_id=branch_id,
            database_=settings.neo4j_database,
            routing_control=RoutingControl.READ,
        ).records
        return sorted(r["id"] for r in records)

    return customers


def book(*rms: str) -> list[str]:
    return [c for c, (_, rm, _, _) in HISTORY.items() if rm in rms]


@pytest.fixture(scope="module")
def client(settings, driver):
    from c360.app import create_app

    wipe(driver, settings.neo4j_database)
    migrate.apply(driver, database=settings.neo4j_database)
    driver.execute_query(
        WRITE,
        staff=[{"id": e, "branch": b} for e, b in STAFF.items()],
        customers=[
            {
                "id": c,
                "tier": tier,
                "rm": rm,
                "home": HOME_BRANCH.get(c),
                "onboarded": dt.date.fromisoformat(onboarded),
                "contacts": [{"kind": k, "channel": ch, "at": _at(day)} for k, ch, day in contacts],
            }
            for c, (tier, rm, onboarded, contacts) in HISTORY.items()
        ],
        database_=settings.neo4j_database,
        routing_control=RoutingControl.WRITE,
    )
    relaxed = settings.model_copy(
        update={"rate_limit_per_second": 1000.0, "rate_limit_burst": 5000}
    )
    with TestClient(create_app(relaxed)) as c:
        yield c


CALLERS = {
    "rm1": ("relationship_manager", {"employee_id": "E1"}),
    "rm2": ("relationship_manager", {"employee_id": "E2"}),
    "bm1": ("branch_manager", {"branch_id": "B1"}),
    "admin": ("admin", {}),
    "desk": ("channel_service", {}),
    "auditor": ("auditor", {}),
    "customer": ("customer", {"customer_id": "F01"}),
}

DUE = """query($first: Int, $after: String, $overdueOnly: Boolean, $asOf: Date) {
  followUpsDue(first: $first, after: $after, overdueOnly: $overdueOnly, asOf: $asOf) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { customer { id name } tier lastContactAt dueDate daysOverdue
                          plan { tier intervalDays } } } } }"""
COVERAGE = """query($branchId: ID, $asOf: Date) {
  followUpCoverage(branchId: $branchId, asOf: $asOf) {
    branchId asOf target tiers { tier intervalDays customers covered overdue share meetsTarget } } }"""
LOG = """mutation($input: LogInteractionInput!) {
  logInteraction(input: $input) { created interaction { id kind outcome nextStep nextStepDue } } }"""


@pytest.fixture
def ask(client, auth_header):
    def post(caller: str, query: str, **variables) -> dict:
        role, claims = CALLERS[caller]
        resp = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers=auth_header(role, **claims),
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    return post


def _all_pages(ask, caller: str, first: int = 2, **variables) -> tuple[list[dict], int]:
    nodes, after, total = [], None, None
    while True:
        body = ask(caller, DUE, first=first, after=after, **variables)
        assert "errors" not in body, body
        page = body["data"]["followUpsDue"]
        total = page["totalCount"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, total
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize(
    ("caller", "customers"),
    [("rm1", book("E1")), ("rm2", book("E2")), ("bm1", "branch B1"), ("admin", list(HISTORY))],
)
@pytest.mark.parametrize("overdue_only", [False, True])
def test_due_list_per_caller_with_exact_due_dates(ask, branch, caller, customers, overdue_only):
    if customers == "branch B1":
        customers = branch("B1")
        assert set(book("E1", "E3")) <= set(customers)
    nodes, total = _all_pages(ask, caller, asOf=AS_OF.isoformat(), overdueOnly=overdue_only)
    want = expected_list(customers, AS_OF, overdue_only)
    assert [n["customer"]["id"] for n in nodes] == [w["customer"] for w in want]
    assert total == len(want)
    for node, w in zip(nodes, want, strict=True):
        c = w["customer"]
        assert node["dueDate"] == w["due"].isoformat(), c
        assert node["daysOverdue"] == max(0, (AS_OF - w["due"]).days), c
        assert node["tier"] == node["plan"]["tier"] == HISTORY[c][0]
        assert node["plan"]["intervalDays"] == CFG.intervals[HISTORY[c][0]]
        counted = _counted_dates(c, AS_OF)
        last = node["lastContactAt"]
        assert (dt.datetime.fromisoformat(last).date() if last else None) == (
            max(counted) if counted else None
        ), c


def test_spot_checks_of_the_expectations(ask):
    """Literal values, worked out by hand from HISTORY, for the computation above."""
    assert expected_due("F01", AS_OF) == dt.date(2026, 10, 10)  # 2026-09-10 + 30
    assert expected_due("F03", AS_OF) == dt.date(2026, 8, 31)  # the survey is not a contact
    assert expected_due("F05", AS_OF) == dt.date(2026, 4, 15)  # onboarded + 90
    nodes, _ = _all_pages(ask, "rm1", asOf=AS_OF.isoformat())
    got = {n["customer"]["id"]: (n["dueDate"], n["daysOverdue"]) for n in nodes}
    assert got == {
        "F05": ("2026-04-15", 199),
        "F03": ("2026-08-31", 61),
        "F01": ("2026-10-10", 21),
        "F04": ("2026-11-03", 0),  # due in three days: listed, not overdue
    }
    # core.followups.due_date, the Python statement of the rule, agrees
    assert plans.due_date(
        interval_days=30, last_contact=dt.date(2026, 9, 10), onboarded=None, as_of=AS_OF
    ) == dt.date(2026, 10, 10)


@pytest.mark.parametrize("caller", ["desk", "auditor", "customer"])
def test_roles_without_a_book_are_refused(ask, caller):
    body = ask(caller, DUE, asOf=AS_OF.isoformat())
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_cursor_is_bound_to_its_caller_and_as_of(ask):
    body = ask("rm1", DUE, first=1, asOf=AS_OF.isoformat())
    cursor = body["data"]["followUpsDue"]["pageInfo"]["endCursor"]
    for caller, as_of in (("rm2", AS_OF), ("rm1", AS_OF - dt.timedelta(days=1))):
        other = ask(caller, DUE, first=1, after=cursor, asOf=as_of.isoformat())
        assert other["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def _log(ask, caller: str, **fields) -> dict:
    return ask(caller, LOG, input={"clientMutationId": uuid.uuid4().hex, **fields})


def test_the_visit_report_is_checked(ask):
    visit = {"customerId": "F03", "channel": "VISIT", "kind": "VISIT", "summary": "走访"}
    for fields, named in (
        ({"outcome": "满意"}, "nextStep"),
        ({"nextStep": "推荐理财"}, "outcome"),
        ({"outcome": "满意", "nextStep": "推荐理财", "nextStepDue": "2020-01-01"}, "nextStepDue"),
    ):
        body = _log(ask, "rm1", **visit, **fields)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert named in body["errors"][0]["message"]
    body = _log(ask, "rm1", customerId="F03", channel="PHONE", kind="CALL", summary="电话",
                nextStepDue="2099-01-01")  # fmt: skip
    assert "nextStep" in body["errors"][0]["message"]


def test_logging_a_visit_takes_the_customer_off_at_once(ask):
    """As of today (the visit is logged now): F01 is overdue, a visit with its report takes it
    off the RM's list and the branch manager's, and nothing else moves."""
    before, _ = _all_pages(ask, "rm1")
    today = dt.datetime.now(dt.UTC).date()
    assert [n["customer"]["id"] for n in before] == [
        w["customer"] for w in expected_list(book("E1"), today, False)
    ]
    assert "F01" in {n["customer"]["id"] for n in before}
    due = (today + dt.timedelta(days=14)).isoformat()
    body = _log(ask, "rm1", customerId="F01", channel="VISIT", kind="VISIT", summary="上门走访",
                outcome="客户满意", nextStep="下周送理财方案", nextStepDue=due)  # fmt: skip
    assert "errors" not in body, body
    interaction = body["data"]["logInteraction"]["interaction"]
    assert interaction["kind"] == "VISIT"
    assert (interaction["outcome"], interaction["nextStep"], interaction["nextStepDue"]) == (
        "客户满意", "下周送理财方案", due
    )  # fmt: skip
    for caller in ("rm1", "bm1"):
        after, total = _all_pages(ask, caller)
        ids = [n["customer"]["id"] for n in after]
        assert "F01" not in ids
        assert total == len(ids)
    after, _ = _all_pages(ask, "rm1")
    assert [n["customer"]["id"] for n in after] == [
        n["customer"]["id"] for n in before if n["customer"]["id"] != "F01"
    ]
    # a survey logged does not count: F03 stays
    body = _log(ask, "rm1", customerId="F03", channel="PHONE", kind="SURVEY", summary="满意度")
    assert "errors" not in body, body
    assert "F03" in {n["customer"]["id"] for n in _all_pages(ask, "rm1")[0]}


def _coverage_expected(customers: list[str], as_of: dt.date) -> dict[str, tuple[int, int]]:
    out = {}
    for tier in ("CORE", "KEY"):
        planned = [c for c in customers if HISTORY[c][0] == tier]
        covered = [c for c in planned if _counted_dates(c, as_of) and
                   expected_due(c, as_of) >= as_of]  # fmt: skip
        out[tier] = (len(planned), len(covered))
    return out


@pytest.mark.parametrize(
    ("caller", "branch_id", "customers"),
    [
        ("rm1", None, book("E1")),
        ("bm1", None, "branch B1"),
        ("bm1", "B1", "branch B1"),
        ("admin", None, list(HISTORY)),
        ("admin", "B2", book("E2")),
        ("auditor", "B1", "branch B1"),
    ],
)
def test_coverage_per_tier(ask, branch, caller, branch_id, customers):
    if customers == "branch B1":
        customers = branch("B1")
    body = ask(caller, COVERAGE, branchId=branch_id, asOf=AS_OF.isoformat())
    assert "errors" not in body, body
    got = body["data"]["followUpCoverage"]
    assert got["target"] == CFG.target == 0.95
    assert got["branchId"] == (branch_id or ("B1" if caller == "bm1" else None))
    want = _coverage_expected(customers, AS_OF)
    assert {t["tier"]: (t["customers"], t["covered"]) for t in got["tiers"]} == want
    for t in got["tiers"]:
        n, covered = want[t["tier"]]
        assert t["share"] == (round(covered / n, 4) if n else None)
        assert t["meetsTarget"] == ((covered / n >= 0.95) if n else None)
        overdue = [c for c in customers if HISTORY[c][0] == t["tier"]
                   and expected_due(c, AS_OF) < AS_OF]  # fmt: skip
        assert t["overdue"] == len(overdue)


def test_coverage_literal_spot_check(ask):
    body = ask("rm1", COVERAGE, asOf=AS_OF.isoformat())
    tiers = {t["tier"]: t for t in body["data"]["followUpCoverage"]["tiers"]}
    # CORE: F02 covered, F01 and F03 overdue; KEY: F04 covered, F05 never contacted
    assert (tiers["CORE"]["customers"], tiers["CORE"]["covered"]) == (3, 1)
    assert (tiers["KEY"]["customers"], tiers["KEY"]["covered"]) == (2, 1)


@pytest.mark.parametrize(("caller", "branch_id"), [("bm1", "B2"), ("rm1", "B1")])
def test_coverage_of_someone_elses_branch_is_refused(ask, caller, branch_id):
    body = ask(caller, COVERAGE, branchId=branch_id)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
