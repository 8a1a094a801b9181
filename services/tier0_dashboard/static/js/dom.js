// DOM helpers. API text is only ever set as textContent (never innerHTML), so an
// answer containing markup is shown as text and cannot inject anything.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function replace(container, ...children) {
  container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

export function errorBox(message) {
  return el("p", { class: "error", role: "alert", dataset: { kind: "error" } }, message);
}

export function loading(what) {
  return el("p", { class: "muted", "aria-busy": "true" }, `Loading ${what}…`);
}

const integer = new Intl.NumberFormat("en-US");

export function formatNumber(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  return integer.format(Number(value));
}

export function formatSeconds(value) {
  if (value === null || value === undefined) return "—";
  const n = Number(value);
  if (n < 1) return `${(n * 1000).toFixed(0)} ms`;
  if (n < 120) return `${n.toFixed(1)} s`;
  if (n < 7200) return `${(n / 60).toFixed(1)} min`;
  return `${(n / 3600).toFixed(1)} h`;
}

export function formatTime(iso) {
  if (!iso) return "—";
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? String(iso) : when.toLocaleString();
}

// A two-column table of name -> value pairs, e.g. counts by site.
export function keyValueTable(caption, entries, { keyHeader = "name", valueHeader = "value" } = {}) {
  return el(
    "table",
    { class: "kv" },
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: keyHeader }), el("th", { scope: "col", text: valueHeader }))),
    el(
      "tbody",
      {},
      entries.map(([key, value]) => el("tr", {}, el("th", { scope: "row", text: key }), el("td", { class: "num", text: value }))),
    ),
  );
}

export function rawJson(body) {
  return el("details", { class: "raw" }, el("summary", { text: "Raw answer (JSON)" }), el("pre", { text: JSON.stringify(body, null, 2) }));
}

export function select(id, label, options, value) {
  const control = el(
    "select",
    { id, name: id },
    options.map(([optValue, optLabel]) => el("option", { value: optValue, selected: optValue === value }, optLabel)),
  );
  return [el("label", { for: id, text: label }), control];
}
