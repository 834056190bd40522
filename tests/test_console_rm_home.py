"""The relationship manager's and the branch manager's home in the console, in a real browser
(issue 22).

RM E1 signs in: the home shows their follow-ups due, their alerts and the three at-risk lists
(downgrade, churn, win-back), each page exactly what the API answers for E1; dismissing an alert
removes it from the page and from the API's list (and the dismissal is audited). Switched to
English, the reasons are the API's English texts (the console sends Accept-Language with every
call). The branch manager of B1 assigns one of the branch's relationship managers to an
unassigned CORE customer of the branch: the customer leaves the list, the API shows the new RM
and the coverage table counts one CORE customer without an RM less.

Same machinery as tests/test_console_browser.py: Debian's headless Chromium driven by
Playwright, the real app served by uvicorn, the deterministic bank of tests/bank_graph.py scored
by the real job. No mocks: without Chromium, the built console or the graph, this fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from neo4j import Driver
from playwright.sync_api import Browser, Page

from graph.queries import upserts as uq
from graph.queries.scoring import WRITE_SCORES
from tests.bank_graph import load_bank
from tests.conftest import wipe
from tests.console_support import api as _api
from tests.console_support import sign_in as _sign_in
from tests.live_server import served
from tests.test_console_browser import ARTIFACTS, RELAXED, _new_page, browser

__all__ = ["browser"]  # the Chromium fixture, shared with the console's other browser tests

pytestmark = pytest.mark.graph

PAGE = 10  # the console's page of follow-ups and alerts
LIST_PAGE = 20  # the console's page of the at-risk, win-back and unassigned lists

FOLLOW_UPS = """query($first: Int, $after: String) { followUpsDue(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { customer { id } } } } }"""
ALERTS = """query($first: Int) { alerts(first: $first) {
  totalCount edges { node { id kind customer { id } reason { code text } } } } }"""
AT_RISK = """query($kind: AtRiskKind) { atRiskCustomers(kind: $kind, first: 20) {
  totalCount edges { node { id
    risk { downgrade { details { code text } } churn { details { code text } } } } } } }"""
WIN_BACK = """query { winBackCustomers(first: 20) { totalCount edges { node { id } } } }"""
UNASSIGNED = """query($first: Int) { unassignedCustomers(first: $first) {
  totalCount edges { node { id value { tier } } } } }"""
COVERAGE = """query($branchId: ID!) { branchCoverage(branchId: $branchId) {
  tiers { tier customers withRelationshipManager withoutRelationshipManager } } }"""
CUSTOMER_RM = """query($id: ID!) { customer(id: $id) { id relationshipManager { id } } }"""
AUDIT = """query($id: ID) { auditEvents(customerId: $id, first: 100) {
  nodes { operation subject roles } } }"""


TODAY = dt.datetime.now(dt.UTC).date()  # the console's lists are as of today
DAY = dt.timedelta(days=1)
MATURING = "C1003"  # E1's: a time deposit maturing in 20 days
DOWNGRADED = "C1006"  # E1's (KEY): downgraded from CORE at a review 10 days ago


def _todays_bank(driver: Driver, database: str) -> None:
    """What tests/bank_graph.py lacks for a day as of today, written with the loader's upserts
    and the scoring job's writer: the home branches of the bank's 40 unmanaged customers (their
    accounts opened at B1 for even numbers, at B2 for odd ones), a time deposit of E1's customer
    maturing in 20 days, and a downgrade of another one at a review 10 days ago."""
    unmanaged = range(80, 120)
    opened_at = [
        {
            "account_id": f"A{1000 + i}",
            "props": {"product_code": "SAV", "branch_id": f"B{1 + i % 2}"},
        }
        for i in unmanaged
    ]
    deposit = {
        "account_id": f"T{MATURING}",
        "props": {
            "product_code": "TD1Y", "product_type": "TIME_DEPOSIT", "currency": "CNY",
            "balance": 200_000.0, "status": "OPEN", "opened_at": TODAY - 345 * DAY,
            "maturity_date": TODAY + 20 * DAY, "branch_id": "B1",
        },
    }  # fmt: skip
    product = {"product_code": "TD1Y", "name": "一年定期", "category": "DEPOSIT"}
    holding = {"customer_id": MATURING, "account_id": f"T{MATURING}", "role": "PRIMARY"}
    for query, rows in (
        (uq.UPSERT_ACCOUNTS, opened_at),
        (uq.UPSERT_HOME_BRANCHES, [{"customer_id": f"C{1000 + i}"} for i in unmanaged]),
        (uq.UPSERT_PRODUCTS, [product]),
        (uq.UPSERT_ACCOUNTS, [deposit]),
        (uq.UPSERT_HOLDINGS, [holding]),
    ):
        uq.write_batch(driver, query, rows, database=database)


def _downgrade_at_a_review(driver: Driver, database: str) -> None:
    changed = TODAY - 10 * DAY
    change = {
        "change_id": f"{DOWNGRADED}:{changed.isoformat()}:CORE->KEY", "customer_id": DOWNGRADED,
        "from_tier": "CORE", "to_tier": "KEY", "direction": "DOWN", "changed_at": changed,
        "aum": 450_000.0, "basis": "previous score",
    }  # fmt: skip
    row = {"customer_id": DOWNGRADED, "props": {"previous_tier": "CORE"}, "change": change}
    uq.write_batch(driver, WRITE_SCORES, [row], database=database)


@pytest.fixture(scope="module")
def home_url(settings, driver) -> Iterator[str]:
    from c360.app import create_app
    from scoring.config import load_config
    from scoring.job import run_scoring

    if not (settings.console_dist_dir / "index.html").is_file():
        pytest.fail("The console is not built: run `make console-build`.", pytrace=False)
    wipe(driver, settings.neo4j_database)
    load_bank(driver, settings.neo4j_database)
    _todays_bank(driver, settings.neo4j_database)
    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    _downgrade_at_a_review(driver, settings.neo4j_database)
    with served(create_app(settings.model_copy(update=RELAXED))) as url:
        yield url


def _ids(page: Page, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all("els => els.map(e => e.dataset.id)")


def _loaded(page: Page, box: str) -> None:
    page.wait_for_selector(f"{box}[data-loaded]:not([aria-busy])", state="attached")


def _edges(conn: dict) -> list[dict]:
    return [e["node"] for e in conn["edges"]]


def _next_risk_page(page: Page, act: Callable[[], None]) -> None:
    """Do ``act`` (a tab opened) and wait for the at-risk list it loads."""
    before = page.locator("#at-risk").get_attribute("data-loaded")
    act()
    page.wait_for_function(
        "b => { const x = document.querySelector('#at-risk');"
        " return x.dataset.loaded !== b && !x.hasAttribute('aria-busy'); }",
        arg=before,
    )


def _tab(page: Page, kind: str) -> None:
    """Open an at-risk tab and wait for its first page."""
    _next_risk_page(page, lambda: page.click(f"#risk-tab-{kind}"))


def test_the_rm_home_shows_the_day_and_a_dismissed_alert_leaves(
    browser: Browser, home_url: str, auth_header: Callable[..., dict[str, str]]
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # the user the console's development sign-in makes (c360/http/console.py): dismissals are
    # per user
    rm = auth_header(
        "relationship_manager", subject="dev-relationship_manager-E1", employee_id="E1"
    )
    ctx, page, problems = _new_page(browser, home_url)
    _sign_in(page, "relationship_manager", "E1")

    # follow-ups due: the API's first page for E1, in its order
    _loaded(page, "#followups")
    due = _api(home_url, rm, FOLLOW_UPS, first=PAGE)["followUpsDue"]
    assert due["totalCount"] > 0, "E1's book has follow-ups due on the bank"
    assert _ids(page, "#followups tr.fu-row") == [n["customer"]["id"] for n in _edges(due)]
    # its pager: the next page is the API's page after the first one's end cursor, and back
    assert due["pageInfo"]["hasNextPage"], "E1 has more than one page of follow-ups due"
    after = due["pageInfo"]["endCursor"]
    second = _edges(_api(home_url, rm, FOLLOW_UPS, first=PAGE, after=after)["followUpsDue"])
    page.click("#fu-next")
    page.wait_for_selector("#fu-prev:not([disabled])")
    _loaded(page, "#followups")
    assert _ids(page, "#followups tr.fu-row") == [n["customer"]["id"] for n in second]
    page.click("#fu-prev")
    page.wait_for_selector("#fu-prev[disabled]")
    _loaded(page, "#followups")
    assert _ids(page, "#followups tr.fu-row") == [n["customer"]["id"] for n in _edges(due)]

    # alerts: the API's first page, each with its reason's text
    _loaded(page, "#alerts")
    alerts = _edges(_api(home_url, rm, ALERTS, first=PAGE)["alerts"])
    every = _edges(_api(home_url, rm, ALERTS, first=100)["alerts"])
    kinds = {(a["kind"], a["customer"]["id"]) for a in every}
    assert {("TIME_DEPOSIT_MATURING", MATURING), ("TIER_CHANGED", DOWNGRADED)} <= kinds, kinds
    assert _ids(page, "#alerts li.alert-item") == [a["id"] for a in alerts]
    first = alerts[0]
    shown = page.locator(f"#alerts li.alert-item[data-id='{first['id']}'] .alert-reason")
    assert shown.inner_text() == first["reason"]["text"]

    # the at-risk lists: downgrade (the default), churn, win-back, each the API's first page
    _loaded(page, "#at-risk")
    for kind, tab in (("DOWNGRADE", None), ("CHURN", "churn")):
        if tab:
            _tab(page, tab)
        listed = _edges(_api(home_url, rm, AT_RISK, kind=kind)["atRiskCustomers"])
        assert listed, f"E1 has customers at {kind} risk on the bank"
        assert _ids(page, "#at-risk li.risk-item") == [n["id"] for n in listed], kind
        key = "churn" if kind == "CHURN" else "downgrade"
        texts = [d["text"] for d in listed[0]["risk"][key]["details"]]
        item = page.locator(f"#at-risk li.risk-item[data-id='{listed[0]['id']}'] .reasons li")
        assert item.all_inner_texts() == texts, kind
    # the last tab with the keyboard (the tab pattern: an arrow key moves and opens)
    page.focus("#risk-tab-churn")
    _next_risk_page(page, lambda: page.keyboard.press("ArrowRight"))
    assert page.get_attribute("#risk-tab-win_back", "aria-selected") == "true"
    win_back = _edges(_api(home_url, rm, WIN_BACK)["winBackCustomers"])
    assert DOWNGRADED in {n["id"] for n in win_back}
    assert _ids(page, "#at-risk li.risk-item") == [n["id"] for n in win_back]
    page.screenshot(path=str(ARTIFACTS / "rm-home-01.png"), full_page=True)

    # dismiss the first alert: gone from the page and from the API's list, audited
    page.locator(f"#alerts li.alert-item[data-id='{first['id']}'] .alert-dismiss").click()
    page.wait_for_selector(f"#alerts li.alert-item[data-id='{first['id']}']", state="detached")
    after = _edges(_api(home_url, rm, ALERTS, first=100)["alerts"])
    assert first["id"] not in {a["id"] for a in after}
    events = _api(home_url, auth_header("admin"), AUDIT, id=first["customer"]["id"])
    assert any(e["operation"] == "dismissAlert" for e in events["auditEvents"]["nodes"]), events

    # a visit with its report, logged from the customer page, takes the customer off the list
    visited = _edges(due)[0]["customer"]["id"]
    page.locator(f"#followups tr.fu-row[data-id='{visited}'] a.cust-link").click()
    page.wait_for_selector("#log-form")
    page.select_option("#log-kind", "VISIT")
    assert page.locator("#log-channel").input_value() == "VISIT"
    page.fill("#log-summary", "季度拜访")
    page.fill("#log-outcome", "客户有意续存定期")
    page.fill("#log-next-step", "下周发送存款方案")
    page.click("#log-submit")
    page.locator("#timeline .tl-item .tl-next", has_text="下周发送存款方案").wait_for()
    page.click("#nav-home")
    _loaded(page, "#followups")
    assert visited not in _ids(page, "#followups tr.fu-row")
    now_due = _edges(_api(home_url, rm, FOLLOW_UPS, first=100)["followUpsDue"])
    assert visited not in {n["customer"]["id"] for n in now_due}

    # English: the labels and the API's English reasons
    _tab(page, "downgrade")
    page.click("#lang-toggle")
    page.wait_for_selector("#h-alerts:text('Alerts')")
    _loaded(page, "#at-risk")
    _loaded(page, "#alerts")
    listed = _edges(_api(home_url, rm, AT_RISK, lang="en", kind="DOWNGRADE")["atRiskCustomers"])
    zh = _edges(_api(home_url, rm, AT_RISK, kind="DOWNGRADE")["atRiskCustomers"])
    english = [d["text"] for d in listed[0]["risk"]["downgrade"]["details"]]
    chinese = [d["text"] for d in zh[0]["risk"]["downgrade"]["details"]]
    assert english != chinese  # one code, two languages
    item = page.locator(f"#at-risk li.risk-item[data-id='{listed[0]['id']}'] .reasons li")
    assert item.all_inner_texts() == english
    alerts_en = _edges(_api(home_url, rm, ALERTS, lang="en", first=PAGE)["alerts"])
    texts = page.locator("#alerts li.alert-item .alert-reason").all_inner_texts()
    assert texts == [a["reason"]["text"] for a in alerts_en]
    page.screenshot(path=str(ARTIFACTS / "rm-home-02-en.png"), full_page=True)
    ctx.close()
    assert not problems, problems


def test_the_branch_manager_assigns_an_rm_to_an_unassigned_core_customer(
    browser: Browser, home_url: str, auth_header: Callable[..., dict[str, str]]
) -> None:
    bm = auth_header("branch_manager", branch_id="B1")
    ctx, page, problems = _new_page(browser, home_url)
    _sign_in(page, "branch_manager", "B1")
    _loaded(page, "#coverage")
    _loaded(page, "#unassigned")
    listed = _edges(_api(home_url, bm, UNASSIGNED, first=LIST_PAGE)["unassignedCustomers"])
    assert _ids(page, "#unassigned tr.ua-row") == [n["id"] for n in listed]
    core = [n["id"] for n in listed if n["value"]["tier"] == "CORE"]
    assert core, "the branch has unassigned CORE customers on the bank"
    tiers = [n["value"]["tier"] for n in listed]
    assert tiers == sorted(tiers, key=["CORE", "KEY", "ORDINARY"].index)  # CORE first
    customer = core[0]
    without = page.locator("#coverage tr.cov-row[data-tier='CORE']").get_attribute("data-without")

    # the picker offers the branch's RMs only (E1 and E3 work at B1, E2 at B2)
    row = page.locator(f"#unassigned tr.ua-row[data-id='{customer}']")
    offered = row.locator("select.ua-rm").evaluate(
        "s => [...s.options].map(o => o.value).filter(Boolean)"
    )
    assert sorted(offered) == ["E1", "E3"], offered
    row.locator("select.ua-rm").select_option("E3")
    page.screenshot(path=str(ARTIFACTS / "bm-home-01.png"), full_page=True)
    row.locator(".ua-assign").click()
    page.wait_for_selector(f"#unassigned tr.ua-row[data-id='{customer}']", state="detached")
    page.wait_for_selector(
        f"#coverage tr.cov-row[data-tier='CORE'][data-without='{int(without) - 1}']"
    )
    assert _api(home_url, bm, CUSTOMER_RM, id=customer)["customer"]["relationshipManager"] == {
        "id": "E3"
    }
    still = _edges(_api(home_url, bm, UNASSIGNED, first=100)["unassignedCustomers"])
    assert customer not in {n["id"] for n in still}
    page.screenshot(path=str(ARTIFACTS / "bm-home-02-assigned.png"), full_page=True)
    ctx.close()
    assert not problems, problems


def test_a_second_user_on_the_same_tab_gets_their_own_first_page(
    browser: Browser, home_url: str, auth_header: Callable[..., dict[str, str]]
) -> None:
    """Cursors are sealed to the caller (resolvers/pagination.py): after a sign-out, the next
    user on the same tab starts every list on page 1, not on the first user's cursor."""
    ctx, page, problems = _new_page(browser, home_url)
    _sign_in(page, "relationship_manager", "E1")
    _loaded(page, "#followups")
    page.click("#fu-next")  # E1's second page: the pager now holds E1's cursor
    page.wait_for_selector("#fu-prev:not([disabled])")
    page.click("#sign-out")
    page.wait_for_selector("#signin-form")
    page.select_option("#role", "relationship_manager")
    page.fill("#claim-id", "E3")
    page.click("#signin-submit")
    page.wait_for_selector("#search-input")
    page.wait_for_selector("#followups .error, #followups[data-loaded]:not([aria-busy])")
    error = page.locator("#followups .error")
    shown = error.inner_text() if error.count() else ""
    total = page.locator("#followups .list-total").inner_text() if not shown else ""
    ctx.close()
    assert not shown, f"E3's follow-ups after E1 signed out on the same tab: {shown}"
    assert total.endswith("第 1"), total
    assert not problems, problems


def test_a_double_click_on_next_moves_one_page(
    browser: Browser, home_url: str, auth_header: Callable[..., dict[str, str]]
) -> None:
    """A second click while the next page loads is ignored: one double click, page 2."""
    ctx, page, problems = _new_page(browser, home_url)
    _sign_in(page, "relationship_manager", "E1")
    _loaded(page, "#followups")
    page.dblclick("#fu-next")
    page.wait_for_selector("#fu-prev:not([disabled])")
    _loaded(page, "#followups")
    total = page.locator("#followups .list-total").inner_text()
    ctx.close()
    assert total.endswith("第 2"), f"one double click on next: {total}"
    assert not problems, problems
