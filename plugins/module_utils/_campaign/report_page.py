# -*- coding: utf-8 -*-

# Copyright: Contributors to the mailops.workmail project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fixed parts of the campaign's HTML report: its style sheet and its script, and their CSP hashes.

The page loads nothing: no script, style sheet, font or image from anywhere. Its Content-Security-Policy allows only
this style sheet and this script (by their SHA-256), so even text that escaped escaping could not run. The script
only adds the filter and the sorting of the mailbox table; the page reads whole without it. The filter can be given
in the URL's fragment, ``#filter=<text>&status=<status>`` (the statuses of :data:`report_rows.STATUSES`).
"""

import base64
import hashlib

STYLE = """
:root { color-scheme: light; --bad: #a4000f; --warn: #7a4b00; --ok: #1d5e20; --muted: #555; --line: #ccc; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  margin: 0 auto; max-width: 110rem; padding: 1rem 1.5rem; color: #111; background: #fff; line-height: 1.4; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; }
.meta { color: var(--muted); margin: 0; }
.attention { border: 2px solid var(--bad); border-radius: .4rem; padding: .25rem 1rem .75rem; }
.attention.calm { border-color: var(--ok); }
.attention h3 { font-size: 1.05rem; margin: .75rem 0 .25rem; color: var(--bad); }
.warning { color: var(--bad); font-weight: 600; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.counts td { text-align: right; min-width: 5rem; font-variant-numeric: tabular-nums; }
.counts tr.total th, .counts tr.total td { font-weight: 700; }
.wide { overflow: auto; max-width: 100%; max-height: 80vh; border: 1px solid var(--line); }
#mailbox-table { font-size: .85rem; }
#mailbox-table td { overflow-wrap: break-word; max-width: 28rem; }
#mailbox-table td.mono { word-break: break-all; min-width: 9rem; max-width: 18rem; }
tr[data-status="given_up"] td, tr[data-status="contradicted"] td { background: #fde8ea; }
tr[data-status="retry"] td, tr[data-status="blocked_24h"] td { background: #fff4de; }
thead button { font: inherit; font-weight: 700; background: none; border: 0; padding: 0; cursor: pointer;
  text-align: left; color: inherit; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
#controls { display: flex; flex-wrap: wrap; gap: 1rem; align-items: end; margin: .5rem 0; }
#controls label { display: flex; flex-direction: column; font-weight: 600; }
#controls input, #controls select { font: inherit; padding: .2rem .4rem; min-width: 16rem; }
[hidden] { display: none !important; }
figure { margin: 0; }
svg.chart { width: 100%; max-width: 48rem; height: auto; border: 1px solid var(--line); }
.legend { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: .25rem 0; }
.swatch { display: inline-block; width: 1.5rem; height: .25rem; vertical-align: middle; margin-right: .4rem; }
.swatch.mailboxes { background: #1f4e9c; }
.swatch.megabytes { background: repeating-linear-gradient(90deg, #c25400 0 .5rem, transparent .5rem .8rem); }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  #controls, #shown, thead button::after { display: none !important; }
  thead th { position: static; }
  #mailbox-table { font-size: 7pt; }
  .wide { overflow: visible; max-height: none; border: 0; }
  section { break-inside: avoid-page; }
  #mailboxes { break-inside: auto; }
  details { display: block; }
  a { color: inherit; text-decoration: none; }
}
"""

SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("mailbox-table");
  var controls = document.getElementById("controls");
  if (!table || !controls) { return; }
  var body = table.tBodies[0];
  var header = table.tHead.rows[0];
  var text = document.getElementById("filter-text");
  var status = document.getElementById("filter-status");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(body.rows);
  rows.forEach(function (row) { row.searchText = row.textContent.toLowerCase(); });
  controls.hidden = false;

  function apply(keepInUrl) {
    var words = text.value.trim().toLowerCase();
    var wanted = status.value;
    var count = 0;
    rows.forEach(function (row) {
      var match = (!wanted || row.getAttribute("data-status") === wanted) &&
        (!words || row.searchText.indexOf(words) !== -1);
      row.hidden = !match;
      if (match) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " mailboxes shown";
    if (keepInUrl) {
      var query = new URLSearchParams();
      if (text.value) { query.set("filter", text.value); }
      if (wanted) { query.set("status", wanted); }
      try { history.replaceState(null, "", "#" + query.toString()); } catch (ignored) { /* file: URLs */ }
    }
  }

  function fromUrl() {
    var query = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    text.value = query.get("filter") || "";
    var wanted = query.get("status") || "";
    status.value = Array.prototype.some.call(status.options, function (option) {
      return option.value === wanted;
    }) ? wanted : "";
    apply(false);
  }

  function valueOf(row, column) {
    var cell = row.cells[column];
    var number = cell.getAttribute("data-sort");
    return number !== null ? parseFloat(number) : cell.textContent.toLowerCase();
  }

  function compare(left, right) {
    if (typeof left === typeof right) {
      if (typeof left === "number") { return left - right; }
      return left.localeCompare(right);
    }
    return typeof left === "number" ? -1 : 1;
  }

  function sortBy(cell, column) {
    var ascending = cell.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(header.cells, function (other) { other.setAttribute("aria-sort", "none"); });
    cell.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var order = compare(valueOf(a, column), valueOf(b, column));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  Array.prototype.forEach.call(header.cells, function (cell, column) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = cell.textContent;
    button.title = "Sort by " + cell.textContent;
    cell.textContent = "";
    cell.appendChild(button);
    cell.setAttribute("aria-sort", "none");
    button.addEventListener("click", function () { sortBy(cell, column); });
  });
  text.addEventListener("input", function () { apply(true); });
  status.addEventListener("change", function () { apply(true); });
  window.addEventListener("hashchange", fromUrl);
  fromUrl();
}());
"""


def csp_hash(text):
    """The CSP source expression of an inline script or style sheet: ``'sha256-<base64>'``."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


# The page may run this script and use this style sheet, and load nothing (inline SVG needs no source).
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {csp_hash(STYLE)}; script-src {csp_hash(SCRIPT)}; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
