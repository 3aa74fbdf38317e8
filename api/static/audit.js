/* Auditor page: look up GET /v1/batches/{root}, /v1/agencies/{address} or /v1/agencies and show
 * the JSON facts as readable tables. Plain browser JavaScript, no dependencies. */
"use strict";

(function () {
  const ROOT_RE = /^0x[0-9a-fA-F]{64}$/;
  const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
  const HEX_RE = /^0x[0-9a-fA-F]+$/;
  const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /* "leafCount" -> "Leaf count", "tx_hash" -> "Tx hash" */
  function words(key) {
    const spaced = String(key)
      .replace(/_/g, " ")
      .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
      .toLowerCase();
    return spaced.charAt(0).toUpperCase() + spaced.slice(1);
  }

  /* "2026-11-30 06:49:24 UTC": unambiguous in any locale, and short enough for a table. */
  function formatTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
  }

  function renderScalar(value, key) {
    if (value === null || value === undefined) {
      return el("span", { class: "small" }, el("span", { "aria-hidden": "true", text: "\u2014" }), el("span", { class: "visually-hidden", text: "none" }));
    }
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (typeof value === "number") return String(value);
    const text = String(value);
    const k = String(key || "").toLowerCase();
    if (ADDRESS_RE.test(text) && (k.includes("agency") || k === "address" || k === "account")) {
      return el("a", { href: `?agency=${text}`, class: "mono", text });
    }
    if (ROOT_RE.test(text) && k.endsWith("root")) {
      return el("a", { href: `?batch=${text}`, class: "mono", text });
    }
    if (HEX_RE.test(text)) return el("span", { class: "mono", text });
    if (ISO_RE.test(text)) {
      return el("time", { datetime: text, title: text, text: formatTime(text) });
    }
    return text;
  }

  function isPlainObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  function renderValue(value, key) {
    if (Array.isArray(value)) {
      if (value.length === 0) return el("span", { class: "small", text: "none" });
      return el("ul", { class: "plain" }, value.map((v) => el("li", {}, renderValue(v, key))));
    }
    if (isPlainObject(value)) return renderFacts(value);
    return renderScalar(value, key);
  }

  function isRowList(value) {
    return Array.isArray(value) && value.length > 0 && value.every(isPlainObject);
  }

  let tableCount = 0;

  /* A table that may be wider than the screen scrolls inside its own box (never the page),
   * and that box can be reached and scrolled with the keyboard. Named by a caption of its
   * own, or by the element `labelledBy` (the result's heading). */
  function scrollBox(caption, table, labelledBy) {
    let id = labelledBy;
    if (!id) {
      id = `table-${++tableCount}`;
      table.prepend(el("caption", { id, text: caption }));
    } else {
      table.setAttribute("aria-labelledby", id);
    }
    return el("div", { class: "table-wrap", role: "region", tabindex: "0", "aria-labelledby": id }, table);
  }

  const LIST_NAMES = { keys: "Signing keys" };

  /* An object as a two-column table, fact and value (named by the element `labelledBy`); a list of objects in it (an agency's
   * signing keys) becomes a table of its own below, rather than a table squeezed into a cell. */
  function renderFacts(obj, labelledBy) {
    const lists = Object.entries(obj).filter(([, v]) => isRowList(v));
    const rows = Object.entries(obj)
      .filter(([, v]) => !isRowList(v))
      .map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: words(k) }), el("td", {}, renderValue(v, k))));
    const facts = el(
      "div",
      { class: "table-wrap facts-table" },
      // Named by the result's heading: a visually hidden <caption> would widen the page.
      el("table", { "aria-labelledby": labelledBy || null }, el("tbody", {}, rows)),
    );
    if (lists.length === 0) return facts;
    return el(
      "div",
      {},
      facts,
      lists.map(([k, v]) => renderRows(v, `${LIST_NAMES[k] || words(k)} (${v.length})`)),
    );
  }

  /* A list of objects as one table, a column per key (nested lists shown by their size). */
  function renderRows(list, caption) {
    const keys = [];
    for (const item of list) for (const k of Object.keys(item)) if (!keys.includes(k)) keys.push(k);
    const cell = (item, k) => {
      const v = item[k];
      if (Array.isArray(v)) return el("td", { class: "num", text: String(v.length) });
      return el("td", {}, renderValue(v, k));
    };
    return scrollBox(
      caption,
      el(
        "table",
        { class: "rows" },
        el("thead", {}, el("tr", {}, keys.map((c) => el("th", { scope: "col", text: words(c) })))),
        el("tbody", {}, list.map((item) => el("tr", {}, keys.map((k) => cell(item, k))))),
      ),
    );
  }

  /* The agencies, one row each: who, where, their status; an agency's keys, dates and the
   * rest are on its own page (the name links there). */
  function renderAgencies(list) {
    const rows = list.map((agency) => {
      const moved = agency.account && agency.address && agency.account.toLowerCase() !== agency.address.toLowerCase();
      const keys = Array.isArray(agency.keys) ? agency.keys.length : 0;
      return el(
        "tr",
        {},
        el("th", { scope: "row" }, el("a", { href: `?agency=${agency.address}`, text: agency.name || agency.address })),
        el(
          "td",
          {},
          renderScalar(agency.address, "address"),
          moved ? el("span", { class: "small block" }, "account ", el("span", { class: "mono", text: agency.account })) : null,
        ),
        el("td", { text: agency.status || "" }),
        el("td", { class: "num", text: String(keys) }),
        el("td", { text: agency.issuesHere ? "yes" : "no" }),
      );
    });
    const headers = ["Name", "Address", "Status", "Signing keys", "Issues here"];
    return scrollBox(
      null,
      el(
        "table",
        { class: "rows" },
        el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, rows),
      ),
      "audit-title",
    );
  }

  function init() {
    const form = document.getElementById("lookup-form");
    const query = document.getElementById("query");
    const listButton = document.getElementById("list-agencies");
    const errorLine = document.getElementById("lookup-error");
    const statusLine = document.getElementById("status");
    const out = document.getElementById("audit-result");

    function show(title, ...content) {
      out.replaceChildren(el("h2", { id: "audit-title", tabindex: "-1", text: title }), ...content);
      document.getElementById("audit-title").focus();
    }

    async function fetchJSON(url) {
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" });
        let payload = null;
        try {
          payload = await response.json();
        } catch (_err) {
          payload = null;
        }
        return { status: response.status, payload };
      } catch (_err) {
        return { status: 0, payload: null };
      }
    }

    function showProblem(status, problem, what) {
      const detail = problem && (problem.detail || problem.title);
      let text;
      if (status === 0) text = "The registry could not be reached. Try again later.";
      else if (status === 404) text = `This registry has no ${what}.`;
      else if (status === 422 || status === 400) text = `That is not a valid ${what.replace(/^(a|an) /, "")}.`;
      else text = `The registry answered with an error (HTTP ${status}).`;
      show("Nothing to show", el("p", { text }), detail ? el("p", { class: "detail" }, "Details: ", el("span", { text: detail })) : null);
    }

    async function lookup(kind, value) {
      errorLine.textContent = "";
      out.replaceChildren();
      statusLine.textContent = "Looking up\u2026";
      const urls = {
        batch: `/v1/batches/${encodeURIComponent(value)}`,
        agency: `/v1/agencies/${encodeURIComponent(value)}`,
        agencies: "/v1/agencies",
      };
      const whats = {
        batch: `batch with root ${value}`,
        agency: `agency with address ${value}`,
        agencies: "agencies",
      };
      const { status, payload } = await fetchJSON(urls[kind]);
      statusLine.textContent = "";
      const params = kind === "agencies" ? "?agencies" : `?${kind}=${value}`;
      window.history.replaceState(null, "", params);
      if (status !== 200 || payload === null) {
        showProblem(status, payload, whats[kind]);
        return;
      }
      if (kind === "agencies") {
        const list = Array.isArray(payload) ? payload : payload.agencies || payload.items || [];
        show(`Agencies (${list.length})`, list.length ? renderAgencies(list) : el("p", { text: "No agencies yet." }));
      } else if (kind === "agency") {
        const name = payload.name ? `Agency: ${payload.name}` : "Agency";
        show(name, renderFacts(payload, "audit-title"));
      } else {
        show("Batch", renderFacts(payload, "audit-title"));
      }
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = query.value.trim();
      if (ROOT_RE.test(value)) lookup("batch", value.toLowerCase());
      else if (ADDRESS_RE.test(value)) lookup("agency", value);
      else {
        errorLine.textContent =
          "Enter a batch root (0x and 64 hexadecimal digits) or an agency address (0x and 40).";
        query.focus();
      }
    });
    listButton.addEventListener("click", () => lookup("agencies", ""));

    const params = new URLSearchParams(window.location.search);
    if (params.get("batch")) {
      query.value = params.get("batch");
      lookup("batch", params.get("batch"));
    } else if (params.get("agency")) {
      query.value = params.get("agency");
      lookup("agency", params.get("agency"));
    } else if (params.has("agencies")) {
      lookup("agencies", "");
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
