// The regions side by side: status, version, active devices and users, health and the
// age of the freshest telemetry, refreshed every few seconds. A region that does not
// answer shows why in its own column; the other keeps refreshing.
import { ApiError, apiMessage, call, describe } from "./api.js";
import { el, formatNumber, formatSeconds, replace } from "./dom.js";

const FIELDS = [
  ["status", "Status"],
  ["version", "Version"],
  ["active_devices", "Active devices"],
  ["active_users", "Active users"],
  ["health", "Health"],
  ["data_age", "Data age"],
];

function column(region, isActive) {
  const values = {};
  const rows = FIELDS.map(([key, label]) => {
    values[key] = el("dd", { dataset: { field: key }, text: "…" });
    return [el("dt", { text: label }), values[key]];
  });
  const problem = el("div", { class: "region-problem" });
  const updated = el("p", { class: "muted updated", text: "not refreshed yet" });
  const card = el(
    "section",
    { class: "region-card", dataset: { region: region.name }, "aria-labelledby": `region-${region.name}-title` },
    el(
      "h3",
      { id: `region-${region.name}-title` },
      region.name,
      isActive ? el("span", { class: "tag", text: "buttons call this" }) : null,
    ),
    el("p", { class: "muted url", text: region.url }),
    el("dl", {}, rows.flat()),
    problem,
    updated,
  );
  return { card, values, problem, updated };
}

function badge(text, tone) {
  return el("span", { class: `badge ${tone}`, text });
}

async function health(region) {
  try {
    const body = await call(region.url, "/health", { label: region.name });
    return { ok: true, text: body.status || "healthy" };
  } catch (err) {
    if (err instanceof ApiError && err.body && err.body.status) {
      return { ok: false, text: `${err.body.status}: ${apiMessage({ detail: err.body.reason }, err.body.status)}` };
    }
    return { ok: false, text: describe(err) };
  }
}

async function refreshOne(region, view) {
  const [status, healthState] = await Promise.allSettled([call(region.url, "/api/status", { label: region.name }), health(region)]);
  const problems = [];
  const h = healthState.value;
  replace(view.values.health, badge(h.ok ? h.text : "unhealthy", h.ok ? "ok" : "bad"));
  if (!h.ok) problems.push(`Health: ${h.text}`);
  if (status.status === "fulfilled") {
    const s = status.value;
    replace(view.values.status, badge(s.status, s.status === "active" ? "ok" : "warn"));
    view.values.version.textContent = s.version ?? "—";
    view.values.active_devices.textContent = formatNumber(s.active_devices);
    view.values.active_users.textContent = formatNumber(s.active_users);
    view.values.data_age.textContent = s.data_age_seconds === null || s.data_age_seconds === undefined ? "no telemetry yet" : formatSeconds(s.data_age_seconds);
    for (const reason of s.degraded_reasons || []) problems.push(`Degraded: ${reason}`);
  } else {
    replace(view.values.status, badge("unreachable", "bad"));
    for (const key of ["version", "active_devices", "active_users", "data_age"]) view.values[key].textContent = "—";
    problems.push(describe(status.reason));
  }
  replace(view.problem, problems.map((text) => el("p", { class: "error", text })));
  view.card.dataset.state = status.status === "fulfilled" ? status.value.status : "unreachable";
  view.updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

export function initRegions(config, container) {
  const views = config.regions.map((region) => [region, column(region, region.url === config.active_api)]);
  replace(container, views.map(([, view]) => view.card));
  const refreshAll = async () => {
    await Promise.allSettled(views.map(([region, view]) => refreshOne(region, view)));
  };
  // Refresh after the previous round finished (never overlapping), and not while the
  // tab is hidden, so a slow region cannot pile requests up.
  const loop = async () => {
    if (!document.hidden) await refreshAll();
    setTimeout(loop, config.refresh_seconds * 1000);
  };
  loop();
  return refreshAll;
}
