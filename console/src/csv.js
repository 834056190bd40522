// CSV export of any table the console shows: every <table> that appears under the app root gets
// an "Export CSV" button right after it, whichever view drew it. The file holds exactly the
// table's cells, row by row (header rows included): each cell's text as shown, without the
// controls in it (buttons, selects, inputs). RFC 4180: fields joined by commas, records by CRLF,
// a field with a comma, a quote or a line break in double quotes with its quotes doubled. UTF-8
// with a byte order mark, so Excel opens Chinese text correctly; no cell runs as a formula.
import { h } from "./dom.js";
import { t } from "./i18n.js";

const BOM = "\uFEFF";
const CONTROLS = "button, select, input, textarea, .csv-skip";

// The text of one cell, as shown, without its controls; runs of white space made one space.
export function cellText(cell) {
  const copy = cell.cloneNode(true);
  for (const control of copy.querySelectorAll(CONTROLS)) control.remove();
  return copy.textContent.replace(/\s+/g, " ").trim();
}

// The table's rows (its own, not a nested table's), each a list of cell texts.
export function tableCells(table) {
  return Array.from(table.rows).map((row) => Array.from(row.cells).map(cellText));
}

// A cell Excel would read as a formula (=, +, -, @, tab or carriage return first) gets a leading
// apostrophe, unless it is a plain negative number ("-43.6 %"): bank data (names, notes, phone
// numbers) must never run as a formula in the manager's spreadsheet (OWASP "CSV injection").
const FORMULA = /^[=+\-@\t\r]/;
const NUMBER = /^-[\d.,\s]+%?$/;

export function field(value) {
  const safe = FORMULA.test(value) && !NUMBER.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(rows) {
  return rows.map((row) => row.map(field).join(",")).join("\r\n") + "\r\n";
}

function fileName(table) {
  const named = table.dataset.csvName || table.closest("section")?.querySelector("h2, h1")?.textContent || "table";
  const safe = named.trim().replace(/[\\/:*?"<>|\s]+/g, "-").replace(/^-+|-+$/g, "") || "table";
  return `${safe}.csv`;
}

export function download(table) {
  const blob = new Blob([BOM + toCsv(tableCells(table))], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: fileName(table), hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// The button sits right after its table (after it in the tab order too: the table's own links
// come first). A table a view replaced or removed takes its button with it at the next scan.
const tools = new WeakMap(); // button bar -> its table

function addButton(table) {
  table.dataset.csv = "1";
  const bar = h(
    "div",
    { class: "csv-tools" },
    h("button", { type: "button", class: "btn small csv-export", onclick: () => download(table) }, t("csv.export"))
  );
  tools.set(bar, table);
  table.after(bar);
}

// Watch ``root`` for tables (views draw theirs after their data arrives).
export function exportTables(root) {
  const scan = () => {
    for (const bar of root.querySelectorAll(".csv-tools")) {
      const table = tools.get(bar);
      if (bar.previousElementSibling === table) continue;
      bar.remove(); // its table is gone or moved
      if (table?.isConnected) delete table.dataset.csv;
    }
    root.querySelectorAll("table:not([data-csv])").forEach(addButton);
  };
  new MutationObserver(scan).observe(root, { childList: true, subtree: true });
  scan();
}
