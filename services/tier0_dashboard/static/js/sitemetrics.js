// One site's devices by state and, per device type, the avg/min/max of that type's
// metrics, as /api/devices/metrics/site/{site_id} computes them.
import { callActive, describe } from "./api.js";
import { el, errorBox, formatNumber, formatTime, loading, replace } from "./dom.js";

function round(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function typeTable(type, data) {
  const states = Object.entries(data.by_state || {}).map(([s, n]) => `${s} ${n}`).join(" · ");
  return el(
    "table",
    { class: "metrics", dataset: { type } },
    el("caption", { text: `${type}: ${formatNumber(data.devices)} devices (${states}), last seen ${formatTime(data.last_seen)}` }),
    el("thead", {}, el("tr", {}, ["metric", "avg", "min", "max"].map((h) => el("th", { scope: "col", text: h })))),
    el(
      "tbody",
      {},
      Object.entries(data.metrics || {}).map(([name, m]) => el("tr", {}, el("th", { scope: "row", text: name }), el("td", { class: "num", text: round(m.avg) }), el("td", { class: "num", text: round(m.min) }), el("td", { class: "num", text: round(m.max) }))),
    ),
  );
}

export function initSiteMetrics(config, form, output) {
  const site = form.querySelector("#metrics-site");
  for (const id of config.sites) site.append(el("option", { value: id, text: id }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    replace(output, loading(`metrics of ${site.value}`));
    try {
      const body = await callActive(config, `/api/devices/metrics/site/${encodeURIComponent(site.value)}`);
      const byState = Object.entries(body.by_state || {}).map(([s, n]) => `${s} ${formatNumber(n)}`).join(" · ");
      replace(
        output,
        el("p", { class: "headline" }, el("strong", { dataset: { field: "site_total" }, text: `${body.site_name} (${body.site_id})` }), `: ${formatNumber(body.total_devices)} devices, ${formatNumber(body.active_devices)} active · ${byState || "no devices"}`),
        el("div", { class: "tables" }, Object.entries(body.by_type || {}).map(([type, data]) => typeTable(type, data))),
      );
    } catch (err) {
      replace(output, errorBox(describe(err)));
    }
  });
}
