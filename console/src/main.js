// The relationship-manager console: a small single-page app over the public GraphQL API.
// Two ways in: signed in through the bank's OpenID Connect provider, the browser holds only an
// HttpOnly session cookie (the tokens stay on the server; this script never sees them) and every
// /graphql call carries the X-Requested-With header the server demands of cookie calls; with the
// development sign-in (not in production), a bearer token in sessionStorage.
// The DOM is built with createElement/textContent (never innerHTML with data).
import cytoscape from "cytoscape";
import { t, lang, setLang } from "./i18n.js";
import { h } from "./dom.js";
import { dashboardView, DASHBOARD_ROLES } from "./dashboard.js";
import { exportTables } from "./csv.js";

const TOKEN_KEY = "c360.console.token";
// What each role may do, as auth/policy.py allows it (the API refuses anything else; the console
// only hides what would be refused). The complaint lifecycle: which roles may take each step, from
// which states.
const RM = "relationship_manager";
const BM = "branch_manager";
const CS = "channel_service"; // the hotline and the app
const ADMIN = "admin";
const LOGGERS = [RM, CS, ADMIN]; // logInteraction
const OPENERS = [RM, BM, CS, ADMIN]; // openComplaint (complaints, suggestions, questions)
const SURVEYORS = [RM, BM, CS, ADMIN]; // recordSurvey
const QUEUE_ROLES = [RM, BM, CS, ADMIN]; // the complaint queue
const LIFECYCLE = {
  acknowledge: { roles: [RM, BM, CS, ADMIN], from: ["OPEN", "REOPENED"] },
  progress: { roles: [RM, BM, CS, ADMIN], from: ["ACKNOWLEDGED", "IN_PROGRESS"] },
  resolve: { roles: [RM, BM, ADMIN], from: ["OPEN", "ACKNOWLEDGED", "IN_PROGRESS", "REOPENED"] },
  close: { roles: [RM, BM, ADMIN], from: ["RESOLVED"] },
  reopen: { roles: [RM, BM, ADMIN], from: ["RESOLVED", "CLOSED"] },
};
const TRACKED_KINDS = ["COMPLAINT", "SUGGESTION", "QUESTION"]; // one tracker for the three
const CONTACT_KINDS = ["FOLLOW_UP", "VISIT", "CALL"]; // logInteraction: a visit or a call counts for the plan
const CONSOLE_HEADER = { "x-requested-with": "c360-console" };
let myRoles = [];
let myBranch = null; // a branch manager's branch (from `me`)
let myMe = null; // the last `me`
let options = null; // { oidc, development, session }: the sign-in ways offered, and whether
// this browser's session cookie (if any) is signed in
let session = false; // signed in through the provider (the cookie itself is invisible to us)
const app = () => document.getElementById("app");

// ---------------------------------------------------------------- helpers
const fmtMoney = (n) =>
  n === null || n === undefined
    ? "—"
    : new Intl.NumberFormat(lang() === "zh" ? "zh-CN" : "en-US", {
        maximumFractionDigits: 0,
      }).format(n);
const fmtDate = (s) => (s ? String(s).replace("T", " ").slice(0, 16) : "—");
const dash = (v) => (v === null || v === undefined || v === "" ? "—" : v);

function toast(msg) {
  const el = document.getElementById("toast");
  el.textContent = msg;
  el.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove("show"), 3500);
}

function tierBadge(tier) {
  if (!tier) return h("span", { class: "badge" }, "—");
  return h("span", { class: `badge tier-${tier.toLowerCase()}` }, t(`tier.${tier}`));
}
function riskBadge(level) {
  if (!level) return h("span", { class: "badge" }, "—");
  return h("span", { class: `badge risk-${level.toLowerCase()}` }, t(`risk.${level}`));
}

// ---------------------------------------------------------------- API
class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

// The Accept-Language of every API call: the console's chosen language.
const apiLanguage = () => (lang() === "en" ? "en" : "zh-CN");

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}
const signedIn = () => !!token() || session;

async function gql(query, variables = {}) {
  const bearer = token();
  // the API renders reasons, alerts and recommendations in the language the console shows
  const headers = { "content-type": "application/json", "accept-language": apiLanguage(), ...CONSOLE_HEADER };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const resp = await fetch("/graphql", {
    method: "POST",
    headers,
    credentials: "same-origin", // the session cookie, when signed in through the provider
    body: JSON.stringify({ query, variables }),
  });
  if (resp.status === 401) {
    const wasSignedIn = signedIn();
    sessionStorage.removeItem(TOKEN_KEY);
    session = false; // expired or ended: sign in again
    if (wasSignedIn) render();
    throw new ApiError(t("err.UNAUTHENTICATED"), "UNAUTHENTICATED");
  }
  const body = await resp.json().catch(() => ({}));
  if (body.errors && body.errors.length) {
    const code = body.errors[0].extensions?.code || "INTERNAL";
    throw new ApiError(body.errors[0].message, code);
  }
  if (!resp.ok) throw new ApiError(resp.statusText, "INTERNAL");
  return body.data;
}

function errorBox(err) {
  const code = err.code || "INTERNAL";
  return h(
    "div",
    { class: "error", role: "alert", dataset: { code } },
    h("strong", {}, code),
    " ",
    t(`err.${code}`, err.message)
  );
}

// ---------------------------------------------------------------- sign-in
const ROLES = [
  ["relationship_manager", "employee_id"],
  ["branch_manager", "branch_id"],
  ["channel_service", null],
  ["customer", "customer_id"],
  ["data_engineer", null],
  ["auditor", null],
  ["admin", null],
];

async function loadOptions() {
  if (options) return options;
  try {
    const resp = await fetch("/console/sign-in-options");
    options = resp.ok ? await resp.json() : null;
  } catch {
    options = null;
  }
  options = options || { oidc: false, development: false, session: false };
  session = !!options.session;
  return options;
}

function providerSignInView() {
  return h(
    "div",
    { class: "card signin", id: "sso" },
    h("h1", {}, t("sso.title")),
    h("p", { class: "muted" }, t("sso.hint")),
    h("a", { href: "/console/login", class: "btn primary", id: "sso-signin" }, t("sso.button"))
  );
}

function signInView() {
  const ways = [];
  if (options.oidc) ways.push(providerSignInView());
  if (options.development || !options.oidc) ways.push(developmentSignInView());
  return h("div", { class: "signin-ways" }, ways);
}

function developmentSignInView() {
  const claimField = h("input", { id: "claim-id", name: "claim", autocomplete: "off" });
  const claimLabel = h("label", { for: "claim-id" });
  const select = h(
    "select",
    { id: "role", name: "role" },
    ROLES.map(([r]) => h("option", { value: r }, t(`role.${r}`)))
  );
  const claimRow = h("div", { class: "field" }, claimLabel, claimField);
  const syncClaim = () => {
    const claim = ROLES.find(([r]) => r === select.value)[1];
    claimRow.hidden = !claim;
    claimField.required = !!claim;
    if (claim) claimLabel.textContent = t(`claim.${claim}`);
  };
  select.addEventListener("change", syncClaim);
  const status = h("div", { class: "form-status", role: "status" });
  const form = h(
    "form",
    {
      class: "card signin",
      id: "signin-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const claim = ROLES.find(([r]) => r === select.value)[1];
        const payload = { role: select.value };
        if (claim) payload[claim] = claimField.value.trim();
        status.textContent = t("signin.wait");
        try {
          const resp = await fetch("/console/dev-token", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(payload),
          });
          if (resp.status === 404) {
            status.textContent = t("signin.unavailable"); // production: no development tokens
            return;
          }
          const body = await resp.json().catch(() => ({}));
          if (!resp.ok || !body.token) {
            status.textContent = body.error || t("signin.failed");
            return;
          }
          sessionStorage.setItem(TOKEN_KEY, body.token);
          goHome();
        } catch (e) {
          status.textContent = t("signin.failed");
        }
      },
    },
    h("h1", {}, t("signin.title")),
    h("p", { class: "muted" }, t("signin.hint")),
    h("div", { class: "field" }, h("label", { for: "role" }, t("signin.role")), select),
    claimRow,
    h("button", { type: "submit", class: "btn primary", id: "signin-submit" }, t("signin.submit")),
    status
  );
  syncClaim();
  return form;
}

// ---------------------------------------------------------------- home: the RM's and the branch manager's day
const SEARCH = `query($search: String, $first: Int, $after: String) {
  customers(search: $search, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name phone city aum value { tier } } } } }`;
// The at-risk lists: downgrade or churn (the same document, its kind a variable), win-back.
// Reasons come rendered in the console's language (Accept-Language).
const AT_RISK = `query($kind: AtRiskKind! = DOWNGRADE, $after: String) {
  atRiskCustomers(kind: $kind, first: 20, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name aum value { tier previousTier }
      risk { downgrade { level details { code text } } churn { level details { code text } } } } } } }`;
const WIN_BACK = `query($after: String) {
  winBackCustomers(first: 20, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name aum value { tier previousTier }
      tierHistory { id fromTier toTier direction changedAt } } } } }`;
const FOLLOW_UPS = `query($first: Int, $after: String, $overdueOnly: Boolean! = false) {
  followUpsDue(first: $first, after: $after, overdueOnly: $overdueOnly) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { customer { id name } tier lastContactAt dueDate daysOverdue } } } }`;
const ALERTS = `query($first: Int, $after: String) {
  alerts(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id kind dueDate daysUntilDue withinDays amount currency customer { id name }
      reason { code text } } } } }`;
const DISMISS_ALERT = `mutation($id: ID!) { dismissAlert(id: $id) { id } }`;
const UNASSIGNED = `query($after: String) {
  unassignedCustomers(first: 20, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name aum value { tier } } } } }`;
const COVERAGE = `query($branchId: ID) {
  branchCoverage(branchId: $branchId) {
    branch { id name } customers withRelationshipManager withoutRelationshipManager
    tiers { tier customers withRelationshipManager withoutRelationshipManager }
    relationshipManagers { customers employee { id name } } }
  followUpCoverage(branchId: $branchId) { target tiers { tier intervalDays customers covered overdue share meetsTarget } } }`;
const ASSIGN = `mutation($input: AssignRelationshipManagerInput!) {
  assignRelationshipManager(input: $input) { customerId relationshipManager { id name } } }`;

const PAGE = 10;
const LIST_PAGE = 20; // the at-risk, win-back and unassigned lists (their documents' page)
const TIERS = ["CORE", "KEY", "ORDINARY"];
const homeState = { search: "", cursors: [null], page: 0 };
const followState = { overdueOnly: false, cursors: [null], page: 0 };
const alertState = { cursors: [null], page: 0 };
const riskState = { kind: "DOWNGRADE", cursors: [null], page: 0 };
const unassignedState = { cursors: [null], page: 0 };
const fmtDay = (s) => (s ? String(s).slice(0, 10) : "—");

function customerLink(id, label) {
  return h("a", { href: `#/customer/${encodeURIComponent(id)}`, class: "cust-link" }, label || id);
}


// Previous / next buttons of a cursor pager: ``state`` holds the page number and the cursor
// that starts each page; ``load`` shows the page ``state`` points at.
// A pager moves once: a second click while the page loads is ignored (it would read this page's
// pageInfo again and skip a page).
function pagerButtons(state, prefix, pageInfo, load) {
  let moved = false;
  const button = (suffix, label, disabled, move) =>
    h("button", {
      type: "button", class: "btn", id: `${prefix}-${suffix}`, disabled,
      onclick: () => {
        if (moved) return;
        moved = true;
        move();
        load();
      },
    }, t(label));
  return [
    button("prev", "page.prev", state.page === 0, () => {
      state.page -= 1;
    }),
    button("next", "page.next", !pageInfo.hasNextPage, () => {
      state.cursors[state.page + 1] = pageInfo.endCursor;
      state.page += 1;
    }),
  ];
}

const resetPager = (state) => {
  state.cursors = [null];
  state.page = 0;
};

// Cursors are sealed to the caller who got them: a new sign-in starts every list on page 1.
let pagersOwner = null;
function pagersFor(subject) {
  if (subject === pagersOwner) return;
  pagersOwner = subject;
  for (const state of [homeState, followState, alertState, riskState, unassignedState, queueState]) {
    resetPager(state);
  }
}

// A paged list in ``box``: ``fetch(after)`` answers a connection, ``draw(conn)`` its content;
// the total, the page number and the pager (ids ``prefix``-prev/-next) around it. Only the newest
// request may draw (answers can arrive out of order). Returns the loader.
function pagedList(box, state, prefix, fetch, draw, totalKey) {
  let latest = 0;
  const load = async () => {
    const mine = ++latest;
    box.setAttribute("aria-busy", "true");
    try {
      const conn = await fetch(state.cursors[state.page]);
      if (mine !== latest) return;
      const [prev, next] = pagerButtons(state, prefix, conn.pageInfo, load);
      box.replaceChildren(
        h("p", { class: "muted list-total" }, t(totalKey, conn.totalCount), ` · ${t("page.n")} ${state.page + 1}`),
        conn.edges.length ? draw(conn) : h("p", { class: "muted list-empty" }, t("none")),
        h("div", { class: "pager" }, prev, next)
      );
      box.dataset.loaded = String(mine);
    } catch (e) {
      if (mine === latest) box.replaceChildren(errorBox(e));
    } finally {
      if (mine === latest) box.removeAttribute("aria-busy");
    }
  };
  return load;
}

function card(id, titleKey, body, ...extra) {
  return h(
    "section",
    { class: "card", id: `card-${id}`, "aria-labelledby": `h-${id}` },
    h("div", { class: "title-row" }, h("h2", { id: `h-${id}` }, t(titleKey)), extra),
    body
  );
}

function searchCard() {
  const results = h("div", { id: "search-results", "aria-live": "polite" });
  const input = h("input", {
    id: "search-input",
    type: "search",
    name: "search",
    value: homeState.search,
    placeholder: t("search.placeholder"),
    "aria-label": t("search.label"),
  });
  let latest = 0; // only the newest request may draw (answers can arrive out of order)
  const load = async () => {
    const mine = ++latest;
    results.replaceChildren(h("p", { class: "muted" }, t("loading")));
    try {
      const data = await gql(SEARCH, {
        search: homeState.search || null,
        first: PAGE,
        after: homeState.cursors[homeState.page],
      });
      if (mine !== latest) return;
      const conn = data.customers;
      const rows = conn.edges.map(({ node }) =>
        h(
          "tr",
          {},
          h("td", {}, customerLink(node.id)),
          h("td", {}, dash(node.name)),
          h("td", {}, dash(node.phone)),
          h("td", {}, dash(node.city)),
          h("td", { class: "num" }, fmtMoney(node.aum)),
          h("td", {}, tierBadge(node.value?.tier))
        )
      );
      const [prev, next] = pagerButtons(homeState, "page", conn.pageInfo, load);
      results.replaceChildren(
        h("p", { class: "muted" }, t("search.total", conn.totalCount), ` · ${t("page.n")} ${homeState.page + 1}`),
        h(
          "table",
          { class: "grid" },
          h(
            "thead",
            {},
            h("tr", {}, ["col.id", "col.name", "col.phone", "col.city", "col.aum", "col.tier"].map((k) =>
              h("th", { scope: "col" }, t(k))
            ))
          ),
          h("tbody", {}, rows)
        ),
        h("div", { class: "pager" }, prev, next)
      );
    } catch (e) {
      if (mine === latest) results.replaceChildren(errorBox(e));
    }
  };
  const form = h(
    "form",
    {
      class: "search",
      role: "search",
      onsubmit: (ev) => {
        ev.preventDefault();
        homeState.search = input.value.trim();
        resetPager(homeState);
        load();
      },
    },
    input,
    h("button", { type: "submit", class: "btn primary", id: "search-submit" }, t("search.submit"))
  );
  load();
  return card("search", "search.title", h("div", {}, form, results));
}

// ---- follow-ups due: the RM's book (a branch manager: the branch), most overdue first
function followUpsCard() {
  const box = h("div", { id: "followups", "aria-live": "polite" }, h("p", { class: "muted" }, t("loading")));
  const load = pagedList(
    box,
    followState,
    "fu",
    async (after) =>
      (await gql(FOLLOW_UPS, { first: PAGE, after, overdueOnly: followState.overdueOnly })).followUpsDue,
    (conn) =>
      h(
        "table",
        { class: "grid" },
        h("thead", {}, h("tr", {}, ["fu.customer", "col.tier", "fu.last", "fu.due", "fu.overdue"].map((k) => h("th", { scope: "col" }, t(k))))),
        h(
          "tbody",
          {},
          conn.edges.map(({ node: f }) =>
            h(
              "tr",
              { class: `fu-row${f.daysOverdue > 0 ? " overdue" : ""}`, dataset: { id: f.customer.id } },
              h("td", {}, customerLink(f.customer.id, `${dash(f.customer.name)} · ${f.customer.id}`)),
              h("td", {}, tierBadge(f.tier)),
              h("td", {}, f.lastContactAt ? fmtDay(f.lastContactAt) : t("fu.never")),
              h("td", {}, fmtDay(f.dueDate)),
              h("td", { class: "num fu-days" }, f.daysOverdue > 0 ? t("fu.days", f.daysOverdue) : "—")
            )
          )
        )
      ),
    "fu.total"
  );
  const overdue = h("input", {
    type: "checkbox",
    id: "fu-overdue-only",
    checked: followState.overdueOnly,
    onchange: (ev) => {
      followState.overdueOnly = ev.target.checked;
      resetPager(followState);
      load();
    },
  });
  load();
  return card("followups", "fu.title", box, h("label", { class: "check muted" }, overdue, t("fu.overdueOnly")));
}

// ---- alerts: maturities, birthdays, tier changes, risk raised, complaints about to breach
const when = (days) =>
  days === null || days === undefined ? "" : days === 0 ? t("alert.today") : days > 0 ? t("alert.inDays", days) : t("alert.daysAgo", -days);

function alertsCard() {
  const box = h("div", { id: "alerts", "aria-live": "polite" }, h("p", { class: "muted" }, t("loading")));
  const dismiss = async (a, btn) => {
    btn.disabled = true;
    try {
      await gql(DISMISS_ALERT, { id: a.id });
      toast(t("alert.dismissed"));
      await load(); // the page again: the dismissed alert is no longer listed
    } catch (e) {
      toast(`${e.code}: ${e.message}`);
      btn.disabled = false;
    }
  };
  const load = pagedList(
    box,
    alertState,
    "alerts",
    async (after) => (await gql(ALERTS, { first: PAGE, after })).alerts,
    (conn) =>
      h(
        "ul",
        { class: "alert-list" },
        conn.edges.map(({ node: a }) => {
          const btn = h("button", { type: "button", class: "btn small alert-dismiss", "aria-label": t("alert.dismissLabel", a.customer?.name || a.customer?.id || "") }, t("alert.dismiss"));
          btn.addEventListener("click", () => dismiss(a, btn));
          return h(
            "li",
            { class: `alert-item kind-${String(a.kind).toLowerCase()}`, dataset: { id: a.id, kind: a.kind } },
            h(
              "div",
              { class: "alert-body" },
              h(
                "div",
                { class: "alert-head" },
                h("span", { class: "badge alert-kind" }, t(`alert.${a.kind}`, a.kind)),
                a.customer ? customerLink(a.customer.id, `${dash(a.customer.name)} · ${a.customer.id}`) : null,
                h("span", { class: "muted alert-when" }, `${fmtDay(a.dueDate)} · ${when(a.daysUntilDue)}`),
                a.amount != null ? h("span", { class: "alert-amount num" }, `${fmtMoney(a.amount)}${a.currency ? ` ${a.currency}` : ""}`) : null
              ),
              h("div", { class: "alert-reason", dataset: { code: a.reason?.code || "" } }, dash(a.reason?.text))
            ),
            btn
          );
        })
      ),
    "alert.total"
  );
  load();
  return card("alerts", "alert.title", box);
}

// ---- the at-risk lists: downgrade, churn, win-back (tabs), each paged
const RISK_TABS = [
  ["DOWNGRADE", "risk.tab.downgrade"],
  ["CHURN", "risk.tab.churn"],
  ["WIN_BACK", "risk.tab.winback"],
];

function riskItem(node, kind) {
  const risk = kind === "CHURN" ? node.risk?.churn : node.risk?.downgrade;
  const change = (node.tierHistory || []).find((c) => c.direction === "DOWN");
  return h(
    "li",
    { class: "risk-item", dataset: { id: node.id } },
    h(
      "div",
      { class: "risk-head" },
      customerLink(node.id, `${dash(node.name)} · ${node.id}`),
      tierBadge(node.value?.tier),
      kind === "WIN_BACK" ? null : riskBadge(risk?.level),
      h("span", { class: "muted num" }, ` ${fmtMoney(node.aum)}`)
    ),
    kind === "WIN_BACK"
      ? h(
          "ul",
          { class: "reasons" },
          h(
            "li",
            {},
            change
              ? t("winback.change", t(`tier.${change.fromTier}`, change.fromTier), t(`tier.${change.toTier}`, change.toTier), fmtDay(change.changedAt))
              : t("winback.was", t(`tier.${node.value?.previousTier}`, dash(node.value?.previousTier)))
          )
        )
      : h("ul", { class: "reasons" }, (risk?.details || []).map((r) => h("li", { dataset: { code: r.code } }, r.text)))
  );
}

function atRiskCard() {
  const box = h("div", { id: "at-risk", "aria-live": "polite", role: "tabpanel" }, h("p", { class: "muted" }, t("loading")));
  const load = pagedList(
    box,
    riskState,
    "risk",
    async (after) =>
      riskState.kind === "WIN_BACK"
        ? (await gql(WIN_BACK, { after })).winBackCustomers
        : (await gql(AT_RISK, { kind: riskState.kind, after })).atRiskCustomers,
    (conn) => h("ul", { class: "risk-list" }, conn.edges.map(({ node }) => riskItem(node, riskState.kind))),
    "search.total"
  );
  const tabs = h(
    "div",
    { class: "tabs", role: "tablist", "aria-label": t("risk.title") },
    RISK_TABS.map(([kind, key]) =>
      h(
        "button",
        {
          type: "button",
          role: "tab",
          class: "tab",
          id: `risk-tab-${kind.toLowerCase()}`,
          "aria-selected": String(riskState.kind === kind),
          onclick: (ev) => {
            riskState.kind = kind;
            resetPager(riskState);
            for (const b of tabs.children) b.setAttribute("aria-selected", String(b === ev.currentTarget));
            box.dataset.kind = kind;
            load();
          },
        },
        t(key)
      )
    )
  );
  tabs.addEventListener("keydown", (ev) => {
    // the tab pattern's keyboard: left and right arrows move between the tabs and open them
    const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
    if (!step) return;
    const list = [...tabs.children];
    const next = list[(list.indexOf(document.activeElement) + step + list.length) % list.length];
    next.focus();
    next.click();
    ev.preventDefault();
  });
  box.dataset.kind = riskState.kind;
  load();
  return card("risk", "risk.title", h("div", {}, tabs, box));
}

// ---- the branch manager: unassigned CORE and KEY customers first, with an assign action
function unassignedCard() {
  let rms = []; // the branch's relationship managers, from the coverage query
  const box = h("div", { id: "unassigned", "aria-live": "polite" }, h("p", { class: "muted" }, t("loading")));
  const assign = async (node, select, btn, msg) => {
    if (!select.value) {
      msg.textContent = t("assign.pick");
      return;
    }
    btn.disabled = true;
    try {
      const { assignRelationshipManager: done } = await gql(ASSIGN, {
        input: { clientMutationId: mutationId(), customerId: node.id, employeeId: select.value },
      });
      toast(t("assign.done", node.id, done.relationshipManager?.name || select.value));
      await Promise.all([load(), reloadCoverage()]); // the customer leaves the list
    } catch (e) {
      msg.textContent = `${e.code}: ${e.message}`;
      btn.disabled = false;
    }
  };
  const load = pagedList(
    box,
    unassignedState,
    "ua",
    async (after) => (await gql(UNASSIGNED, { after })).unassignedCustomers,
    (conn) =>
      h(
        "table",
        { class: "grid" },
        h("thead", {}, h("tr", {}, ["fu.customer", "col.tier", "col.aum", "assign.rm"].map((k) => h("th", { scope: "col" }, t(k))))),
        h(
          "tbody",
          {},
          conn.edges.map(({ node }) => {
            const uid = `ua-${node.id}`;
            const select = h(
              "select",
              { id: `${uid}-rm`, class: "ua-rm", "aria-label": t("assign.rmFor", node.id) },
              h("option", { value: "" }, t("assign.choose")),
              rms.map((r) => h("option", { value: r.employee.id }, t("assign.option", dash(r.employee.name), r.employee.id, r.customers)))
            );
            const msg = h("span", { class: "form-status ua-msg", role: "status" });
            const btn = h("button", { type: "button", class: "btn small ua-assign" }, t("assign.submit"));
            btn.addEventListener("click", () => assign(node, select, btn, msg));
            return h(
              "tr",
              { class: "ua-row", dataset: { id: node.id, tier: node.value?.tier || "" } },
              h("td", {}, customerLink(node.id, `${dash(node.name)} · ${node.id}`)),
              h("td", {}, tierBadge(node.value?.tier)),
              h("td", { class: "num" }, fmtMoney(node.aum)),
              h("td", { class: "ua-action" }, select, btn, msg)
            );
          })
        )
      ),
    "assign.total"
  );
  let reloadCoverage = async () => {};
  const section = card("unassigned", "assign.title", box);
  section.load = load;
  section.onAssigned = (fn) => (reloadCoverage = fn);
  section.setRms = (list) => {
    const same = list.length === rms.length && list.every((r, i) => r.employee.id === rms[i].employee.id);
    rms = list;
    if (!same) load(); // the pickers offer them
  };
  return section;
}

// ---- the branch's coverage: customers per tier with and without an RM, follow-up coverage
function coverageCard(branchId, onRms) {
  const box = h("div", { id: "coverage", "aria-live": "polite" }, h("p", { class: "muted" }, t("loading")));
  const pct = (n) => (n === null || n === undefined ? "—" : `${(Number(n) * 100).toFixed(1)} %`);
  const load = async () => {
    try {
      const { branchCoverage: c, followUpCoverage: f } = await gql(COVERAGE, { branchId });
      onRms?.(c.relationshipManagers || []);
      const contact = Object.fromEntries((f?.tiers || []).map((x) => [x.tier, x]));
      box.replaceChildren(
        h(
          "table",
          { class: "grid coverage" },
          h("thead", {}, h("tr", {}, ["col.tier", "cov.customers", "cov.withRm", "cov.withoutRm", "cov.contacted"].map((k) => h("th", { scope: "col" }, t(k))))),
          h(
            "tbody",
            {},
            c.tiers.map((x) => {
              const plan = contact[x.tier];
              const met = plan?.meetsTarget == null ? "" : plan.meetsTarget ? "ok" : "bad";
              return h(
                "tr",
                { class: "cov-row", dataset: { tier: x.tier || "", without: String(x.withoutRelationshipManager) } },
                h("td", {}, x.tier ? tierBadge(x.tier) : t("cov.unscored")),
                h("td", { class: "num" }, String(x.customers)),
                h("td", { class: "num" }, String(x.withRelationshipManager)),
                h("td", { class: `num cov-without${x.withoutRelationshipManager && x.tier !== "ORDINARY" ? " overdue" : ""}` }, String(x.withoutRelationshipManager)),
                h("td", { class: `num cov-contacted ${met}`, title: plan ? t("cov.plan", plan.intervalDays, plan.covered, plan.customers) : null }, plan ? pct(plan.share) : t("cov.noPlan"))
              );
            })
          ),
          h(
            "tfoot",
            {},
            h(
              "tr",
              { class: "cov-total" },
              h("th", { scope: "row" }, t("cov.total")),
              h("td", { class: "num" }, String(c.customers)),
              h("td", { class: "num" }, String(c.withRelationshipManager)),
              h("td", { class: "num" }, String(c.withoutRelationshipManager)),
              h("td", {})
            )
          )
        ),
        h("p", { class: "muted", id: "coverage-branch" }, t("cov.branch", dash(c.branch?.name), c.branch?.id || ""), f?.target != null ? ` · ${t("cov.target", pct(f.target))}` : "")
      );
      box.dataset.loaded = String(Number(box.dataset.loaded || 0) + 1);
    } catch (e) {
      box.replaceChildren(errorBox(e));
    }
  };
  const section = card("coverage", "cov.title", box);
  section.load = load;
  return section;
}

function homeView() {
  const left = [searchCard()];
  const right = [];
  if (allowed([BM])) {
    // the branch manager's day: the customers without an RM (CORE and KEY first), coverage
    const unassigned = unassignedCard();
    const coverage = coverageCard(myBranch, unassigned.setRms);
    unassigned.onAssigned(coverage.load);
    unassigned.load();
    coverage.load();
    left.push(unassigned, followUpsCard());
    right.push(coverage, alertsCard(), atRiskCard());
  } else if (allowed([RM, ADMIN])) {
    // the relationship manager's day
    left.push(followUpsCard());
    right.push(alertsCard(), atRiskCard());
  } else {
    right.push(atRiskCard());
  }
  return h("div", { class: "home" }, h("div", { class: "col" }, left), h("div", { class: "col" }, right));
}

// ---------------------------------------------------------------- customer page
const PROFILE = `query($id: ID!) { customer(id: $id) {
  id name gender birthYear phone email nationalIdLast4 address city segment status aum
  holdings { role account { id productType productName balance currency maturityDate } }
  householdMembership { role since household { id name aum tier } }
  value { tier previousTier score clv lifecycleStage components { name weight raw score } }
  risk { downgrade { level projectedAum floor evaluationDate reasons } churn { level reasons } }
  recommendations { name reason support }
  relationshipManager { id name }
  timeline(first: 20) { totalCount nodes { id occurredAt channel kind summary outcome nextStep nextStepDue severity slaStatus resolvedAt
    satisfaction nps status sourceSlaStatus category causeType causeSubtype acknowledgedAt acknowledgedBy
    responseDueAt resolutionDueAt handlingHours surveyRequested handledBy
    progress { at by note visibleToCustomer } } }
} }`;
const NETWORK = `query($id: ID!) { network(customerId: $id, depth: 2, maxNodes: 60) {
  truncated nodes { id kind label tier restricted } edges { source target type role } } }`;
const LOG = `mutation($input: LogInteractionInput!) { logInteraction(input: $input) { created interaction { id } } }`;
const OPEN = `mutation($input: OpenComplaintInput!) { openComplaint(input: $input) { created interaction { id } } }`;
const RESOLVE = `mutation($input: ResolveComplaintInput!) { resolveComplaint(input: $input) { created interaction { id slaStatus } } }`;
const ACKNOWLEDGE = `mutation($input: AcknowledgeComplaintInput!) { acknowledgeComplaint(input: $input) { created interaction { id status } } }`;
const PROGRESS = `mutation($input: AddComplaintProgressInput!) { addComplaintProgress(input: $input) { created interaction { id status } } }`;
const CLOSE = `mutation($input: CloseComplaintInput!) { closeComplaint(input: $input) { created interaction { id status } } }`;
const REOPEN = `mutation($input: ReopenComplaintInput!) { reopenComplaint(input: $input) { created interaction { id status } } }`;
const SURVEY = `mutation($input: RecordSurveyInput!) { recordSurvey(input: $input) { created interaction { id } } }`;
const SATISFACTION = `query($id: ID!) { customer(id: $id) { id satisfaction {
  last { csat nps channel at } average6m averagePrevious6m trend byChannel { channel average count } } } }`;
const TAXONOMY = `query { complaintTaxonomy { code label labelEn causes { type label labelEn subtypes } } }`;
const COMPLAINTS = `query($filter: ComplaintFilter, $first: Int, $after: String) {
  complaints(filter: $filter, orderBy: DUE_AT, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id kind channel severity summary outcome occurredAt status slaStatus sourceSlaStatus
      category causeType causeSubtype acknowledgedAt acknowledgedBy responseDueAt resolutionDueAt resolvedAt
      handlingHours surveyRequested handledBy customerId customerName
      progress { at by note visibleToCustomer } } } } }`;
const COMPLAINT_STATS = `query($period: PeriodInput) { complaintStats(period: $period) {
  opened resolved open atRisk breached firstResponseWithin24hPct averageHandlingHours p90HandlingHours
  majorWithin4hPct targetAverageHandlingHours } }`;
const CHANNELS = ["VISIT", "PHONE", "BRANCH", "APP", "WEB", "WECHAT", "SMS", "EMAIL"];

const mutationId = () =>
  (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`).toString();

function dl(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.map(([k, v, id]) => [h("dt", {}, t(k)), h("dd", id ? { id } : {}, v instanceof Node ? v : dash(v))])
  );
}

function valueChart(components) {
  if (!components?.length) return h("p", { class: "muted" }, t("none"));
  return h(
    "div",
    { class: "bars", role: "list", "aria-label": t("value.components") },
    components.map((c) => {
      const bar = h("span", { class: "bar-fill" });
      bar.style.width = `${Math.max(0, Math.min(100, c.score))}%`; // CSSOM, allowed by the CSP
      return h(
        "div",
        { class: "bar-row", role: "listitem" },
        h("span", { class: "bar-label" }, t(`comp.${c.name}`, c.name), h("small", {}, ` ×${c.weight}`)),
        h("span", { class: "bar-track" }, bar),
        h("span", { class: "bar-value" }, c.score.toFixed(0))
      );
    })
  );
}

function timeline(conn, reload) {
  if (!conn) return h("p", { class: "muted" }, t("none"));
  return h(
    "ol",
    { class: "timeline", id: "timeline" },
    conn.nodes.map((i) => {
      const status = caseStatus(i);
      const item = h(
        "li",
        { class: `tl-item kind-${(i.kind || "").toLowerCase()}`, dataset: status ? { id: i.id, status } : { id: i.id } },
        h("time", {}, fmtDate(i.occurredAt)),
        h("span", { class: "badge" }, t(`kind.${i.kind}`, i.kind)),
        h("span", { class: "badge ghost" }, t(`channel.${i.channel}`, i.channel)),
        status
          ? [
              i.severity ? sevBadge(i.severity) : null,
              statusBadge(status),
              i.slaStatus ? slaBadge(i.slaStatus) : null,
            ]
          : null,
        scoreBadges(i),
        h("span", { class: "tl-summary" }, dash(i.summary)),
        i.outcome ? h("span", { class: "muted" }, ` → ${i.outcome}`) : null,
        i.nextStep ? h("span", { class: "muted tl-next" }, ` · ${t("log.next", i.nextStep, i.nextStepDue ? fmtDay(i.nextStepDue) : "—")}`) : null,
        i.category ? [" · ", categorySpan(i)] : null
      );
      if (status) {
        const holder = (panel) => h("li", { class: "tl-panel", dataset: { id: i.id } }, panel);
        item.append(" ", panelToggle({ ...i, status }, reload, item, holder));
      }
      return item;
    })
  );
}

// The forms of the customer page, each shown to the roles that may use it. `complaints` are the
// tracked cases of the timeline (the survey's related complaint is chosen among them).
function actionForms(customerId, reload, complaints) {
  const channel = (id) =>
    h("select", { id, name: "channel" }, CHANNELS.map((c) => h("option", { value: c }, t(`channel.${c}`, c))));
  const logSummary = h("input", { id: "log-summary", name: "summary", required: true, maxlength: 500 });
  const logChannel = channel("log-channel");
  // a follow-up, a call, or a visit with its report (outcome and next step, required by the API)
  const logKind = h("select", { id: "log-kind", name: "kind" }, CONTACT_KINDS.map((k) => h("option", { value: k }, t(`kind.${k}`, k))));
  const logOutcome = h("input", { id: "log-outcome", name: "outcome", maxlength: 500 });
  const logNext = h("input", { id: "log-next-step", name: "nextStep", maxlength: 500 });
  const logNextDue = h("input", { id: "log-next-due", name: "nextStepDue", type: "date" });
  const report = h(
    "div",
    { class: "visit-report", id: "log-report" },
    h("div", { class: "field" }, h("label", { for: "log-outcome" }, t("log.outcome")), logOutcome),
    h(
      "div",
      { class: "field-row" },
      h("div", { class: "field" }, h("label", { for: "log-next-step" }, t("log.nextStep")), logNext),
      h("div", { class: "field" }, h("label", { for: "log-next-due" }, t("log.nextStepDue")), logNextDue)
    )
  );
  const syncKind = () => {
    const visit = logKind.value === "VISIT";
    report.hidden = !visit;
    logOutcome.required = logNext.required = visit;
    if (visit) logChannel.value = "VISIT";
    else if (logKind.value === "CALL") logChannel.value = "PHONE";
  };
  logKind.addEventListener("change", syncKind);
  syncKind();
  const logForm = h(
    "form",
    {
      class: "action",
      id: "log-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const btn = ev.target.querySelector("button[type=submit]");
        btn.disabled = true;
        const visit = logKind.value === "VISIT";
        try {
          await gql(LOG, {
            input: {
              clientMutationId: mutationId(),
              customerId,
              channel: logChannel.value,
              kind: logKind.value,
              summary: logSummary.value.trim(),
              outcome: visit ? logOutcome.value.trim() : null,
              nextStep: visit ? logNext.value.trim() : null,
              nextStepDue: visit && logNextDue.value ? logNextDue.value : null,
            },
          });
          logSummary.value = logOutcome.value = logNext.value = logNextDue.value = "";
          toast(t("log.done"));
          await reload();
        } catch (e) {
          toast(`${e.code}: ${e.message}`);
        } finally {
          btn.disabled = false;
        }
      },
    },
    h("h3", {}, t("log.title")),
    h("div", { class: "field" }, h("label", { for: "log-kind" }, t("log.kind")), logKind),
    h("div", { class: "field" }, h("label", { for: "log-channel" }, t("col.channel")), logChannel),
    h("div", { class: "field" }, h("label", { for: "log-summary" }, t("col.summary")), logSummary),
    report,
    h("button", { type: "submit", class: "btn primary", id: "log-submit" }, t("log.submit"))
  );
  const cSummary = h("input", { id: "complaint-summary", name: "summary", required: true, maxlength: 500 });
  const cChannel = channel("complaint-channel");
  const cKind = h(
    "select",
    { id: "complaint-kind", name: "kind" },
    TRACKED_KINDS.map((k) => h("option", { value: k }, t(`kind.${k}`, k)))
  );
  const cSeverity = h(
    "select",
    { id: "complaint-severity" },
    ["MINOR", "MAJOR"].map((s) => h("option", { value: s }, t(`sev.${s}`)))
  );
  const cCategory = h("select", { id: "complaint-category", name: "category" }, h("option", { value: "" }, t("complaint.noCategory")));
  loadTaxonomy()
    .then((tax) => cCategory.append(...tax.map((c) => h("option", { value: c.code }, label(c)))))
    .catch(() => {}); // without the taxonomy a case opens uncategorised; it is chosen at resolution
  const complaintForm = h(
    "form",
    {
      class: "action",
      id: "complaint-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const btn = ev.target.querySelector("button");
        btn.disabled = true;
        try {
          await gql(OPEN, {
            input: {
              clientMutationId: mutationId(),
              customerId,
              channel: cChannel.value,
              severity: cSeverity.value,
              summary: cSummary.value.trim(),
              kind: cKind.value,
              category: cCategory.value || null,
            },
          });
          cSummary.value = "";
          toast(t("complaint.opened"));
          await reload();
        } catch (e) {
          toast(`${e.code}: ${e.message}`);
        } finally {
          btn.disabled = false;
        }
      },
    },
    h("h3", {}, t("complaint.title")),
    h("div", { class: "field" }, h("label", { for: "complaint-kind" }, t("complaint.kind")), cKind),
    h("div", { class: "field" }, h("label", { for: "complaint-channel" }, t("col.channel")), cChannel),
    h("div", { class: "field" }, h("label", { for: "complaint-severity" }, t("col.severity")), cSeverity),
    h("div", { class: "field" }, h("label", { for: "complaint-category" }, t("complaint.category")), cCategory),
    h("div", { class: "field" }, h("label", { for: "complaint-summary" }, t("col.summary")), cSummary),
    h("button", { type: "submit", class: "btn", id: "complaint-submit" }, t("complaint.submit"))
  );
  const survey = allowed(SURVEYORS) ? surveyForm(customerId, reload, complaints) : null;
  const box = h(
    "div",
    { class: "actions" },
    allowed(LOGGERS) ? logForm : null,
    allowed(OPENERS) ? complaintForm : null,
    survey
  );
  box.setCases = (list) => survey?.setCases(list);
  return box;
}

function surveyForm(customerId, reload, complaints) {
  const numbers = (id, lo, hi) =>
    h(
      "select",
      { id, class: "score-select" },
      h("option", { value: "" }, "—"),
      Array.from({ length: hi - lo + 1 }, (_, k) => h("option", { value: String(lo + k) }, String(lo + k)))
    );
  const sChannel = h("select", { id: "survey-channel", name: "channel" }, CHANNELS.map((c) => h("option", { value: c }, t(`channel.${c}`, c))));
  const csat = numbers("survey-csat", 1, 5);
  const nps = numbers("survey-nps", 0, 10);
  const comment = h("input", { id: "survey-comment", name: "comment", maxlength: 2000 });
  const related = h("select", { id: "survey-related", name: "related" });
  const setCases = (list) => {
    const chosen = related.value;
    related.replaceChildren(
      h("option", { value: "" }, t("survey.none")),
      ...(list || []).map((c) =>
        h("option", { value: c.id }, `${fmtDate(c.occurredAt)} · ${t(`kind.${c.kind}`, c.kind)} · ${dash(c.summary)}`)
      )
    );
    if ([...related.options].some((o) => o.value === chosen)) related.value = chosen;
  };
  setCases(complaints);
  const msg = h("p", { class: "form-status", role: "status" });
  const form = h(
    "form",
    {
      class: "action",
      id: "survey-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        msg.textContent = "";
        if (!csat.value && !nps.value) {
          msg.textContent = t("survey.needScore");
          return;
        }
        const btn = ev.target.querySelector("button");
        btn.disabled = true;
        try {
          await gql(SURVEY, {
            input: {
              clientMutationId: mutationId(),
              customerId,
              channel: sChannel.value,
              csat: csat.value ? Number(csat.value) : null,
              nps: nps.value ? Number(nps.value) : null,
              comment: comment.value.trim() || null,
              relatedComplaintId: related.value || null,
            },
          });
          csat.value = nps.value = comment.value = "";
          toast(t("survey.done"));
          await reload();
        } catch (e) {
          msg.textContent = `${e.code}: ${e.message}`;
        } finally {
          btn.disabled = false;
        }
      },
    },
    h("h3", {}, t("survey.title")),
    h("div", { class: "field" }, h("label", { for: "survey-channel" }, t("col.channel")), sChannel),
    h(
      "div",
      { class: "field-row" },
      h("div", { class: "field" }, h("label", { for: "survey-csat" }, t("survey.csat")), csat),
      h("div", { class: "field" }, h("label", { for: "survey-nps" }, t("survey.nps")), nps)
    ),
    h("div", { class: "field" }, h("label", { for: "survey-comment" }, t("survey.comment")), comment),
    h("div", { class: "field" }, h("label", { for: "survey-related" }, t("survey.related")), related),
    h("button", { type: "submit", class: "btn", id: "survey-submit" }, t("survey.submit")),
    msg
  );
  form.setCases = setCases;
  return form;
}

// The customer's satisfaction: the last survey, the 6-month averages and their trend, by channel.
function satisfactionView(customerId) {
  const body = h("div", { id: "satisfaction-body" }, h("p", { class: "muted" }, t("loading")));
  const section = h(
    "section",
    { class: "card", id: "satisfaction", "aria-labelledby": "h-sat" },
    h("h2", { id: "h-sat" }, t("sat.title")),
    body
  );
  const fmt1 = (n) => (n === null || n === undefined ? "—" : Number(n).toFixed(1));
  section.reload = () =>
    gql(SATISFACTION, { id: customerId })
      .then(({ customer }) => {
        const s = customer.satisfaction;
        if (!s) {
          body.replaceChildren(h("p", { class: "muted" }, t("hidden")));
          return;
        }
        if (!s.last && !s.byChannel?.length) {
          body.replaceChildren(h("p", { class: "muted", id: "sat-empty" }, t("sat.empty")));
          return;
        }
        const last = s.last
          ? [
              s.last.csat != null ? h("span", { class: "badge score csat" }, `CSAT ${s.last.csat}`) : null,
              s.last.nps != null ? h("span", { class: "badge score nps" }, `NPS ${s.last.nps}`) : null,
              ` ${t(`channel.${s.last.channel}`, s.last.channel || "")} · ${fmtDate(s.last.at)}`,
            ]
          : null;
        body.replaceChildren(
          dl([
            ["sat.last", last ? h("span", { id: "sat-last" }, last) : null],
            ["sat.avg6m", h("span", { id: "sat-avg6m" }, fmt1(s.average6m))],
            ["sat.prev6m", h("span", { id: "sat-prev6m" }, fmt1(s.averagePrevious6m))],
            [
              "sat.trend",
              s.trend
                ? h("span", { class: `badge trend trend-${s.trend.toLowerCase()}`, id: "sat-trend", dataset: { trend: s.trend } }, t(`trend.${s.trend}`, s.trend))
                : null,
            ],
          ]),
          s.byChannel?.length
            ? h(
                "table",
                { class: "grid", id: "sat-by-channel" },
                h("thead", {}, h("tr", {}, ["col.channel", "sat.average", "sat.count"].map((k) => h("th", { scope: "col" }, t(k))))),
                h(
                  "tbody",
                  {},
                  s.byChannel.map((b) =>
                    h(
                      "tr",
                      { dataset: { channel: b.channel } },
                      h("td", {}, t(`channel.${b.channel}`, b.channel)),
                      h("td", { class: "num" }, fmt1(b.average)),
                      h("td", { class: "num" }, String(b.count))
                    )
                  )
                )
              )
            : null
        );
      })
      .catch((e) => body.replaceChildren(errorBox(e)));
  section.reload();
  return section;
}

const EDGE_COLORS = { HOUSEHOLD: "#6b7280", JOINT_ACCOUNT: "#b45309", REFERRAL: "#2563eb" };

function networkView(customerId) {
  const box = h("div", { id: "network-graph", class: "graph", "aria-hidden": "true" });
  const list = h("ul", { id: "network-list", class: "net-list" });
  const note = h("p", { id: "network-status", class: "muted" }, t("loading"));
  const section = h(
    "section",
    { class: "card network", "aria-labelledby": "h-net" },
    h("h2", { id: "h-net" }, t("net.title")),
    note,
    h("div", { class: "net-body" }, box, h("nav", { "aria-label": t("net.title") }, list))
  );
  gql(NETWORK, { id: customerId })
    .then(({ network }) => {
      note.replaceChildren(
        t("net.count", network.nodes.length, network.edges.length),
        network.truncated ? h("span", { class: "badge warn", id: "network-truncated" }, t("net.truncated")) : ""
      );
      const elements = [
        ...network.nodes.map((n) => ({
          data: {
            id: n.id,
            label: n.kind === "CUSTOMER" ? `${n.label || n.id}` : n.label || n.id,
            kind: n.kind,
            restricted: n.restricted ? 1 : 0,
            centre: n.id === customerId ? 1 : 0,
          },
        })),
        ...network.edges.map((e, i) => ({
          data: {
            id: `e${i}`,
            source: e.source,
            target: e.target,
            type: e.type,
            label: e.role ? t(`hrole.${e.role}`, e.role) : "",
          },
        })),
      ];
      box.dataset.nodes = String(network.nodes.length);
      const cy = cytoscape({
        container: box,
        elements,
        layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: () => 8000 },
        style: [
          {
            selector: "node",
            style: {
              label: "data(label)",
              "font-size": 11,
              "text-valign": "bottom",
              "text-margin-y": 4,
              "background-color": "#0f766e",
              width: 26,
              height: 26,
            },
          },
          { selector: "node[kind = 'HOUSEHOLD']", style: { shape: "round-rectangle", "background-color": "#a16207" } },
          { selector: "node[kind = 'ACCOUNT']", style: { shape: "diamond", "background-color": "#b45309" } },
          { selector: "node[restricted = 1]", style: { "background-color": "#9ca3af", "border-width": 2, "border-style": "dashed", "border-color": "#4b5563" } },
          { selector: "node[centre = 1]", style: { "border-width": 4, "border-color": "#1d4ed8", width: 34, height: 34 } },
          {
            selector: "edge",
            style: {
              width: 2,
              "curve-style": "bezier",
              label: "data(label)",
              "font-size": 9,
              "text-rotation": "autorotate",
              "line-color": "#9ca3af",
            },
          },
          ...Object.entries(EDGE_COLORS).map(([type, color]) => ({
            selector: `edge[type = '${type}']`,
            style: { "line-color": color, "target-arrow-color": color },
          })),
          { selector: "edge[type = 'REFERRAL']", style: { "target-arrow-shape": "triangle", "line-style": "dashed" } },
        ],
      });
      cy.on("tap", "node", (ev) => {
        const d = ev.target.data();
        if (d.kind === "CUSTOMER" && !d.restricted && d.id !== customerId) location.hash = `#/customer/${encodeURIComponent(d.id)}`;
      });
      box.dataset.drawn = "1";
      // where each node sits on the canvas (for tests and for tooling: the canvas has no DOM)
      const where = {};
      cy.nodes().forEach((n) => {
        const p = n.renderedPosition();
        where[n.id()] = [Math.round(p.x), Math.round(p.y)];
      });
      // The same network as a list: keyboard and screen-reader users open people from here.
      list.replaceChildren(
        ...network.nodes.map((n) =>
          h(
            "li",
            {
              class: `net-node kind-${n.kind.toLowerCase()}`,
              dataset: { id: n.id, kind: n.kind, x: where[n.id]?.[0], y: where[n.id]?.[1] },
            },
            h("span", { class: "badge ghost" }, t(`node.${n.kind}`, n.kind)),
            " ",
            n.kind === "CUSTOMER" && !n.restricted && n.id !== customerId
              ? customerLink(n.id, `${dash(n.label)} (${n.id})`)
              : h("span", {}, `${dash(n.label)} (${n.id})`),
            n.restricted ? h("span", { class: "muted" }, ` · ${t("net.restricted")}`) : null,
            n.tier ? [" ", tierBadge(n.tier)] : null
          )
        ),
        ...network.edges
          .filter((e) => e.type === "REFERRAL")
          .map((e) => h("li", { class: "net-edge" }, `${e.source} → ${e.target} (${t("net.referral")})`))
      );
    })
    .catch((e) => note.replaceChildren(errorBox(e)));
  return section;
}

function customerView(id) {
  const root = h("div", { class: "customer", id: "customer-page" }, h("p", { class: "muted" }, t("loading")));
  const load = async (first) => {
    let c;
    try {
      c = (await gql(PROFILE, { id })).customer;
    } catch (e) {
      root.replaceChildren(h("p", {}, h("a", { href: "#/" }, `← ${t("back")}`)), errorBox(e));
      return;
    }
    const timelineSection = h(
      "section",
      { class: "card", "aria-labelledby": "h-tl" },
      h("h2", { id: "h-tl" }, t("tl.title"), h("small", { class: "muted" }, ` (${c.timeline?.totalCount ?? 0})`)),
      timeline(c.timeline, () => load(false))
    );
    const cases = (tl) => (tl?.nodes || []).filter((i) => caseStatus(i));
    const satisfaction = satisfactionView(id);
    let forms = null;
    const writable = allowed([...LOGGERS, ...OPENERS, ...SURVEYORS]);
    const reloadTimeline = async () => {
      const fresh = (await gql(PROFILE, { id })).customer;
      timelineSection.replaceChildren(
        h("h2", { id: "h-tl" }, t("tl.title"), h("small", { class: "muted" }, ` (${fresh.timeline?.totalCount ?? 0})`)),
        timeline(fresh.timeline, reloadTimeline)
      );
      satisfaction.reload(); // a survey or a resolved complaint changes the scores
      forms?.setCases(cases(fresh.timeline)); // the survey's related-complaint choice follows the timeline
    };
    timelineSection.lastChild.replaceWith(timeline(c.timeline, reloadTimeline));
    if (writable) forms = actionForms(id, reloadTimeline, cases(c.timeline));
    const d = c.risk?.downgrade;
    const ch = c.risk?.churn;
    const kids = [
      h("p", {}, h("a", { href: "#/" }, `← ${t("back")}`)),
      h(
        "div",
        { class: "title-row" },
        h("h1", { id: "customer-name" }, dash(c.name)),
        h("span", { class: "muted" }, c.id),
        tierBadge(c.value?.tier)
      ),
      h(
        "div",
        { class: "cols" },
        h(
          "section",
          { class: "card", "aria-labelledby": "h-id" },
          h("h2", { id: "h-id" }, t("id.title")),
          dl([
            ["col.phone", c.phone, "f-phone"],
            ["col.email", c.email, "f-email"],
            ["col.address", c.address, "f-address"],
            ["col.city", c.city],
            ["col.birthYear", c.birthYear],
            ["col.idLast4", c.nationalIdLast4],
            ["col.segment", c.segment],
            ["col.status", c.status],
            ["col.rm", c.relationshipManager ? `${dash(c.relationshipManager.name)} (${c.relationshipManager.id})` : null],
            [
              "col.household",
              c.householdMembership
                ? `${dash(c.householdMembership.household?.name)} · ${t(`hrole.${c.householdMembership.role}`, c.householdMembership.role)} · ${fmtMoney(c.householdMembership.household?.aum)}`
                : null,
            ],
          ])
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "h-acc" },
          h("h2", { id: "h-acc" }, t("acc.title"), " · AUM ", h("span", { id: "aum" }, fmtMoney(c.aum))),
          h(
            "table",
            { class: "grid" },
            h("thead", {}, h("tr", {}, ["col.account", "col.product", "col.role", "col.balance"].map((k) => h("th", { scope: "col" }, t(k))))),
            h(
              "tbody",
              {},
              c.holdings.map(({ role, account: a }) =>
                h(
                  "tr",
                  {},
                  h("td", {}, a.id),
                  h("td", {}, `${t(`ptype.${a.productType}`, a.productType)}${a.productName ? ` · ${a.productName}` : ""}`),
                  h("td", {}, t(`hold.${role}`, role || "—")),
                  h("td", { class: "num" }, `${fmtMoney(a.balance)} ${a.currency}`)
                )
              )
            )
          )
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "h-val" },
          h("h2", { id: "h-val" }, t("value.title"), c.value?.score != null ? ` · ${c.value.score.toFixed(1)}` : ""),
          c.value
            ? [
                valueChart(c.value.components),
                dl([
                  ["value.clv", fmtMoney(c.value.clv)],
                  ["value.stage", c.value.lifecycleStage ? t(`stage.${c.value.lifecycleStage}`, c.value.lifecycleStage) : null],
                  ["value.previous", c.value.previousTier ? t(`tier.${c.value.previousTier}`) : null],
                ]),
              ]
            : h("p", { class: "muted" }, t("hidden"))
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "h-risk2" },
          h("h2", { id: "h-risk2" }, t("risk.detail")),
          c.risk
            ? [
                h("h3", {}, t("risk.downgrade"), " ", riskBadge(d.level)),
                h("p", { class: "muted" }, t("risk.projection", fmtMoney(d.projectedAum), fmtMoney(d.floor), dash(d.evaluationDate))),
                h("ul", { class: "reasons", id: "downgrade-reasons" }, d.reasons.map((r) => h("li", {}, r))),
                h("h3", {}, t("risk.churn"), " ", riskBadge(ch.level)),
                h("ul", { class: "reasons" }, ch.reasons.map((r) => h("li", {}, r))),
              ]
            : h("p", { class: "muted" }, t("hidden"))
        ),
        h(
          "section",
          { class: "card", "aria-labelledby": "h-rec" },
          h("h2", { id: "h-rec" }, t("rec.title")),
          c.recommendations?.length
            ? h(
                "ul",
                { class: "reasons" },
                c.recommendations.map((r) =>
                  h("li", {}, h("strong", {}, r.name), ` — ${r.reason} (${Math.round(r.support * 100)}%)`)
                )
              )
            : h("p", { class: "muted" }, c.recommendations ? t("none") : t("hidden"))
        )
      ),
      networkView(id),
      satisfaction,
      forms,
      timelineSection,
    ];
    root.replaceChildren(...kids);
    if (first) document.getElementById("customer-name")?.focus?.();
  };
  load(true);
  return root;
}

// ---------------------------------------------------------------- service desk
// Complaints, suggestions and questions in one tracker: the queue (due first, at risk and breached
// at the top), the lifecycle steps the caller's role may take in the case's state, the taxonomy
// chosen at resolution, and the service-level figures against the bank's targets.
const allowed = (roles) => myRoles.some((r) => roles.includes(r));
const may = (step, status) => LIFECYCLE[step].from.includes(status) && allowed(LIFECYCLE[step].roles);
const label = (entry) => (lang() === "en" ? entry.labelEn || entry.label : entry.label || entry.labelEn);

// The case's state; a complaint the service desk has not migrated yet reads as before (resolved or not).
function caseStatus(i) {
  if (i.status) return i.status;
  if (i.kind === "COMPLAINT") return i.resolvedAt ? "RESOLVED" : "OPEN";
  return null;
}
const statusBadge = (status) =>
  h("span", { class: `badge cstatus cstatus-${status.toLowerCase()}`, dataset: { status } }, t(`cstatus.${status}`, status));
const slaBadge = (sla) =>
  h("span", { class: `badge sla sla-${sla.toLowerCase()}`, dataset: { sla } }, t(`sla.${sla}`, sla));
const sevBadge = (sev) => h("span", { class: `badge sev-${sev.toLowerCase()}` }, t(`sev.${sev}`, sev));
function scoreBadges(i) {
  return [
    i.satisfaction != null ? h("span", { class: "badge score csat" }, `CSAT ${i.satisfaction}`) : null,
    i.nps != null ? h("span", { class: "badge score nps" }, `NPS ${i.nps}`) : null,
  ];
}

let taxonomyPromise = null;
let taxonomyCache = null;
function loadTaxonomy() {
  if (!taxonomyPromise) {
    taxonomyPromise = gql(TAXONOMY).then(
      (d) => (taxonomyCache = d.complaintTaxonomy),
      (e) => {
        taxonomyPromise = null; // asked again next time
        throw e;
      }
    );
  }
  return taxonomyPromise;
}
// "category · cause · subtype", in the page's language when the taxonomy knows the codes.
function categoryText(i) {
  const cat = taxonomyCache?.find((c) => c.code === i.category);
  const cause = cat?.causes.find((c) => c.type === i.causeType);
  return [cat ? label(cat) : i.category, cause ? label(cause) : i.causeType, i.causeSubtype]
    .filter(Boolean)
    .join(" · ");
}
function categorySpan(i) {
  const el = h("span", { class: "case-category", dataset: { category: i.category || "" } }, categoryText(i));
  if (!taxonomyCache && i.category) loadTaxonomy().then(() => (el.textContent = categoryText(i)), () => {});
  return el;
}

const expanded = new Set(); // the cases whose panel is open, kept across reloads
let panelSeq = 0;

// A "Handle" button that opens the case's panel after `anchor` (a timeline item or a queue row).
function panelToggle(c, reload, anchor, makeHolder = (panel) => panel) {
  let holder = null;
  const btn = h("button", { type: "button", class: "btn small cp-toggle", "aria-expanded": "false" }, t("tl.handle"));
  const open = () => {
    holder = makeHolder(complaintPanel(c, reload));
    anchor.after(holder);
    btn.setAttribute("aria-expanded", "true");
    expanded.add(c.id);
  };
  btn.addEventListener("click", () => {
    if (holder) {
      holder.remove();
      holder = null;
      btn.setAttribute("aria-expanded", "false");
      expanded.delete(c.id);
    } else open();
  });
  if (expanded.has(c.id)) queueMicrotask(() => anchor.isConnected && !holder && open());
  return btn;
}

function complaintPanel(c, reload) {
  const uid = `cp${++panelSeq}`;
  const msg = h("p", { class: "form-status cp-message", role: "status" });
  const progress = c.progress || [];
  const note = h("input", { id: `${uid}-note`, class: "cp-note", maxlength: 2000 });
  const visible = h("input", { id: `${uid}-visible`, class: "cp-visible", type: "checkbox", checked: true });
  const steps = Object.fromEntries(Object.keys(LIFECYCLE).map((k) => [k, may(k, c.status)]));
  const run = async (btn, doc, input, done) => {
    msg.textContent = "";
    btn.disabled = true;
    try {
      await gql(doc, { input: { clientMutationId: mutationId(), complaintId: c.id, ...input } });
      toast(t(done));
      await reload();
    } catch (e) {
      msg.textContent = `${e.code}: ${e.message}`;
      btn.disabled = false;
    }
  };
  const form = resolveForm(c, reload);
  form.hidden = true;
  const button = (step, key, onclick, primary = false) =>
    steps[step]
      ? h("button", { type: "button", class: `btn${primary ? " primary" : ""} act-${step}`, onclick }, t(key))
      : null;
  const needsNote = steps.acknowledge || steps.progress || steps.reopen;
  const actions = [
    button("acknowledge", "cp.acknowledge", (ev) =>
      run(ev.target, ACKNOWLEDGE, { note: note.value.trim() || null }, "cp.acknowledged.done"), true),
    button("progress", "cp.addProgress", (ev) => {
      if (!note.value.trim()) return (msg.textContent = t("cp.needNote"));
      return run(ev.target, PROGRESS, { note: note.value.trim(), visibleToCustomer: visible.checked }, "cp.progress.done");
    }),
    button("resolve", "cp.resolve", () => {
      form.hidden = false;
      form.querySelector(".rf-resolution").focus();
    }, true),
    button("close", "cp.close", (ev) => run(ev.target, CLOSE, {}, "cp.closed.done")),
    button("reopen", "cp.reopen", (ev) => {
      if (!note.value.trim()) return (msg.textContent = t("cp.needReason"));
      return run(ev.target, REOPEN, { reason: note.value.trim() }, "cp.reopened.done");
    }),
  ].filter(Boolean);
  return h(
    "div",
    { class: "cpanel", dataset: { id: c.id, status: c.status } },
    dl([
      ["cp.status", statusBadge(c.status)],
      ["cp.opened", fmtDate(c.occurredAt)],
      ["cp.responseDue", fmtDate(c.responseDueAt)],
      ["cp.acknowledged", c.acknowledgedAt ? `${fmtDate(c.acknowledgedAt)} · ${dash(c.acknowledgedBy)}` : null],
      ["cp.resolutionDue", fmtDate(c.resolutionDueAt)],
      ["cp.resolved", c.resolvedAt ? fmtDate(c.resolvedAt) : null],
      ["cp.handling", c.handlingHours != null ? t("stats.hours", c.handlingHours.toFixed(1)) : null],
      ["cp.cause", c.category ? categorySpan(c) : null],
      ["cp.sourceSla", c.sourceSlaStatus],
      ["cp.handledBy", c.handledBy],
    ]),
    c.surveyRequested ? h("p", {}, h("span", { class: "badge warn cp-survey" }, t("cp.surveyRequested"))) : null,
    h("h3", {}, t("cp.progress")),
    progress.length
      ? h(
          "ol",
          { class: "cp-progress" },
          progress.map((p) =>
            h(
              "li",
              { class: p.visibleToCustomer ? "" : "internal" },
              h("time", {}, fmtDate(p.at)),
              p.by ? h("span", { class: "muted" }, `${p.by} · `) : null,
              h("span", { class: "cp-note-text" }, p.note),
              p.visibleToCustomer ? null : h("span", { class: "badge ghost" }, t("cp.internal"))
            )
          )
        )
      : h("p", { class: "muted" }, t("cp.noProgress")),
    actions.length
      ? h(
          "div",
          { class: "cp-actions" },
          needsNote ? h("div", { class: "field" }, h("label", { for: `${uid}-note` }, t("cp.note")), note) : null,
          steps.progress ? h("label", { class: "check" }, visible, ` ${t("cp.visible")}`) : null,
          h("div", { class: "cp-buttons" }, actions)
        )
      : h("p", { class: "muted cp-none" }, t("cp.noActions")),
    form,
    msg
  );
}

// Resolution: what was done, and (for a complaint) the category and cause from the taxonomy.
function resolveForm(c, reload) {
  const uid = `rf${++panelSeq}`;
  const needsCause = c.kind === "COMPLAINT";
  const resolution = h("input", { id: `${uid}-res`, class: "rf-resolution", required: true, maxlength: 2000 });
  const outcome = h("input", { id: `${uid}-out`, class: "rf-outcome", maxlength: 500 });
  const choose = () => h("option", { value: "" }, t("rf.choose"));
  const category = h("select", { id: `${uid}-cat`, class: "rf-category", required: needsCause }, choose());
  const cause = h("select", { id: `${uid}-cause`, class: "rf-cause", required: needsCause }, choose());
  const subtype = h("select", { id: `${uid}-sub`, class: "rf-subtype" }, choose());
  const subtypeRow = h("div", { class: "field" }, h("label", { for: `${uid}-sub` }, t("rf.subtype")), subtype);
  subtypeRow.hidden = true;
  const msg = h("p", { class: "form-status rf-message", role: "status" });
  let tax = [];
  const fillCauses = () => {
    const cat = tax.find((x) => x.code === category.value);
    cause.replaceChildren(choose(), ...(cat?.causes || []).map((x) => h("option", { value: x.type }, label(x))));
    fillSubtypes();
  };
  const fillSubtypes = () => {
    const cat = tax.find((x) => x.code === category.value);
    const subs = cat?.causes.find((x) => x.type === cause.value)?.subtypes || [];
    subtype.replaceChildren(choose(), ...subs.map((x) => h("option", { value: x }, x)));
    subtypeRow.hidden = !subs.length;
  };
  category.addEventListener("change", fillCauses);
  cause.addEventListener("change", fillSubtypes);
  loadTaxonomy()
    .then((loaded) => {
      tax = loaded;
      category.append(...tax.map((x) => h("option", { value: x.code }, label(x))));
      if (c.category && tax.some((x) => x.code === c.category)) {
        category.value = c.category; // chosen when the case was opened: confirmed or changed here
        fillCauses();
      }
      category.dataset.loaded = "1";
    })
    .catch((e) => (msg.textContent = `${e.code}: ${e.message}`));
  const form = h(
    "form",
    {
      class: "resolve-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        msg.textContent = "";
        if (needsCause && (!category.value || !cause.value)) {
          msg.textContent = t("rf.needTaxonomy");
          return;
        }
        const btn = form.querySelector(".rf-submit");
        btn.disabled = true;
        try {
          await gql(RESOLVE, {
            input: {
              clientMutationId: mutationId(),
              complaintId: c.id,
              resolution: resolution.value.trim(),
              outcome: outcome.value.trim() || null,
              category: category.value || null,
              causeType: cause.value || null,
              causeSubtype: subtype.value || null,
            },
          });
          toast(t("complaint.resolved"));
          await reload();
        } catch (e) {
          msg.textContent = `${e.code}: ${e.message}`;
          btn.disabled = false;
        }
      },
    },
    h("h3", {}, t("rf.title")),
    h("div", { class: "field" }, h("label", { for: `${uid}-res` }, t("rf.resolution")), resolution),
    h("div", { class: "field" }, h("label", { for: `${uid}-out` }, t("rf.outcome")), outcome),
    h("div", { class: "field" }, h("label", { for: `${uid}-cat` }, t("rf.category")), category),
    h("div", { class: "field" }, h("label", { for: `${uid}-cause` }, t("rf.cause")), cause),
    subtypeRow,
    h(
      "div",
      { class: "cp-buttons" },
      h("button", { type: "submit", class: "btn primary rf-submit" }, t("rf.submit")),
      h("button", { type: "button", class: "btn rf-cancel", onclick: () => (form.hidden = true) }, t("rf.cancel"))
    ),
    msg
  );
  return form;
}

// ---- the queue page
const QUEUE_PAGE = 20;
const queueState = { status: "OPEN_ONLY", sla: "", severity: "", kind: "", category: "", cursors: [null], page: 0, days: 30 };
const STATUSES = ["OPEN", "ACKNOWLEDGED", "IN_PROGRESS", "RESOLVED", "CLOSED", "REOPENED"];
const SLAS = ["AT_RISK", "BREACHED", "ON_TRACK", "MET"];

function queueFilter() {
  const f = {};
  if (queueState.status === "OPEN_ONLY") f.openOnly = true;
  else if (queueState.status) f.status = [queueState.status];
  if (queueState.sla) f.slaStatus = [queueState.sla];
  if (queueState.severity) f.severity = queueState.severity;
  if (queueState.kind) f.kind = queueState.kind;
  if (queueState.category) f.category = queueState.category;
  return f;
}

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

function statsView() {
  const tiles = h("div", { class: "tiles", id: "complaint-stats", "aria-live": "polite" }, h("p", { class: "muted" }, t("loading")));
  const period = h(
    "select",
    { id: "stats-period" },
    [7, 30, 90, 365].map((n) => h("option", { value: String(n), selected: n === queueState.days }, t("stats.days", n)))
  );
  const tile = (id, key, value, sub, cls) =>
    h("div", { class: `tile${cls ? ` ${cls}` : ""}`, id }, h("div", { class: "tile-label" }, t(key)), h("div", { class: "tile-value" }, value), sub ? h("div", { class: "tile-sub muted" }, sub) : null);
  const hours = (n) => (n === null || n === undefined ? "—" : t("stats.hours", Number(n).toFixed(1)));
  const pct = (n) => (n === null || n === undefined ? "—" : `${Number(n).toFixed(1)} %`);
  let latest = 0;
  const load = async () => {
    const mine = ++latest;
    const to = new Date();
    const from = new Date(to.getTime() - (queueState.days - 1) * 86400000);
    const span = { from: isoDay(from), to: isoDay(to) };
    try {
      const { complaintStats: s } = await gql(COMPLAINT_STATS, { period: span });
      if (mine !== latest) return;
      const target = s.targetAverageHandlingHours;
      const over = (n) => (n != null && target != null ? (n <= target ? "ok" : "bad") : "");
      tiles.replaceChildren(
        tile("stat-opened", "stats.opened", String(s.opened)),
        tile("stat-resolved", "stats.resolved", String(s.resolved)),
        tile("stat-open", "stats.open", String(s.open)),
        tile("stat-at-risk", "stats.atRisk", String(s.atRisk), null, s.atRisk ? "warn-tile" : ""),
        tile("stat-breached", "stats.breached", String(s.breached), null, s.breached ? "bad" : ""),
        tile("stat-avg", "stats.avg", hours(s.averageHandlingHours), target != null ? t("stats.target", target) : null, over(s.averageHandlingHours)),
        tile("stat-p90", "stats.p90", hours(s.p90HandlingHours)),
        tile("stat-first-response", "stats.firstResponse", pct(s.firstResponseWithin24hPct)),
        tile("stat-major", "stats.major", pct(s.majorWithin4hPct))
      );
      Object.assign(tiles.dataset, { loaded: "1", from: span.from, to: span.to });
    } catch (e) {
      if (mine === latest) tiles.replaceChildren(errorBox(e));
    }
  };
  period.addEventListener("change", () => {
    queueState.days = Number(period.value);
    load();
  });
  load();
  const section = h(
    "section",
    { class: "card", "aria-labelledby": "h-stats" },
    h(
      "div",
      { class: "title-row" },
      h("h2", { id: "h-stats" }, t("stats.title")),
      h("label", { for: "stats-period", class: "muted" }, t("stats.period")),
      period
    ),
    tiles
  );
  section.reload = load;
  return section;
}

function complaintsView() {
  const results = h("div", { id: "queue", "aria-live": "polite" });
  const select = (id, key, value, options) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: id }, t(key)),
      h(
        "select",
        {
          id,
          onchange: (ev) => {
            queueState[value] = ev.target.value;
            queueState.cursors = [null];
            queueState.page = 0;
            load();
          },
        },
        options.map(([v, text]) => h("option", { value: v, selected: queueState[value] === v }, text))
      )
    );
  const filters = h(
    "form",
    { class: "filters", id: "queue-filters", onsubmit: (ev) => ev.preventDefault() },
    select("f-status", "queue.status", "status", [
      ["OPEN_ONLY", t("queue.openOnly")],
      ["", t("queue.all")],
      ...STATUSES.map((s) => [s, t(`cstatus.${s}`)]),
    ]),
    select("f-sla", "queue.sla", "sla", [["", t("queue.all")], ...SLAS.map((s) => [s, t(`sla.${s}`)])]),
    select("f-severity", "queue.severity", "severity", [["", t("queue.all")], ...["MAJOR", "MINOR"].map((s) => [s, t(`sev.${s}`)])]),
    select("f-kind", "queue.kind", "kind", [["", t("queue.all")], ...TRACKED_KINDS.map((k) => [k, t(`kind.${k}`)])]),
    select("f-category", "complaint.category", "category", [["", t("queue.all")]])
  );
  loadTaxonomy()
    .then((tax) => {
      const categories = filters.querySelector("#f-category");
      categories.append(...tax.map((c) => h("option", { value: c.code, selected: queueState.category === c.code }, label(c))));
    })
    .catch(() => {});
  const COLUMNS = 8;
  let latest = 0;
  const load = async () => {
    const mine = ++latest;
    results.setAttribute("aria-busy", "true");
    try {
      const data = await gql(COMPLAINTS, {
        filter: queueFilter(),
        first: QUEUE_PAGE,
        after: queueState.cursors[queueState.page],
      });
      if (mine !== latest) return;
      const conn = data.complaints;
      const now = Date.now();
      const rows = conn.edges.flatMap(({ node: c }) => {
        const open = !["RESOLVED", "CLOSED"].includes(c.status);
        const awaitingResponse = ["OPEN", "REOPENED"].includes(c.status);
        const due = (at, key) =>
          at
            ? h(
                "div",
                { class: open && Date.parse(at) < now ? "overdue" : "" },
                t(key, fmtDate(at)),
                open && Date.parse(at) < now ? h("span", { class: "badge sla-breached" }, t("queue.overdue")) : null
              )
            : null;
        const row = h(
          "tr",
          { class: "q-row", dataset: { id: c.id, status: c.status, sla: c.slaStatus || "" } },
          h("td", { class: "q-due" }, awaitingResponse ? due(c.responseDueAt, "queue.respondBy") : null, open ? due(c.resolutionDueAt, "queue.resolveBy") : fmtDate(c.resolvedAt)),
          h("td", {}, c.customerId ? customerLink(c.customerId, `${dash(c.customerName)} · ${c.customerId}`) : "—"),
          h("td", {}, h("span", { class: "badge q-kind", dataset: { kind: c.kind } }, t(`kind.${c.kind}`, c.kind)), c.severity ? sevBadge(c.severity) : null),
          h("td", { class: "q-status" }, c.status ? statusBadge(c.status) : "—"),
          h("td", { class: "q-sla" }, c.slaStatus ? slaBadge(c.slaStatus) : "—"),
          h("td", { class: "q-summary" }, dash(c.summary), c.category ? [h("br"), h("small", {}, categorySpan(c))] : null),
          h("td", {}, fmtDate(c.occurredAt)),
          h("td", {})
        );
        row.lastChild.append(
          panelToggle(c, reload, row, (panel) => h("tr", { class: "q-detail", dataset: { id: c.id } }, h("td", { colspan: COLUMNS }, panel)))
        );
        return [row];
      });
      const [prev, next] = pagerButtons(queueState, "queue", conn.pageInfo, load);
      results.replaceChildren(
        h("p", { class: "muted", id: "queue-total" }, t("queue.total", conn.totalCount), ` · ${t("page.n")} ${queueState.page + 1}`),
        rows.length
          ? h(
              "table",
              { class: "grid queue" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["queue.due", "queue.customer", "queue.kind", "queue.status", "queue.sla", "col.summary", "queue.opened"].map((k) =>
                    h("th", { scope: "col" }, t(k))
                  ),
                  h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("queue.details")))
                )
              ),
              h("tbody", {}, rows)
            )
          : h("p", { class: "muted", id: "queue-empty" }, t("queue.empty")),
        h("div", { class: "pager" }, prev, next)
      );
      results.dataset.loaded = String(mine);
    } catch (e) {
      if (mine === latest) results.replaceChildren(errorBox(e));
    } finally {
      if (mine === latest) results.removeAttribute("aria-busy");
    }
  };
  const stats = statsView();
  const reload = async () => {
    await load(); // a step taken from the queue: the rows and the figures change
    stats.reload();
  };
  load();
  return h(
    "div",
    { class: "service-desk", id: "queue-page" },
    h("div", { class: "title-row" }, h("h1", { id: "queue-title", tabindex: "-1" }, t("queue.title"))),
    stats,
    h("section", { class: "card", "aria-labelledby": "queue-title" }, filters, results)
  );
}

// ---------------------------------------------------------------- shell
// ``reuse``: label the caller known from the last `me` again (a language switch), no round trip.
// ``current``: false once a newer render has started; an older render's answer changes nothing.
async function renderWho(reuse = false, current = () => true) {
  const who = document.getElementById("whoami");
  const out = document.getElementById("sign-out");
  out.textContent = t("signout");
  document.getElementById("lang-toggle").textContent = t("lang.other");
  if (!signedIn()) {
    who.textContent = "";
    delete who.dataset.roles;
    myRoles = [];
    myBranch = null;
    myMe = null;
    out.hidden = true;
    pagersFor(null);
    return;
  }
  try {
    const me = reuse && myMe ? myMe : (await gql("{ me { subject roles employeeId customerId branchId scope } }")).me;
    if (!current()) return;
    myMe = me;
    pagersFor(me.subject);
    const claim = me.employeeId || me.branchId || me.customerId;
    who.textContent = `${me.roles.map((r) => t(`role.${r}`, r)).join(", ")}${claim ? ` · ${claim}` : ""}`;
    who.dataset.roles = me.roles.join(",");
    myRoles = me.roles;
    myBranch = me.branchId || null;
  } catch {
    if (!current()) return;
    who.textContent = "";
    delete who.dataset.roles;
    myRoles = [];
    myBranch = null;
    myMe = null;
  }
  out.hidden = !signedIn();
}

// The navigation: the home page, and the complaint queue for the roles that work it.
function renderNav() {
  const home = document.getElementById("nav-home");
  const queue = document.getElementById("nav-complaints");
  const dashboard = document.getElementById("nav-dashboard");
  home.textContent = t("nav.home");
  queue.textContent = t("nav.complaints");
  dashboard.textContent = t("nav.dashboard");
  document.getElementById("main-nav").hidden = !signedIn();
  queue.hidden = !allowed(QUEUE_ROLES);
  dashboard.hidden = !allowed(DASHBOARD_ROLES);
  const onQueue = location.hash.startsWith("#/complaints");
  const onDashboard = location.hash.startsWith("#/dashboard");
  const onHome = !onQueue && !onDashboard && !location.hash.startsWith("#/customer/");
  if (onQueue) queue.setAttribute("aria-current", "page");
  else queue.removeAttribute("aria-current");
  if (onDashboard) dashboard.setAttribute("aria-current", "page");
  else dashboard.removeAttribute("aria-current");
  if (onHome) home.setAttribute("aria-current", "page");
  else home.removeAttribute("aria-current");
}

async function signOut() {
  if (!token() && session) {
    // ends the server-side session; the server also clears the cookie
    await fetch("/console/logout", { method: "POST", headers: CONSOLE_HEADER }).catch(() => {});
  }
  sessionStorage.removeItem(TOKEN_KEY);
  session = false;
  goHome();
}

// The home page: drawn by the hash change, or at once when the hash is already home's.
function goHome() {
  if (location.hash === "#/") render();
  else location.hash = "#/";
}

// Renders overlap (a hash change while the caller is still being asked for): only the newest
// one draws, so an older answer cannot hide the navigation or replace a newer view.
let renderSeq = 0;

async function render({ reuseMe = false } = {}) {
  const mine = ++renderSeq;
  const current = () => mine === renderSeq;
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  await loadOptions();
  if (!current()) return;
  await renderWho(reuseMe, current);
  if (!current()) return;
  const root = app();
  if (!signedIn()) {
    renderNav();
    root.replaceChildren(signInView());
    return;
  }
  renderNav();
  const m = location.hash.match(/^#\/customer\/(.+)$/);
  if (m) root.replaceChildren(customerView(decodeURIComponent(m[1])));
  else if (location.hash.startsWith("#/complaints")) root.replaceChildren(complaintsView());
  else if (location.hash.startsWith("#/dashboard")) root.replaceChildren(dashboardView({ gql, errorBox, me: myMe }));
  else root.replaceChildren(homeView());
  window.scrollTo(0, 0);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("lang-toggle").addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    render({ reuseMe: true }); // the same caller: the page at once in the other language
  });
  document.getElementById("sign-out").addEventListener("click", signOut);
  exportTables(app()); // a CSV button on every table any view draws
  window.addEventListener("hashchange", render);
  render();
});
