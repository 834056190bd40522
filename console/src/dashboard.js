// The management dashboard (issue 23): the bank's service targets for a scope and a quarter.
// KPI tiles (value, target, the move against the previous quarter, red where the target is
// missed), the selected KPI's trend over 8 quarters, a ranking of branches or RMs for it (table
// and bar chart) and customer data completeness per field against the 98 % target.
//
// KPI codes are data: the tiles are whatever `kpis` answers, in its order; a code gets a short
// label when i18n.js has one (`kpi.<CODE>`), else it is shown as is, with its definition as the
// tooltip. One trend chart, of the selected tile, rather than one per tile: a trend is a graph
// read (kpiTrend), so one per tile would cost as many reads as there are KPIs (19 and growing)
// on every change of period or scope, and eight points per tiny chart are hard to read; the
// tile's own arrow already says which way the last quarter went.
//
// Who sees what follows the API (auth/policy.py, resolvers/kpis.py): RMs their book, branch
// managers their branch and a ranking of its RMs, admins and auditors the bank or any branch and
// every ranking; the data-quality table for data engineers, auditors and admins.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { h } from "./dom.js";
import { lang, t } from "./i18n.js";

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

const RM = "relationship_manager";
const BM = "branch_manager";
const AUDITOR = "auditor";
const ADMIN = "admin";
const KPI_ROLES = [RM, BM, AUDITOR, ADMIN]; // Operation.READ_KPIS
const WIDE_ROLES = [AUDITOR, ADMIN]; // the bank, any branch, every ranking
const QUALITY_ROLES = ["data_engineer", AUDITOR, ADMIN]; // Operation.READ_DATA_QUALITY
export const DASHBOARD_ROLES = [...new Set([...KPI_ROLES, ...QUALITY_ROLES])];

const TREND_PERIODS = 8;
const QUARTERS_OFFERED = 12;
// Decimals shown per unit (the API gives percentages and hours to 2 decimals).
const DECIMALS = { pct: 1, hours: 1, ratio: 2, count: 0, cny: 0 };
const RED = "#dc2626";
const GREEN = "#0f766e";
const GREY = "#9ca3af";

const KPIS = `query($scope: KpiScopeInput, $period: KpiPeriodInput) {
  kpis(scope: $scope, period: $period) {
    scope scopeId period { label } previousPeriod { label } scoredAt source computedAt
    kpis { code value target targetChangePct met previous unit higherIsBetter live definition } } }`;
const RANKING = `query($code: String!, $by: KpiRankBy!, $period: KpiPeriodInput) {
  kpiRanking(code: $code, by: $by, period: $period) {
    code by period { label } target higherIsBetter entries { rank id value met } } }`;
const TREND = `query($code: String!, $scope: KpiScopeInput, $period: KpiPeriodInput, $periods: Int!) {
  kpiTrend(code: $code, scope: $scope, period: $period, periods: $periods) {
    code target points { period { label } value met } } }`;
const QUALITY = `query { dataQuality { target customers completeness met
  fields { entity name completeness met bySource { system completeness } }
  identity { reviewPairs mergedLastLoad } lastLoadRun rejectsByReason { code rows } } }`;

// What the dashboard shows; kept across visits and language switches.
const state = { period: null, scope: "", code: null, by: null };
const charts = new Map(); // canvas id -> Chart (destroyed before it is drawn again)

// The last complete quarter (the API's default) and the ones before it, newest first.
export function quarters(today = new Date(), count = QUARTERS_OFFERED) {
  let year = today.getUTCFullYear();
  let q = Math.floor(today.getUTCMonth() / 3); // the current quarter's number minus one
  const out = [];
  for (let i = 0; i < count; i += 1) {
    if (q === 0) {
      year -= 1;
      q = 4;
    }
    out.push(`${year}Q${q}`);
    q -= 1;
  }
  return out;
}

const locale = () => (lang() === "zh" ? "zh-CN" : "en-US");

// ``unit``: the API's KpiUnit (PCT, HOURS, COUNT, CNY, RATIO).
export function formatValue(value, unit) {
  if (value === null || value === undefined) return "—";
  const d = DECIMALS[String(unit).toLowerCase()] ?? 2;
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: d, maximumFractionDigits: d }).format(value);
}

const unitText = (unit) => t(`unit.${String(unit).toLowerCase()}`, "");
const kpiLabel = (code) => t(`kpi.${code}`, code);
const allowed = (roles, wanted) => roles.some((r) => wanted.includes(r));

function scopeInput() {
  if (state.scope === "bank") return { bank: true };
  if (state.scope.startsWith("branch:")) return { branchId: state.scope.slice(7) };
  return null; // the caller's own
}

// The move against the previous period: its direction and whether that is good news.
export function move(kpi) {
  if (kpi.value === null || kpi.previous === null || kpi.value === undefined || kpi.previous === undefined) return null;
  const delta = kpi.value - kpi.previous;
  const dir = Math.abs(delta) < 1e-9 ? "flat" : delta > 0 ? "up" : "down";
  let judged = "neutral";
  if (dir !== "flat" && kpi.higherIsBetter !== null && kpi.higherIsBetter !== undefined) {
    judged = (dir === "up") === kpi.higherIsBetter ? "good" : "bad";
  }
  return { dir, judged, delta };
}

function targetText(kpi) {
  if (kpi.targetChangePct !== null && kpi.targetChangePct !== undefined) {
    const sign = kpi.higherIsBetter === false ? "−" : "+";
    return t("dash.targetChange", `${sign}${formatValue(kpi.targetChangePct, "PCT")} %`);
  }
  if (kpi.target === null || kpi.target === undefined) return t("dash.noTarget");
  const sign = kpi.higherIsBetter === false ? "≤" : "≥";
  return t("dash.target", `${sign} ${formatValue(kpi.target, kpi.unit)}${unitText(kpi.unit) ? ` ${unitText(kpi.unit)}` : ""}`);
}

function tile(kpi, selected, onSelect) {
  const m = move(kpi);
  const arrow = m
    ? h(
        "span",
        { class: `kpi-move move-${m.judged}`, dataset: { dir: m.dir, judged: m.judged }, title: t("dash.previous", formatValue(kpi.previous, kpi.unit)) },
        { up: "▲", down: "▼", flat: "▶" }[m.dir],
        " ",
        formatValue(Math.abs(m.delta), kpi.unit)
      )
    : h("span", { class: "kpi-move move-none" }, kpi.live ? t("dash.live") : "");
  const label = kpiLabel(kpi.code);
  return h(
    "button",
    {
      type: "button",
      class: `tile kpi-tile${kpi.met === false ? " missed" : kpi.met === true ? " met" : ""}`,
      id: `kpi-${kpi.code}`,
      "aria-pressed": selected ? "true" : "false",
      title: kpi.definition,
      dataset: { code: kpi.code, met: String(kpi.met), value: kpi.value === null ? "" : String(kpi.value) },
      onclick: () => onSelect(kpi.code),
    },
    h("span", { class: "tile-label kpi-label" }, label),
    label !== kpi.code ? h("span", { class: "kpi-code" }, kpi.code) : null,
    h(
      "span",
      { class: "tile-value-row" },
      h("span", { class: "tile-value" }, formatValue(kpi.value, kpi.unit)),
      h("span", { class: "tile-unit" }, kpi.value === null ? "" : unitText(kpi.unit))
    ),
    h("span", { class: "tile-sub kpi-target" }, targetText(kpi)),
    arrow
  );
}

function chartOn(canvas, config) {
  charts.get(canvas.id)?.destroy();
  const chart = new Chart(canvas, {
    ...config,
    options: { animation: false, responsive: true, maintainAspectRatio: false, ...config.options },
  });
  charts.set(canvas.id, chart);
  canvas.dataset.drawn = "1";
  return chart;
}

function trendChart(canvas, trend, kpi) {
  const labels = trend.points.map((p) => p.period.label);
  const datasets = [
    {
      label: kpiLabel(kpi.code),
      data: trend.points.map((p) => p.value),
      borderColor: GREEN,
      backgroundColor: GREEN,
      pointBackgroundColor: trend.points.map((p) => (p.met === false ? RED : GREEN)),
      pointRadius: 5,
      spanGaps: true,
    },
  ];
  if (trend.target !== null && trend.target !== undefined) {
    datasets.push({
      label: t("dash.targetLine"),
      data: labels.map(() => trend.target),
      borderColor: RED,
      borderDash: [6, 4],
      pointRadius: 0,
    });
  }
  chartOn(canvas, {
    type: "line",
    data: { labels, datasets },
    options: { plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${formatValue(c.raw, kpi.unit)}` } } } },
  });
}

function rankingChart(canvas, ranking, unit) {
  const shown = ranking.entries.filter((e) => e.value !== null);
  chartOn(canvas, {
    type: "bar",
    data: {
      labels: shown.map((e) => e.id),
      datasets: [
        {
          label: kpiLabel(ranking.code),
          data: shown.map((e) => e.value),
          backgroundColor: shown.map((e) => (e.met === false ? RED : e.met === true ? GREEN : GREY)),
        },
      ],
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => formatValue(c.raw, unit) } } },
    },
  });
}

function rankingTable(ranking, unit) {
  const by = ranking.by === "BRANCH" ? "dash.branch" : "dash.rm";
  return h(
    "table",
    { class: "grid ranking", id: "ranking-table", dataset: { csvName: `ranking-${ranking.code}-${ranking.by}-${ranking.period.label}` } },
    h("thead", {}, h("tr", {}, [t("dash.rank"), t(by), t("dash.value"), t("dash.met")].map((x) => h("th", { scope: "col" }, x)))),
    h(
      "tbody",
      {},
      ranking.entries.map((e) =>
        h(
          "tr",
          { class: `rank-row${e.met === false ? " missed" : ""}`, dataset: { id: e.id, met: String(e.met) } },
          h("td", { class: "num" }, String(e.rank)),
          h("td", {}, e.id),
          h("td", { class: "num" }, formatValue(e.value, unit)),
          h("td", {}, e.met === null ? "—" : t(e.met ? "dash.yes" : "dash.no"))
        )
      )
    )
  );
}

const pct = (share) => (share === null || share === undefined ? "—" : `${formatValue(100 * share, "PCT")} %`);

function qualityTable(q) {
  const systems = [...new Set(q.fields.flatMap((f) => f.bySource.map((s) => s.system)))].sort();
  const head = [t("dq.field"), t("dq.completeness"), ...systems.map((s) => t("dq.source", s)), t("dq.met")];
  return h(
    "table",
    { class: "grid quality", id: "quality-table", dataset: { csvName: "data-quality" } },
    h("thead", {}, h("tr", {}, head.map((x) => h("th", { scope: "col" }, x)))),
    h(
      "tbody",
      {},
      q.fields.map((f) => {
        const by = Object.fromEntries(f.bySource.map((s) => [s.system, s.completeness]));
        return h(
          "tr",
          { class: `dq-row${f.met === false ? " missed" : ""}`, dataset: { field: f.name, met: String(f.met) } },
          h("td", {}, `${f.entity}.${f.name}`),
          h("td", { class: "num" }, pct(f.completeness)),
          systems.map((s) => h("td", { class: "num" }, pct(by[s]))),
          h("td", {}, f.met === null ? "—" : t(f.met ? "dash.yes" : "dash.no"))
        );
      }),
      h(
        "tr",
        { class: `dq-row dq-overall${q.met === false ? " missed" : ""}`, dataset: { field: "", met: String(q.met) } },
        h("th", { scope: "row" }, t("dq.overall")),
        h("td", { class: "num" }, pct(q.completeness)),
        systems.map(() => h("td", {})),
        h("td", {}, q.met === null ? "—" : t(q.met ? "dash.yes" : "dash.no"))
      )
    )
  );
}

function qualityCard(gql, errorBox) {
  const box = h("div", { id: "quality", "aria-live": "polite" }, h("p", { class: "muted" }, t("loading")));
  gql(QUALITY)
    .then(({ dataQuality: q }) => {
      const rejects = q.rejectsByReason.length
        ? h(
            "table",
            { class: "grid rejects", id: "rejects-table", dataset: { csvName: `rejects-${q.lastLoadRun || "load"}` } },
            h("thead", {}, h("tr", {}, [t("dq.reason"), t("dq.rows")].map((x) => h("th", { scope: "col" }, x)))),
            h("tbody", {}, q.rejectsByReason.map((r) => h("tr", {}, h("td", {}, r.code), h("td", { class: "num" }, formatValue(r.rows, "COUNT")))))
          )
        : h("p", { class: "muted" }, t("dq.noRejects"));
      box.replaceChildren(
        h("p", { class: "dq-target" }, h("span", { class: "target-mark" }, t("dq.target", pct(q.target))), " · ", t("dq.customers", formatValue(q.customers, "COUNT"))),
        qualityTable(q),
        h("p", { class: "muted" }, t("dq.identity", q.identity.reviewPairs, q.identity.mergedLastLoad)),
        h("h3", {}, t("dq.rejects", q.lastLoadRun || "—")),
        rejects
      );
      box.dataset.loaded = "1";
    })
    .catch((e) => box.replaceChildren(errorBox(e)));
  return h("section", { class: "card", id: "card-quality", "aria-labelledby": "h-quality" }, h("h2", { id: "h-quality" }, t("dq.title")), box);
}

// The view. ``gql`` and ``errorBox`` are the console's (main.js); ``me`` the caller (`me`).
export function dashboardView({ gql, errorBox, me }) {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
  const roles = me?.roles || [];
  const root = h("div", { class: "dashboard", id: "dashboard" }, h("div", { class: "title-row" }, h("h1", { id: "dash-title", tabindex: "-1" }, t("dash.title"))));
  if (allowed(roles, KPI_ROLES)) root.append(kpiSection(gql, errorBox, roles, me));
  if (allowed(roles, QUALITY_ROLES)) root.append(qualityCard(gql, errorBox));
  return root;
}

function kpiSection(gql, errorBox, roles, me) {
  const wide = allowed(roles, WIDE_ROLES);
  const offered = quarters();
  if (!state.period || !offered.includes(state.period)) state.period = offered[0];
  if (!wide) state.scope = "";
  else if (!state.scope) state.scope = "bank";
  // rankings: admins and auditors every branch or every RM; a branch manager their branch's RMs
  const byOptions = wide ? ["BRANCH", "RM"] : roles.includes(BM) ? ["RM"] : [];
  if (!byOptions.includes(state.by)) state.by = byOptions[0] || null;

  const periodSelect = h(
    "select",
    { id: "dash-period" },
    offered.map((label) => h("option", { value: label, selected: label === state.period }, label))
  );
  const scopeSelect = h("select", { id: "dash-scope", hidden: !wide }, h("option", { value: "bank" }, t("dash.bank")));
  const scopeLabel = h("label", { for: "dash-scope", hidden: !wide }, t("dash.scope"));
  const ownScope = h("span", { class: "muted", id: "dash-own-scope", hidden: wide });
  const tiles = h("div", { class: "tiles kpi-tiles", id: "kpi-tiles", "aria-live": "polite" }, h("p", { class: "muted" }, t("loading")));
  const trendCanvas = h("canvas", { id: "trend-chart", role: "img", "aria-label": t("dash.trend") });
  const trendTitle = h("h2", { id: "h-trend" }, t("dash.trend"));
  const trendBox = h("div", { class: "chart-box" }, trendCanvas);
  const trendStatus = h("div", { id: "trend-status" });
  const rankCanvas = h("canvas", { id: "ranking-chart", role: "img", "aria-label": t("dash.ranking") });
  const rankTitle = h("h2", { id: "h-ranking" }, t("dash.ranking"));
  const rankTable = h("div", { id: "ranking", "aria-live": "polite" });
  const bySelect = h(
    "select",
    { id: "dash-by" },
    byOptions.map((b) => h("option", { value: b, selected: b === state.by }, t(b === "BRANCH" ? "dash.byBranch" : "dash.byRm")))
  );
  let report = null;
  let latest = 0;

  const selected = () => report?.kpis.find((k) => k.code === state.code);

  const loadTrend = async (mine) => {
    const kpi = selected();
    trendTitle.textContent = t("dash.trendOf", kpiLabel(kpi.code), TREND_PERIODS);
    try {
      const { kpiTrend } = await gql(TREND, { code: kpi.code, scope: scopeInput(), period: { label: state.period }, periods: TREND_PERIODS });
      if (mine !== latest) return;
      trendChart(trendCanvas, kpiTrend, kpi);
      // a live figure is as of now (or the last scoring run) in every period: say so
      trendStatus.replaceChildren(kpi.live ? h("p", { class: "muted", id: "trend-live" }, t("dash.liveTrend")) : "");
      trendBox.dataset.loaded = String(mine);
    } catch (e) {
      if (mine === latest) trendStatus.replaceChildren(errorBox(e));
    }
  };

  const loadRanking = async (mine) => {
    if (!state.by) return;
    const kpi = selected();
    rankTitle.textContent = t("dash.rankingOf", kpiLabel(kpi.code));
    rankTable.setAttribute("aria-busy", "true");
    try {
      const { kpiRanking } = await gql(RANKING, { code: kpi.code, by: state.by, period: { label: state.period } });
      if (mine !== latest) return;
      rankTable.replaceChildren(kpiRanking.entries.length ? rankingTable(kpiRanking, kpi.unit) : h("p", { class: "muted" }, t("none")));
      rankingChart(rankCanvas, kpiRanking, kpi.unit);
      rankTable.dataset.loaded = String(mine);
      if (wide && state.by === "BRANCH") offerBranches(kpiRanking.entries.map((e) => e.id));
    } catch (e) {
      if (mine === latest) rankTable.replaceChildren(errorBox(e));
    } finally {
      if (mine === latest) rankTable.removeAttribute("aria-busy");
    }
  };

  // the branches an admin may pick: those the branch ranking lists
  const offerBranches = (ids) => {
    const known = new Set(Array.from(scopeSelect.options, (o) => o.value));
    for (const id of [...ids].sort()) {
      if (!known.has(`branch:${id}`)) scopeSelect.append(h("option", { value: `branch:${id}` }, t("dash.branchScope", id)));
    }
    scopeSelect.value = state.scope;
  };
  if (wide && state.scope.startsWith("branch:")) offerBranches([state.scope.slice(7)]);

  const drawTiles = () => {
    tiles.replaceChildren(...report.kpis.map((k) => tile(k, k.code === state.code, select)));
  };
  // the selected KPI's trend and ranking; then the section says which load it shows (data-ready)
  const charted = async (mine) => {
    await Promise.all([loadTrend(mine), loadRanking(mine)]);
    if (mine === latest) section.dataset.ready = String(mine);
  };
  const select = (code) => {
    state.code = code;
    drawTiles();
    charted(++latest);
  };

  const load = async () => {
    const mine = ++latest;
    tiles.setAttribute("aria-busy", "true");
    try {
      const { kpis } = await gql(KPIS, { scope: scopeInput(), period: { label: state.period } });
      if (mine !== latest) return;
      report = kpis;
      ownScope.textContent = t(`dash.scope.${String(kpis.scope).toLowerCase()}`, kpis.scope) + (kpis.scopeId ? ` ${kpis.scopeId}` : "");
      meta.textContent = t("dash.meta", kpis.period.label, kpis.previousPeriod?.label || "—", kpis.scoredAt ? String(kpis.scoredAt).slice(0, 16).replace("T", " ") : "—")
        + " · " + t(`dash.source.${String(kpis.source).toLowerCase()}`, String(kpis.computedAt || "").slice(0, 16).replace("T", " ") + " UTC");
      if (!report.kpis.length) {
        tiles.replaceChildren(h("p", { class: "muted" }, t("none")));
        section.dataset.ready = String(mine);
        return;
      }
      if (!selected()) state.code = (report.kpis.find((k) => k.target !== null) || report.kpis[0]).code;
      drawTiles();
      tiles.dataset.loaded = String(mine);
      charted(mine);
    } catch (e) {
      if (mine === latest) tiles.replaceChildren(errorBox(e));
    } finally {
      if (mine === latest) tiles.removeAttribute("aria-busy");
    }
  };

  periodSelect.addEventListener("change", () => {
    state.period = periodSelect.value;
    load();
  });
  scopeSelect.addEventListener("change", () => {
    state.scope = scopeSelect.value;
    load();
  });
  bySelect.addEventListener("change", () => {
    state.by = bySelect.value;
    charted(++latest);
  });
  const meta = h("p", { class: "muted", id: "dash-meta" });
  const section = h(
    "div",
    { class: "kpi-section", id: "kpi-section" },
    h(
      "section",
      { class: "card", id: "card-kpis", "aria-labelledby": "h-kpis" },
      h(
        "div",
        { class: "title-row filters" },
        h("h2", { id: "h-kpis" }, t("dash.kpis")),
        h("label", { for: "dash-period" }, t("dash.period")),
        periodSelect,
        scopeLabel,
        scopeSelect,
        ownScope
      ),
      meta,
      tiles
    ),
    h(
      "div",
      { class: `dash-charts${state.by ? "" : " single"}` },
      h("section", { class: "card", id: "card-trend", "aria-labelledby": "h-trend" }, trendTitle, trendBox, trendStatus),
      state.by
        ? h(
            "section",
            { class: "card", id: "card-ranking", "aria-labelledby": "h-ranking" },
            h("div", { class: "title-row" }, rankTitle, byOptions.length > 1 ? [h("label", { for: "dash-by", class: "muted" }, t("dash.by")), bySelect] : null),
            h("div", { class: "chart-box" }, rankCanvas),
            rankTable
          )
        : null
    )
  );
  load();
  return section;
}
