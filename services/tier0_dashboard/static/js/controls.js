// The seed's four main buttons. Each calls the active API (the failover group's URL)
// and shows one headline figure with its breakdown; the answer lands in one
// aria-live panel so screen readers hear it.
import { callActive, describe } from "./api.js";
import { el, errorBox, formatNumber, formatSeconds, formatTime, keyValueTable, loading, rawJson, replace } from "./dom.js";

function headline(label, value, key) {
  return el("p", { class: "headline" }, el("span", { class: "headline-label", text: `${label}: ` }), el("strong", { class: "headline-value", dataset: { field: key }, text: value }));
}

function counts(object) {
  return Object.entries(object || {}).map(([k, v]) => [k, formatNumber(v)]);
}

const ACTIONS = {
  users: {
    label: "Active Users",
    async run(config) {
      const [users, connections] = await Promise.all([callActive(config, "/api/users/active"), callActive(config, "/api/users/connections")]);
      return [
        headline("Active users", formatNumber(users.active_users), "active_users"),
        headline("Active connections", formatNumber(connections.active_connections), "active_connections"),
        el("p", { class: "muted", text: `${users.sites_reporting} web site(s) reporting · served by ${users.region}` }),
        el("div", { class: "tables" }, keyValueTable("Users by web site", counts(users.by_site), { keyHeader: "site", valueHeader: "users" }), keyValueTable("Connections by web site", counts(connections.by_site), { keyHeader: "site", valueHeader: "connections" })),
        rawJson({ users, connections }),
      ];
    },
  },
  devices: {
    label: "Active Devices",
    async run(config) {
      const body = await callActive(config, "/api/devices/active");
      return [
        headline("Active devices", formatNumber(body.active_devices), "active_devices"),
        el("p", { class: "muted", text: `${formatNumber(body.total_devices)} devices known · active = seen in the last ${body.window_seconds} s · served by ${body.region}` }),
        el(
          "div",
          { class: "tables" },
          keyValueTable("By device type", counts(body.by_type), { keyHeader: "type", valueHeader: "active" }),
          keyValueTable("By site", counts(body.by_site), { keyHeader: "site", valueHeader: "active" }),
          keyValueTable("By state", counts(body.by_state), { keyHeader: "state", valueHeader: "active" }),
        ),
        rawJson(body),
      ];
    },
  },
  version: {
    label: "Deployment Version",
    async run(config) {
      const body = await callActive(config, `/fastapi/${config.active_region}/getappversion`);
      return [
        headline("Deployment version", body.version, "version"),
        el("p", { class: body.failover ? "warn-text" : "muted", text: body.failover ? `Failover in effect: ${body.requested_region}'s address is served by ${body.region}.` : `Served by ${body.region}.` }),
        rawJson(body),
      ];
    },
  },
  status: {
    label: "Status",
    async run(config) {
      const body = await callActive(config, "/api/status");
      const reasons = body.degraded_reasons || [];
      return [
        headline("Status", body.status, "status"),
        keyValueTable(
          `System status of ${body.region}`,
          [
            ["version", body.version],
            ["active devices", formatNumber(body.active_devices)],
            ["active users", formatNumber(body.active_users)],
            ["data age", body.data_age_seconds == null ? "no telemetry yet" : formatSeconds(body.data_age_seconds)],
            ["last ingest", formatTime(body.last_ingest_utc)],
            ["started", formatTime(body.startup_time)],
          ],
        ),
        reasons.length ? el("ul", { class: "warn-text" }, reasons.map((r) => el("li", { text: r }))) : null,
        rawJson(body),
      ];
    },
  },
};

export function initControls(config, buttons, output, onStatus) {
  for (const button of buttons.querySelectorAll("button[data-action]")) {
    const action = ACTIONS[button.dataset.action];
    button.addEventListener("click", async () => {
      output.dataset.action = button.dataset.action;
      output.dataset.state = "loading";
      replace(output, el("h3", { text: action.label }), loading(action.label.toLowerCase()));
      button.disabled = true;
      try {
        const parts = await action.run(config);
        replace(output, el("h3", { text: action.label }), parts);
        output.dataset.state = "done";
        if (button.dataset.action === "status" && onStatus) onStatus();
      } catch (err) {
        replace(output, el("h3", { text: action.label }), errorBox(describe(err)));
        output.dataset.state = "error";
      } finally {
        button.disabled = false;
      }
    });
  }
}
