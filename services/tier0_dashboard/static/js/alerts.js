// Devices in WARN or ALERT, newest first, one page at a time, filtered by site and
// state. Paging is the API's (limit/offset), so a 100,000-device fleet never comes
// to the browser whole.
import { callActive, describe } from "./api.js";
import { el, errorBox, formatNumber, formatTime, replace } from "./dom.js";

const PAGE_SIZE = 20;

export function initAlerts(config, form, output) {
  const site = form.querySelector("#alerts-site");
  const state = form.querySelector("#alerts-state");
  for (const id of config.sites) site.append(el("option", { value: id, text: id }));
  let offset = 0;

  const load = async () => {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
    if (site.value) params.set("site_id", site.value);
    if (state.value) params.set("state", state.value);
    output.setAttribute("aria-busy", "true");
    try {
      const body = await callActive(config, `/api/devices/alerts?${params}`);
      render(body);
    } catch (err) {
      replace(output, errorBox(describe(err)));
    } finally {
      output.removeAttribute("aria-busy");
    }
  };

  const render = (body) => {
    const first = body.total === 0 ? 0 : body.offset + 1;
    const last = body.offset + body.items.length;
    const summary = el("p", { class: "pager-summary", dataset: { total: body.total }, text: body.total === 0 ? "No devices in WARN or ALERT for this filter." : `Showing ${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(body.total)} devices in WARN or ALERT (${body.region}).` });
    const prev = el("button", { type: "button", disabled: body.offset === 0, text: "Previous page", onclick: () => { offset = Math.max(0, offset - PAGE_SIZE); load(); } });
    const next = el("button", { type: "button", disabled: last >= body.total, text: "Next page", onclick: () => { offset += PAGE_SIZE; load(); } });
    const table = body.items.length
      ? el(
          "table",
          { class: "alerts" },
          el("caption", { class: "visually-hidden", text: "Devices in alert" }),
          el("thead", {}, el("tr", {}, ["Device", "Type", "Site", "State", "Code", "Message", "Reading time", "Seen by region"].map((h) => el("th", { scope: "col", text: h })))),
          el(
            "tbody",
            {},
            body.items.map((item) =>
              el(
                "tr",
                { dataset: { device: item.device_id } },
                el("td", { text: item.device_id }),
                el("td", { text: item.type }),
                el("td", { text: item.site }),
                el("td", {}, el("span", { class: `badge ${item.state === "ALERT" ? "bad" : "warn"}`, text: item.state })),
                el("td", { text: item.code }),
                el("td", { text: item.message }),
                el("td", { text: formatTime(item.timestamp) }),
                el("td", { text: formatTime(item.seen) }),
              ),
            ),
          ),
        )
      : null;
    replace(output, summary, table, el("div", { class: "pager" }, prev, next));
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    offset = 0;
    load();
  });
  for (const control of [site, state]) control.addEventListener("change", () => { offset = 0; load(); });
  return load;
}
