"""The service desk in the console, in a real browser (issue 21).

A channel_service agent (the hotline) opens a complaint on a customer of RM E1's book and logs the
call; RM E1 finds it in the complaint queue, acknowledges it, feeds progress back and resolves it
with a category and a cause chosen from the taxonomy the API serves; the queue then shows it
resolved and the service-level tiles show what the API computes. The RM records the follow-up
survey, which the satisfaction card and the timeline show, and closes the case. Each step is
checked on the page and then against the API (and its audit trail) over HTTP.

Same machinery as tests/test_console_browser.py: Debian's headless Chromium driven by
Playwright, the real app served by uvicorn, the deterministic bank of tests/bank_graph.py. No
mocks: without Chromium, the built console or the graph, this fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal

import pytest
from playwright.sync_api import Browser, Page

from tests.bank_graph import customers, load_bank
from tests.conftest import wipe
from tests.console_support import api as _api
from tests.console_support import marker, wait_shown
from tests.console_support import sign_in as _sign_in
from tests.live_server import served
from tests.test_console_browser import ARTIFACTS, RELAXED, _new_page, browser

__all__ = ["browser"]  # the Chromium fixture, shared with the console's other browser tests

pytestmark = pytest.mark.graph

CUSTOMER = "C1001"  # in RM E1's book (tests/bank_graph.py), with an unresolved MAJOR complaint
NAME = next(c["name"] for c in customers() if c["customer_id"] == CUSTOMER)

CASES = """query($filter: ComplaintFilter) { complaints(filter: $filter, first: 100) {
  nodes { id kind status slaStatus severity summary category causeType causeSubtype
    acknowledgedAt acknowledgedBy resolvedAt handlingHours customerId customerName
    progress { note visibleToCustomer } } } }"""
STATS = """query($period: PeriodInput) { complaintStats(period: $period) {
  opened resolved open atRisk breached firstResponseWithin24hPct averageHandlingHours
  p90HandlingHours majorWithin4hPct targetAverageHandlingHours } }"""
AUDIT = """query($id: ID) { auditEvents(customerId: $id, first: 100) {
  nodes { operation subject roles } } }"""
TIMELINE = """query($id: ID!) { customer(id: $id) {
  timeline(first: 50) { nodes { kind channel summary satisfaction nps } }
  satisfaction { last { csat nps channel } average6m averagePrevious6m trend
    byChannel { channel average count } } } }"""
OPEN = """mutation($input: OpenComplaintInput!) {
  openComplaint(input: $input) { created interaction { id } } }"""
BREACHED_FAMILY = {"AT_RISK", "BREACHED", "RESPONSE_BREACHED", "RESOLUTION_BREACHED"}


@pytest.fixture(scope="module")
def desk_url(settings, driver) -> Iterator[str]:
    from c360.app import create_app
    from scoring.config import load_config
    from scoring.job import run_scoring

    if not (settings.console_dist_dir / "index.html").is_file():
        pytest.fail("The console is not built: run `make console-build`.", pytrace=False)
    wipe(driver, settings.neo4j_database)
    load_bank(driver, settings.neo4j_database)
    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    with served(create_app(settings.model_copy(update=RELAXED))) as url:
        yield url


def _options(page: Page, selector: str) -> list[tuple[str, str]]:
    """The (value, label) of a select's options, leaving out the empty choice."""
    pairs = page.locator(selector).evaluate(
        "el => [...el.options].map(o => [o.value, o.textContent])"
    )
    return [(v, text) for v, text in pairs if v]


def _fixed1(value: float) -> str:
    """``value.toFixed(1)`` as the browser writes it (half away from zero on the exact binary
    value; Python's format rounds half to even)."""
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _toast(page: Page, text: str) -> None:
    page.locator("#toast.show", has_text=text).wait_for()


def test_an_agent_opens_a_complaint_and_the_rm_acknowledges_resolves_and_closes_it(
    browser: Browser, desk_url: str, auth_header: Callable[..., dict[str, str]]
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    summary = f"卡片被冻结 {marker()}"
    contact = f"热线来电 {marker()}"
    progress_note = f"已联系发卡中心 {marker(6)}"

    # ---- the hotline agent: opens a complaint with a category, logs the call
    agent_ctx, agent, agent_problems = _new_page(browser, desk_url)
    _sign_in(agent, "channel_service")
    agent.locator("#nav-complaints").wait_for()  # the queue is in the navigation
    agent.goto(f"/console/#/customer/{CUSTOMER}")
    agent.wait_for_selector("#complaint-form")
    assert agent.locator("#f-phone").inner_text().count("*") >= 4  # the agent's view: masked
    shown_name = agent.locator("#customer-name").inner_text()
    assert agent.locator("#log-form").count() == 1  # the hotline may log contacts now
    agent.wait_for_selector("#complaint-category option:nth-child(2)", state="attached")
    kinds = [v for v, _ in _options(agent, "#complaint-kind")]
    assert kinds == ["COMPLAINT", "SUGGESTION", "QUESTION"]
    categories = _options(agent, "#complaint-category")
    category, category_label = categories[0]
    agent.select_option("#complaint-kind", "COMPLAINT")
    agent.select_option("#complaint-channel", "PHONE")
    agent.select_option("#complaint-severity", "MAJOR")
    agent.select_option("#complaint-category", category)
    agent.fill("#complaint-summary", summary)
    agent.click("#complaint-submit")
    _toast(agent, "投诉已登记")
    agent.select_option("#log-channel", "PHONE")
    agent.fill("#log-summary", contact)
    agent.click("#log-submit")
    _toast(agent, "跟进已记录")
    # scores are not the hotline's to read
    agent.locator("#satisfaction-body", has_text="您的角色不可见").wait_for()

    # the agent's queue: the new complaint, open, masked customer, acknowledge but not resolve
    agent.click("#nav-complaints")
    row = agent.locator("#queue tr.q-row", has_text=summary)
    wait_shown(agent, row, agent_problems)
    assert row.get_attribute("data-status") == "OPEN"
    assert row.locator(".q-status").inner_text() == "待响应"
    assert row.get_attribute("data-sla") == "ON_TRACK"
    # the customer as the agent's view shows them on the customer page
    assert row.locator("a.cust-link").inner_text() == f"{shown_name} · {CUSTOMER}"
    row.locator(".cp-toggle").click()
    complaint_id = row.get_attribute("data-id")
    agent_panel = agent.locator(f"tr.q-detail[data-id='{complaint_id}'] .cpanel")
    agent_panel.wait_for()
    assert agent_panel.locator(".act-acknowledge").count() == 1
    assert agent_panel.locator(".act-resolve, .act-close, .act-reopen").count() == 0
    agent.screenshot(path=str(ARTIFACTS / "sd-01-agent-queue.png"), full_page=True)
    agent_ctx.close()
    assert not agent_problems, agent_problems

    # ---- RM E1: the queue, breaching cases first
    rm_ctx, rm, rm_problems = _new_page(browser, desk_url)
    _sign_in(rm, "relationship_manager", "E1")
    rm.click("#nav-complaints")
    row = rm.locator(f"#queue tr.q-row[data-id='{complaint_id}']")
    wait_shown(rm, row, rm_problems)
    assert NAME in row.locator("a.cust-link").inner_text()  # the RM's own book: in full
    slas = rm.locator("#queue tr.q-row").evaluate_all("rs => rs.map(r => r.dataset.sla)")
    ranks = [0 if s in BREACHED_FAMILY else 1 for s in slas]
    assert 0 in ranks, slas  # the bank's month-old MAJOR complaint of C1001 has breached
    assert ranks == sorted(ranks), slas  # at risk and breached first

    # acknowledge (the first response), then feed progress back
    row.locator(".cp-toggle").click()
    panel = rm.locator(f"tr.q-detail[data-id='{complaint_id}'] .cpanel")
    panel.locator(".cp-note").fill("已致电客户确认情况")
    panel.locator(".act-acknowledge").click()
    rm.wait_for_selector(f"#queue tr.q-row[data-id='{complaint_id}'][data-status='ACKNOWLEDGED']")
    assert panel.locator(".act-acknowledge").count() == 0  # the panel follows the new state
    panel.locator(".cp-note").fill(progress_note)
    panel.locator(".act-progress").click()
    rm.wait_for_selector(f"#queue tr.q-row[data-id='{complaint_id}'][data-status='IN_PROGRESS']")
    panel.locator(".cp-progress li", has_text=progress_note).wait_for()

    # resolve: the category chosen at opening is proposed, the cause is chosen from the taxonomy
    panel.locator(".act-resolve").click()
    form = panel.locator(".resolve-form")
    form.locator(".rf-category[data-loaded='1']").wait_for(state="attached")
    assert form.locator(".rf-category").input_value() == category
    causes = _options(rm, f"tr.q-detail[data-id='{complaint_id}'] .rf-cause")
    assert causes, "the category has no cause in the taxonomy"
    cause, cause_label = causes[-1]
    form.locator(".rf-cause").select_option(cause)
    subtype = None
    if form.locator(".rf-subtype").is_visible():
        subtype = _options(rm, f"tr.q-detail[data-id='{complaint_id}'] .rf-subtype")[0][0]
        form.locator(".rf-subtype").select_option(subtype)
    form.locator(".rf-resolution").fill("卡片已解冻，手续费已退还")
    rm.screenshot(path=str(ARTIFACTS / "sd-02-rm-resolving.png"), full_page=True)
    form.locator(".rf-submit").click()
    _toast(rm, "投诉已解决")
    # no longer open: gone from the default queue, listed among the resolved
    row.wait_for(state="detached")
    rm.select_option("#f-status", "RESOLVED")
    wait_shown(rm, row, rm_problems)
    other = next(code for code, _ in categories if code != category)
    rm.select_option("#f-category", other)  # the category filter: another category hides it
    row.wait_for(state="detached")
    rm.select_option("#f-category", category)
    wait_shown(rm, row, rm_problems)
    assert row.get_attribute("data-status") == "RESOLVED"
    assert row.locator(".q-status").inner_text() == "已解决"
    assert row.get_attribute("data-sla") == "MET"  # a MAJOR complaint resolved within 4 h
    shown = row.locator(".case-category").inner_text()
    assert category_label in shown and cause_label in shown, shown

    # the service-level tiles are the API's figures for the same period
    rm.reload()
    rm.wait_for_selector("#complaint-stats[data-loaded='1']")
    period = {
        "from": rm.get_attribute("#complaint-stats", "data-from"),
        "to": rm.get_attribute("#complaint-stats", "data-to"),
    }
    rm_header = auth_header("relationship_manager", employee_id="E1")
    stats = _api(desk_url, rm_header, STATS, period=period)["complaintStats"]
    tile = lambda name: rm.locator(f"#stat-{name} .tile-value").inner_text()  # noqa: E731
    for name, field in [("opened", "opened"), ("resolved", "resolved"), ("open", "open")]:
        assert tile(name) == str(stats[field]), (name, stats)
    assert stats["resolved"] >= 1
    assert tile("avg") == f"{_fixed1(stats['averageHandlingHours'])} 小时"
    assert tile("p90") == f"{_fixed1(stats['p90HandlingHours'])} 小时"
    target = f"目标 {stats['targetAverageHandlingHours']:g} 小时"
    assert target in rm.locator("#stat-avg").inner_text()
    assert tile("first-response") == f"{_fixed1(stats['firstResponseWithin24hPct'])} %"
    assert tile("major") == f"{_fixed1(stats['majorWithin4hPct'])} %"
    rm.screenshot(path=str(ARTIFACTS / "sd-03-rm-queue-resolved.png"), full_page=True)

    # ---- the follow-up survey, related to the complaint; the scores show; the case is closed
    rm.goto(f"/console/#/customer/{CUSTOMER}")
    rm.wait_for_selector("#survey-form")
    rm.locator(f"#survey-related option[value='{complaint_id}']").wait_for(state="attached")
    rm.select_option("#survey-channel", "PHONE")
    rm.select_option("#survey-csat", "2")
    rm.select_option("#survey-nps", "3")
    rm.fill("#survey-comment", "解冻太慢")
    rm.select_option("#survey-related", complaint_id)
    rm.click("#survey-submit")
    _toast(rm, "调研已记录")
    rm.locator("#sat-last", has_text="CSAT 2").wait_for()
    rm.locator("#timeline .tl-item .csat", has_text="CSAT 2").wait_for()
    answer = _api(desk_url, rm_header, TIMELINE, id=CUSTOMER)["customer"]
    sat = answer["satisfaction"]
    assert sat["last"]["csat"] == 2 and sat["last"]["nps"] == 3
    assert rm.locator("#sat-avg6m").inner_text() == _fixed1(sat["average6m"])
    trend = rm.locator("#sat-trend").evaluate_all("els => els.map(e => e.dataset.trend)")
    assert trend == ([sat["trend"]] if sat["trend"] else []), (trend, sat)
    shown_channels = rm.locator("#sat-by-channel tbody tr").evaluate_all(
        "rs => rs.map(r => r.dataset.channel)"
    )
    assert shown_channels == [b["channel"] for b in sat["byChannel"]]
    # the timeline: the complaint resolved, and the agent's logged call
    item = rm.locator(f"#timeline .tl-item[data-id='{complaint_id}']")
    assert item.get_attribute("data-status") == "RESOLVED"
    rm.locator("#timeline .tl-item", has_text=contact).wait_for()
    item.locator(".cp-toggle").click()
    timeline_panel = rm.locator(f"#timeline .tl-panel[data-id='{complaint_id}']")
    timeline_panel.locator(".cp-progress li", has_text=progress_note).wait_for()
    timeline_panel.locator(".act-close").click()
    rm.wait_for_selector(f"#timeline .tl-item[data-id='{complaint_id}'][data-status='CLOSED']")
    rm.click("#lang-toggle")
    rm.wait_for_selector(f"#timeline .tl-item[data-id='{complaint_id}'] .cstatus:text('Closed')")
    rm.screenshot(path=str(ARTIFACTS / "sd-04-rm-customer-en.png"), full_page=True)
    rm.click("#nav-complaints")
    rm.wait_for_selector("#queue-title:text('Complaints, suggestions and questions')")
    rm_ctx.close()
    assert not rm_problems, rm_problems

    # ---- the API's record: the case, its steps and who took them
    admin = auth_header("admin")
    closed = _api(desk_url, admin, CASES, filter={"status": ["CLOSED"]})["complaints"]["nodes"]
    [case] = [c for c in closed if c["id"] == complaint_id]
    assert case["summary"] == summary and case["customerId"] == CUSTOMER
    assert (case["kind"], case["severity"]) == ("COMPLAINT", "MAJOR")
    assert (case["category"], case["causeType"], case["causeSubtype"]) == (
        category,
        cause,
        subtype,
    )
    assert case["acknowledgedAt"] and case["resolvedAt"] and case["handlingHours"] is not None
    assert case["acknowledgedAt"] <= case["resolvedAt"]
    assert case["slaStatus"] == "MET"
    assert progress_note in [p["note"] for p in case["progress"]]
    timeline = _api(desk_url, admin, TIMELINE, id=CUSTOMER)["customer"]["timeline"]["nodes"]
    assert any(i["summary"] == contact and i["channel"] == "PHONE" for i in timeline)
    events = _api(desk_url, admin, AUDIT, id=CUSTOMER)["auditEvents"]["nodes"]
    by_operation: dict[str, set[str]] = {}  # operation -> the roles that took it
    for event in events:
        by_operation.setdefault(event["operation"], set()).update(event["roles"])
    assert "channel_service" in by_operation["openComplaint"]
    assert "channel_service" in by_operation["logInteraction"]
    for step in (
        "acknowledgeComplaint",
        "addComplaintProgress",
        "resolveComplaint",
        "recordSurvey",
        "closeComplaint",
    ):
        assert by_operation[step] == {"relationship_manager"}, (step, by_operation)


@pytest.mark.parametrize(
    ("role", "claim", "shown"),
    [
        ("relationship_manager", "E1", True),
        ("branch_manager", "B1", True),
        ("channel_service", None, True),
        ("admin", None, True),
        ("customer", CUSTOMER, False),
        ("data_engineer", None, False),
        ("auditor", None, False),
    ],
)
def test_the_queue_is_in_the_navigation_of_the_roles_that_work_it(
    browser: Browser, desk_url: str, role: str, claim: str | None, shown: bool
) -> None:
    context, page, problems = _new_page(browser, desk_url)
    _sign_in(page, role, claim)
    wait_shown(page, page.locator("#nav-home[aria-current='page']"), problems)
    assert page.locator("#nav-complaints").is_visible() is shown, (page.url, problems)
    if shown:
        page.click("#nav-complaints")
        wait_shown(page, page.locator("#queue[data-loaded]"), problems)
        assert page.get_attribute("#nav-complaints", "aria-current") == "page", problems
        assert page.locator("#queue .error").count() == 0, page.locator("#queue").inner_text()
    context.close()
    assert not problems, problems


def test_the_queue_pages_with_the_connection_cursors_and_filters_by_kind(
    browser: Browser, desk_url: str, auth_header: Callable[..., dict[str, str]]
) -> None:
    """RM E2's book (C1040-C1079) had no case: 21 are opened through the API (a page and one),
    some suggestions and questions; the queue pages through them with the cursors."""
    e2 = auth_header("relationship_manager", employee_id="E2")
    kinds = ["SUGGESTION" if k % 4 == 1 else "QUESTION" if k % 4 == 2 else "COMPLAINT"
             for k in range(21)]  # fmt: skip
    opened = set()
    for k, kind in enumerate(kinds):
        created = _api(desk_url, e2, OPEN, input={
            "clientMutationId": f"pager-{uuid.uuid4().hex}", "customerId": f"C{1040 + k}",
            "channel": "APP", "kind": kind, "summary": f"第 {k} 件",
        })  # fmt: skip
        opened.add(created["openComplaint"]["interaction"]["id"])
    context, page, problems = _new_page(browser, desk_url)
    _sign_in(page, "relationship_manager", "E2")
    page.click("#nav-complaints")
    page.locator("#queue-total", has_text="共 21 件").wait_for()

    def ids() -> list[str]:
        return page.locator("#queue tr.q-row").evaluate_all("rs => rs.map(r => r.dataset.id)")

    first = ids()
    assert len(first) == 20 and page.locator("#queue-prev").is_disabled()
    page.click("#queue-next")
    page.locator("#queue-total", has_text="第 2").wait_for()
    second = ids()
    assert len(second) == 1 and page.locator("#queue-next").is_disabled()
    assert set(first) | set(second) == opened  # every case once, none twice
    page.click("#queue-prev")
    page.locator("#queue-total", has_text="第 1").wait_for()
    assert ids() == first
    page.select_option("#f-kind", "SUGGESTION")
    page.locator("#queue-total", has_text=f"共 {kinds.count('SUGGESTION')} 件").wait_for()
    shown = page.locator("#queue tr.q-row .q-kind").all_inner_texts()
    assert shown == ["建议"] * kinds.count("SUGGESTION")
    context.close()
    assert not problems, problems
