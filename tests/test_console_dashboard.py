"""The management dashboard of the console in a real browser (issue 23).

On a generated bank (synthetic/, its default shape) loaded by the real loader and scored by the
real job, an admin and a branch manager open the dashboard. The tiles are exactly what the API's
`kpis` answers for that caller (codes in order, values as shown, red exactly where `met` is
false), the ranking table exactly `kpiRanking`, the charts are drawn (the screenshot of the trend
chart has many colours and many non-background pixels), the CSV export of the ranking table
parses back to the table's cells (UTF-8 with a byte order mark) and the English switch relabels
the page. Every expectation comes from the API's answer in the test, never written here: the
quarter is the newest one the dashboard offers in which the bank had complaints.

Same machinery as tests/test_console_browser.py: Debian's headless Chromium driven by
Playwright, the real app served by uvicorn. No mocks: without Chromium, the built console or
the graph, this fails. Screenshots go to ARTIFACTS (.c360/artifacts/console/).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from scoring.config import load_config
from scoring.job import run_scoring
from synthetic import GenerateOptions, generate_bank
from tests.console_support import api as _api
from tests.console_support import pixels, sign_in
from tests.etl_support import load, reset
from tests.live_server import served
from tests.test_console_browser import ARTIFACTS, RELAXED, _new_page, browser

__all__ = ["browser"]  # the Chromium fixture, shared with the console's other browser tests

pytestmark = pytest.mark.graph

# How many decimals the dashboard shows per unit (console/src/dashboard.js, DECIMALS): a shown
# value must be the API's value to that many decimals.
DECIMALS = {"pct": 1, "hours": 1, "ratio": 2, "count": 0, "cny": 0}

KPIS = """query($scope: KpiScopeInput, $period: KpiPeriodInput) { kpis(scope: $scope, period:
  $period) { scope scopeId kpis { code value target met previous unit higherIsBetter } } }"""
RANKING = """query($code: String!, $by: KpiRankBy!, $period: KpiPeriodInput) {
  kpiRanking(code: $code, by: $by, period: $period) { entries { rank id value met } } }"""
QUALITY = "{ dataQuality { target fields { name completeness met } } }"


@pytest.fixture(scope="module")
def dash_url(tmp_path_factory, settings, driver) -> Iterator[str]:
    from c360.app import create_app

    if not (settings.console_dist_dir / "index.html").is_file():
        pytest.fail("The console is not built: run `make console-build`.", pytrace=False)
    out: Path = tmp_path_factory.mktemp("dashboard") / "bank"
    generate_bank(GenerateOptions(customers=600, seed=23, out=out))
    reset(driver, settings)
    load(driver, settings, out)
    run_scoring(driver, database=settings.neo4j_database, cfg=load_config())
    with served(create_app(settings.model_copy(update=RELAXED))) as url:
        yield url


def _ready(page: Page, act: Callable[[], object] | None = None) -> None:
    """Do ``act`` (if any), then wait until the dashboard shows a load newer than before it: the
    tiles, the trend and the ranking of one request."""
    before = page.evaluate("() => document.querySelector('#kpi-section')?.dataset.ready || ''")
    if act is not None:
        act()
    page.wait_for_function(
        "b => { const s = document.querySelector('#kpi-section');"
        " return s && s.dataset.ready && s.dataset.ready !== b"
        " && !document.querySelector('#kpi-tiles[aria-busy]'); }",
        arg=before,
    )


def _open_dashboard(page: Page) -> None:
    _ready(page, lambda: page.click("#nav-dashboard"))


def _choose_period(page: Page, period: str) -> None:
    if page.input_value("#dash-period") != period:
        _ready(page, lambda: page.select_option("#dash-period", period))


def _shown(text: str, value: float | None, unit: str) -> None:
    """``text`` is ``value`` as the dashboard shows it: the unit's decimals, or a dash."""
    if value is None:
        assert text == "—"
        return
    d = DECIMALS[unit.lower()]
    number = text.replace(",", "")
    assert len(number.partition(".")[2]) == d, (text, unit)
    assert abs(float(number) - value) <= 0.5 * 10**-d + 1e-9, (text, value)


def _assert_tiles(page: Page, kpis: list[dict]) -> None:
    tiles = page.locator("#kpi-tiles .kpi-tile")
    assert tiles.evaluate_all("ts => ts.map(t => t.dataset.code)") == [k["code"] for k in kpis]
    for i, k in enumerate(kpis):
        tile = tiles.nth(i)
        _shown(tile.locator(".tile-value").inner_text(), k["value"], k["unit"])
        assert ("missed" in (tile.get_attribute("class") or "").split()) is (k["met"] is False)
        if k["met"] is False:  # drawn red, not only classed so
            colour = tile.evaluate("t => getComputedStyle(t).borderTopColor")
            assert colour == "rgb(220, 38, 38)", (k["code"], colour)


def _table(page: Page, selector: str) -> list[list[str]]:
    return page.locator(f"{selector} tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))"
    )


def _assert_ranking(page: Page, entries: list[dict], unit: str) -> None:
    rows = page.locator("#ranking-table tbody tr")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.id)") == [e["id"] for e in entries]
    cells = _table(page, "#ranking-table tbody")
    for i, e in enumerate(entries):
        rank, shown_id, value, _ = cells[i]
        assert (rank, shown_id) == (str(e["rank"]), e["id"])
        _shown(value, e["value"], unit)
        assert ("missed" in (rows.nth(i).get_attribute("class") or "")) is (e["met"] is False)


def _sign_in(page: Page, role: str, claim: str | None = None) -> None:
    sign_in(page, role, claim, ready="#nav-dashboard:not([hidden])")


def _period_with_complaints(page: Page, url: str, admin: dict[str, str]) -> str:
    """The newest quarter the dashboard offers in which the bank had complaints."""
    offered = page.locator("#dash-period option").evaluate_all("os => os.map(o => o.value)")
    for label in offered:
        kpis = _api(url, admin, KPIS, scope={"bank": True}, period={"label": label})["kpis"]
        opened = {k["code"]: k["value"] for k in kpis["kpis"]}.get("COMPLAINTS_OPENED")
        if opened:
            return label
    pytest.fail(f"no complaints in any quarter the dashboard offers: {offered}")


def test_the_admin_sees_the_banks_targets_a_ranking_charts_and_exports_it(
    browser: Browser, dash_url: str, auth_header: Callable[..., dict[str, str]]
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    admin = auth_header("admin")
    ctx, page, problems = _new_page(browser, dash_url)
    _sign_in(page, "admin")
    _open_dashboard(page)
    period = _period_with_complaints(page, dash_url, admin)
    _choose_period(page, period)

    # the tiles: the bank's KPIs as the API gives them to an admin
    report = _api(dash_url, admin, KPIS, scope={"bank": True}, period={"label": period})["kpis"]
    assert report["scope"] == "BANK"
    _assert_tiles(page, report["kpis"])
    met = [k["met"] for k in report["kpis"]]
    assert False in met and True in met, "the quarter has targets met and missed"

    # the ranking of branches for the selected KPI, as kpiRanking answers it
    code = page.get_attribute("#kpi-tiles .kpi-tile[aria-pressed='true']", "data-code")
    unit = next(k["unit"] for k in report["kpis"] if k["code"] == code)
    ranking = _api(dash_url, admin, RANKING, code=code, by="BRANCH", period={"label": period})
    entries = ranking["kpiRanking"]["entries"]
    assert len(entries) >= 3, "the generated bank has three branches"
    _assert_ranking(page, entries, unit)

    # another tile: its ranking, this time by RM
    missed = next(k for k in report["kpis"] if k["met"] is False and k["code"] != code)
    _ready(page, lambda: page.click(f"#kpi-{missed['code']}"))
    _ready(page, lambda: page.select_option("#dash-by", "RM"))
    by_rm = _api(dash_url, admin, RANKING, code=missed["code"], by="RM", period={"label": period})
    _assert_ranking(page, by_rm["kpiRanking"]["entries"], missed["unit"])
    assert any(e["met"] is False for e in by_rm["kpiRanking"]["entries"])

    # the charts are drawn: the trend chart's pixels are a chart, not a blank box
    assert page.get_attribute("#trend-chart", "data-drawn") == "1"
    assert page.get_attribute("#ranking-chart", "data-drawn") == "1"
    page.screenshot(path=str(ARTIFACTS / "20-dashboard-admin.png"), full_page=True)
    trend = pixels(page, page.locator("#trend-chart").screenshot())
    assert trend["colours"] >= 20 and trend["ink"] >= trend["pixels"] // 100, trend
    bars = pixels(page, page.locator("#ranking-chart").screenshot())
    assert bars["colours"] >= 5 and bars["ink"] >= bars["pixels"] // 100, bars

    # the ranking table as CSV: UTF-8 with a byte order mark, parsing back to the table's cells;
    # a KPI in money, whose figures carry thousands separators: fields quoted (RFC 4180)
    money = next((k for k in report["kpis"] if k["unit"] == "CNY"), None)
    assert money is not None, "the API reports a KPI in CNY"
    _ready(page, lambda: page.click(f"#kpi-{money['code']}"))
    _ready(page, lambda: page.select_option("#dash-by", "BRANCH"))
    by_branch = _api(
        dash_url, admin, RANKING, code=money["code"], by="BRANCH", period={"label": period}
    )
    _assert_ranking(page, by_branch["kpiRanking"]["entries"], money["unit"])
    with page.expect_download() as download:
        page.click("#card-ranking .csv-export")
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    cells = _table(page, "#ranking-table")
    assert parsed == cells
    assert len(cells) == 1 + len(by_branch["kpiRanking"]["entries"])
    assert any("," in c for row in cells for c in row) and '"' in text  # quoted where needed
    assert "\r\n" in text and download.value.suggested_filename.endswith(".csv")

    # the data-quality table: the API's fields, red exactly where below the 98 % target
    quality = _api(dash_url, admin, QUALITY)["dataQuality"]
    page.wait_for_selector("#quality[data-loaded]")
    rows = page.locator("#quality-table tbody tr.dq-row:not(.dq-overall)")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.field)") == [
        f["name"] for f in quality["fields"]
    ]
    for i, f in enumerate(quality["fields"]):
        assert ("missed" in (rows.nth(i).get_attribute("class") or "")) is (f["met"] is False)
    assert any(f["met"] is False for f in quality["fields"]), "the bank misses the target somewhere"

    # a branch as scope: its figures
    branch = entries[0]["id"]
    _ready(page, lambda: page.select_option("#dash-scope", f"branch:{branch}"))
    scoped = _api(dash_url, admin, KPIS, scope={"branchId": branch}, period={"label": period})
    _assert_tiles(page, scoped["kpis"]["kpis"])

    # English: the labels change, the figures do not
    zh_title = page.inner_text("#dash-title")
    zh_labels = page.locator("#kpi-tiles .kpi-label").all_inner_texts()
    page.click("#lang-toggle")
    page.wait_for_function(
        "t => document.querySelector('#dash-title')?.innerText !== t", arg=zh_title
    )
    _ready(page)
    en_labels = page.locator("#kpi-tiles .kpi-label").all_inner_texts()
    assert page.inner_text("#nav-dashboard") != "经营看板"
    assert sum(a != b for a, b in zip(zh_labels, en_labels, strict=True)) > 0
    assert page.inner_text("#card-ranking .csv-export") == "Export CSV"
    _assert_tiles(page, scoped["kpis"]["kpis"])
    page.screenshot(path=str(ARTIFACTS / "21-dashboard-admin-en.png"), full_page=True)
    ctx.close()
    assert not problems, problems  # no script errors, no CSP violations


def test_the_branch_manager_sees_the_branch_and_ranks_its_rms(
    browser: Browser, dash_url: str, auth_header: Callable[..., dict[str, str]]
) -> None:
    admin = auth_header("admin")
    ctx, page, problems = _new_page(browser, dash_url)
    # a branch of the bank, from the admin's ranking of branches (the API's, not ours)
    offered = _api(dash_url, admin, RANKING, code="COMPLAINTS_OPENED", by="BRANCH")
    branch = offered["kpiRanking"]["entries"][0]["id"]
    manager = auth_header("branch_manager", branch_id=branch)
    _sign_in(page, "branch_manager", branch)
    _open_dashboard(page)
    period = _period_with_complaints(page, dash_url, admin)
    _choose_period(page, period)
    assert page.locator("#dash-scope").is_hidden()  # their branch, nothing else to choose

    report = _api(dash_url, manager, KPIS, period={"label": period})["kpis"]
    assert (report["scope"], report["scopeId"]) == ("BRANCH", branch)
    _assert_tiles(page, report["kpis"])

    code = page.get_attribute("#kpi-tiles .kpi-tile[aria-pressed='true']", "data-code")
    unit = next(k["unit"] for k in report["kpis"] if k["code"] == code)
    ranking = _api(dash_url, manager, RANKING, code=code, by="RM", period={"label": period})
    entries = ranking["kpiRanking"]["entries"]
    assert entries, "the branch has relationship managers"
    _assert_ranking(page, entries, unit)
    assert page.locator("#card-quality").count() == 0  # data quality: not a branch manager's
    page.screenshot(path=str(ARTIFACTS / "22-dashboard-branch-manager.png"), full_page=True)
    ctx.close()
    assert not problems, problems
