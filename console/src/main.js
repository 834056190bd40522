// The relationship-manager console: a small single-page app over the public GraphQL API.
// Two ways in: signed in through the bank's OpenID Connect provider, the browser holds only an
// HttpOnly session cookie (the tokens stay on the server; this script never sees them) and every
// /graphql call carries the X-Requested-With header the server demands of cookie calls; with the
// development sign-in (not in production), a bearer token in sessionStorage.
// The DOM is built with createElement/textContent (never innerHTML with data).
import cytoscape from "cytoscape";
import { t, lang, setLang } from "./i18n.js";

const TOKEN_KEY = "c360.console.token";
const WRITERS = ["relationship_manager", "admin"]; // roles allowed logInteraction / complaints
const CONSOLE_HEADER = { "x-requested-with": "c360-console" };
let myRoles = [];
let options = null; // { oidc, development, session }: the sign-in ways offered, and whether
// this browser's session cookie (if any) is signed in
let session = false; // signed in through the provider (the cookie itself is invisible to us)
const app = () => document.getElementById("app");

// ---------------------------------------------------------------- helpers
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

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

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}
const signedIn = () => !!token() || session;

async function gql(query, variables = {}) {
  const bearer = token();
  const headers = { "content-type": "application/json", ...CONSOLE_HEADER };
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
          location.hash = "#/";
          render();
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

// ---------------------------------------------------------------- home: search + at risk
const SEARCH = `query($search: String, $first: Int, $after: String) {
  customers(search: $search, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name phone city aum value { tier } } } } }`;
const AT_RISK = `query { atRiskCustomers(first: 20) { edges { node {
  id name aum value { tier } risk { downgrade { level reasons } } } } } }`;

const PAGE = 10;
const homeState = { search: "", cursors: [null], page: 0 };

function customerLink(id, label) {
  return h("a", { href: `#/customer/${encodeURIComponent(id)}`, class: "cust-link" }, label || id);
}

function homeView() {
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
      const prev = h(
        "button",
        {
          type: "button",
          class: "btn",
          id: "page-prev",
          disabled: homeState.page === 0,
          onclick: () => {
            homeState.page -= 1;
            load();
          },
        },
        t("page.prev")
      );
      const next = h(
        "button",
        {
          type: "button",
          class: "btn",
          id: "page-next",
          disabled: !conn.pageInfo.hasNextPage,
          onclick: () => {
            homeState.cursors[homeState.page + 1] = conn.pageInfo.endCursor;
            homeState.page += 1;
            load();
          },
        },
        t("page.next")
      );
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
        homeState.cursors = [null];
        homeState.page = 0;
        load();
      },
    },
    input,
    h("button", { type: "submit", class: "btn primary", id: "search-submit" }, t("search.submit"))
  );

  const risk = h("div", { id: "at-risk" }, h("p", { class: "muted" }, t("loading")));
  gql(AT_RISK)
    .then((data) => {
      const edges = data.atRiskCustomers.edges;
      if (!edges.length) {
        risk.replaceChildren(h("p", { class: "muted" }, t("none")));
        return;
      }
      risk.replaceChildren(
        h(
          "ul",
          { class: "risk-list" },
          edges.map(({ node }) =>
            h(
              "li",
              { class: "risk-item" },
              h(
                "div",
                { class: "risk-head" },
                customerLink(node.id, `${dash(node.name)} · ${node.id}`),
                tierBadge(node.value?.tier),
                riskBadge(node.risk?.downgrade?.level)
              ),
              h("ul", { class: "reasons" }, (node.risk?.downgrade?.reasons || []).map((r) => h("li", {}, r)))
            )
          )
        )
      );
    })
    .catch((e) => risk.replaceChildren(errorBox(e)));

  load();
  return h(
    "div",
    { class: "home" },
    h("section", { class: "card", "aria-labelledby": "h-search" }, h("h2", { id: "h-search" }, t("search.title")), form, results),
    h("section", { class: "card", "aria-labelledby": "h-risk" }, h("h2", { id: "h-risk" }, t("risk.title")), risk)
  );
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
  timeline(first: 20) { totalCount nodes { id occurredAt channel kind summary outcome severity slaStatus resolvedAt } }
} }`;
const NETWORK = `query($id: ID!) { network(customerId: $id, depth: 2, maxNodes: 60) {
  truncated nodes { id kind label tier restricted } edges { source target type role } } }`;
const LOG = `mutation($input: LogInteractionInput!) { logInteraction(input: $input) { created interaction { id } } }`;
const OPEN = `mutation($input: OpenComplaintInput!) { openComplaint(input: $input) { created interaction { id } } }`;
const RESOLVE = `mutation($input: ResolveComplaintInput!) { resolveComplaint(input: $input) { created interaction { id slaStatus } } }`;
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

function timeline(conn, reload, customerId) {
  if (!conn) return h("p", { class: "muted" }, t("none"));
  return h(
    "ol",
    { class: "timeline", id: "timeline" },
    conn.nodes.map((i) =>
      h(
        "li",
        { class: `tl-item kind-${(i.kind || "").toLowerCase()}`, dataset: { id: i.id } },
        h("time", {}, fmtDate(i.occurredAt)),
        h("span", { class: "badge" }, t(`kind.${i.kind}`, i.kind)),
        h("span", { class: "badge ghost" }, t(`channel.${i.channel}`, i.channel)),
        i.kind === "COMPLAINT"
          ? [
              i.severity ? h("span", { class: `badge sev-${i.severity.toLowerCase()}` }, t(`sev.${i.severity}`)) : null,
              i.slaStatus ? h("span", { class: `badge sla sla-${i.slaStatus.toLowerCase()}` }, t(`sla.${i.slaStatus}`)) : null,
            ]
          : null,
        h("span", { class: "tl-summary" }, dash(i.summary)),
        i.outcome ? h("span", { class: "muted" }, ` → ${i.outcome}`) : null,
        i.kind === "COMPLAINT" && !i.resolvedAt
          ? h(
              "button",
              {
                type: "button",
                class: "btn small",
                onclick: async (ev) => {
                  const resolution = prompt(t("complaint.resolution"), "");
                  if (!resolution) return;
                  ev.target.disabled = true;
                  try {
                    await gql(RESOLVE, {
                      input: { clientMutationId: mutationId(), complaintId: i.id, resolution },
                    });
                    toast(t("complaint.resolved"));
                    await reload();
                  } catch (e) {
                    ev.target.disabled = false;
                    toast(`${e.code}: ${e.message}`);
                  }
                },
              },
              t("complaint.resolve")
            )
          : null
      )
    )
  );
}

function actionForms(customerId, reload) {
  const channel = (id) =>
    h("select", { id, name: "channel" }, CHANNELS.map((c) => h("option", { value: c }, t(`channel.${c}`, c))));
  const logSummary = h("input", { id: "log-summary", name: "summary", required: true, maxlength: 500 });
  const logChannel = channel("log-channel");
  const logForm = h(
    "form",
    {
      class: "action",
      id: "log-form",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const btn = ev.target.querySelector("button");
        btn.disabled = true;
        try {
          await gql(LOG, {
            input: {
              clientMutationId: mutationId(),
              customerId,
              channel: logChannel.value,
              kind: "FOLLOW_UP",
              summary: logSummary.value.trim(),
            },
          });
          logSummary.value = "";
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
    h("div", { class: "field" }, h("label", { for: "log-channel" }, t("col.channel")), logChannel),
    h("div", { class: "field" }, h("label", { for: "log-summary" }, t("col.summary")), logSummary),
    h("button", { type: "submit", class: "btn primary", id: "log-submit" }, t("log.submit"))
  );
  const cSummary = h("input", { id: "complaint-summary", name: "summary", required: true, maxlength: 500 });
  const cChannel = channel("complaint-channel");
  const cSeverity = h(
    "select",
    { id: "complaint-severity" },
    ["MINOR", "MAJOR"].map((s) => h("option", { value: s }, t(`sev.${s}`)))
  );
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
    h("div", { class: "field" }, h("label", { for: "complaint-channel" }, t("col.channel")), cChannel),
    h("div", { class: "field" }, h("label", { for: "complaint-severity" }, t("col.severity")), cSeverity),
    h("div", { class: "field" }, h("label", { for: "complaint-summary" }, t("col.summary")), cSummary),
    h("button", { type: "submit", class: "btn", id: "complaint-submit" }, t("complaint.submit"))
  );
  return h("div", { class: "actions" }, logForm, complaintForm);
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

function canWrite() {
  return myRoles.some((r) => WRITERS.includes(r));
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
      timeline(c.timeline, () => load(false), id)
    );
    const reloadTimeline = async () => {
      const fresh = (await gql(PROFILE, { id })).customer;
      timelineSection.replaceChildren(
        h("h2", { id: "h-tl" }, t("tl.title"), h("small", { class: "muted" }, ` (${fresh.timeline?.totalCount ?? 0})`)),
        timeline(fresh.timeline, reloadTimeline, id)
      );
    };
    timelineSection.lastChild.replaceWith(timeline(c.timeline, reloadTimeline, id));
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
      canWrite() ? actionForms(id, reloadTimeline) : null,
      timelineSection,
    ];
    root.replaceChildren(...kids);
    if (first) document.getElementById("customer-name")?.focus?.();
  };
  load(true);
  return root;
}

// ---------------------------------------------------------------- shell
async function renderWho() {
  const who = document.getElementById("whoami");
  const out = document.getElementById("sign-out");
  out.textContent = t("signout");
  document.getElementById("lang-toggle").textContent = t("lang.other");
  if (!signedIn()) {
    who.textContent = "";
    myRoles = [];
    out.hidden = true;
    return;
  }
  try {
    const { me } = await gql("{ me { subject roles employeeId customerId branchId scope } }");
    const claim = me.employeeId || me.branchId || me.customerId;
    who.textContent = `${me.roles.map((r) => t(`role.${r}`, r)).join(", ")}${claim ? ` · ${claim}` : ""}`;
    who.dataset.roles = me.roles.join(",");
    myRoles = me.roles;
  } catch {
    who.textContent = "";
    myRoles = [];
  }
  out.hidden = !signedIn();
}

async function signOut() {
  if (!token() && session) {
    // ends the server-side session; the server also clears the cookie
    await fetch("/console/logout", { method: "POST", headers: CONSOLE_HEADER }).catch(() => {});
  }
  sessionStorage.removeItem(TOKEN_KEY);
  session = false;
  location.hash = "#/";
  render();
}

async function render() {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  await loadOptions();
  await renderWho();
  const root = app();
  if (!signedIn()) {
    root.replaceChildren(signInView());
    return;
  }
  const m = location.hash.match(/^#\/customer\/(.+)$/);
  root.replaceChildren(m ? customerView(decodeURIComponent(m[1])) : homeView());
  window.scrollTo(0, 0);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("lang-toggle").addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    render();
  });
  document.getElementById("sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", render);
  render();
});
