// Simulate failover / restore / status. A failover is a RegionFailover object that the
// operator carries out; the API reports its phase, latency and the history of earlier
// ones. Field names are read tolerantly (snake_case from the API, camelCase from the
// custom resource's status) so the panel shows what is there rather than nothing.
import { callActive, describe } from "./api.js";
import { el, errorBox, formatSeconds, formatTime, loading, rawJson, replace } from "./dom.js";

function pick(object, ...names) {
  for (const name of names) {
    if (object && object[name] !== undefined && object[name] !== null) return object[name];
  }
  return undefined;
}

const LATENCY = ["failover_latency_seconds", "latency_seconds", "latencySeconds", "latency"];

function historyOf(body) {
  const list = pick(body, "history", "failovers", "items", "recent", "region_failovers");
  return Array.isArray(list) ? list : [];
}

function historyTable(items) {
  if (!items.length) return el("p", { class: "muted", text: "No RegionFailover recorded yet." });
  return el(
    "table",
    { class: "history" },
    el("caption", { text: "RegionFailover history (newest first as the API lists it)" }),
    el("thead", {}, el("tr", {}, ["Name", "From", "To", "Phase", "Latency", "When", "Message"].map((h) => el("th", { scope: "col", text: h })))),
    el(
      "tbody",
      {},
      items.map((item) => {
        const status = item.status && typeof item.status === "object" ? item.status : {};
        const spec = item.spec && typeof item.spec === "object" ? item.spec : {};
        const latency = pick(item, ...LATENCY) ?? pick(status, ...LATENCY);
        return el(
          "tr",
          {},
          el("td", { text: pick(item, "name") ?? pick(item.metadata, "name") ?? "—" }),
          el("td", { text: pick(item, "source_region", "sourceRegion", "from") ?? pick(spec, "sourceRegion", "source_region") ?? "—" }),
          el("td", { text: pick(item, "target_region", "targetRegion", "to") ?? pick(spec, "targetRegion", "target_region") ?? "—" }),
          el("td", { text: pick(item, "phase", "status") ?? pick(status, "phase") ?? "—" }),
          el("td", { class: "num", text: latency === undefined ? "—" : formatSeconds(latency) }),
          el("td", { text: formatTime(pick(item, "created", "requested_at", "timestamp", "creationTimestamp", "start_time") ?? pick(item.metadata, "creationTimestamp")) }),
          el("td", { text: pick(item, "message") ?? pick(status, "message") ?? "" }),
        );
      }),
    ),
  );
}

function outcome(title, body) {
  const latency = pick(body, ...LATENCY);
  const phase = pick(body, "phase", "status");
  const facts = [
    ["active region", pick(body, "active_region", "activeRegion")],
    ["phase / status", phase],
    ["source", pick(body, "source_region", "sourceRegion")],
    ["target", pick(body, "target_region", "targetRegion")],
    ["latency", latency === undefined ? undefined : formatSeconds(latency)],
    ["name", pick(body, "name")],
    ["when", pick(body, "timestamp") && formatTime(body.timestamp)],
  ].filter(([, v]) => v !== undefined && v !== null && v !== "");
  const message = pick(body, "message");
  return [
    el("h3", { text: title }),
    message ? el("p", { class: "headline", dataset: { field: "message" }, text: message }) : null,
    el("dl", { class: "facts" }, facts.map(([k, v]) => [el("dt", { text: k }), el("dd", { dataset: { field: k.replace(/\W+/g, "_") }, text: String(v) })]).flat()),
    historyOf(body).length ? historyTable(historyOf(body)) : null,
    rawJson(body),
  ];
}

export function initFailover(config, form, output, historyOutput) {
  const source = form.querySelector("#failover-source");
  const target = form.querySelector("#failover-target");
  const names = config.regions.map((r) => r.name);
  for (const name of names) {
    source.append(el("option", { value: name, text: name }));
    target.append(el("option", { value: name, text: name }));
  }
  source.value = names[0];
  target.value = names[1] ?? names[0];
  const dryRun = form.querySelector("#failover-dry-run");
  const force = form.querySelector("#failover-force");
  // Kept for this tab only (sessionStorage), so a reload does not ask again; never
  // sent anywhere but the region API's Authorization header.
  const token = form.querySelector("#failover-token");
  token.value = sessionStorage.getItem("tier0.failoverToken") ?? "";
  token.addEventListener("change", () => sessionStorage.setItem("tier0.failoverToken", token.value.trim()));

  const status = async () => {
    replace(historyOutput, loading("failover status"));
    try {
      const body = await callActive(config, "/api/failover/status");
      replace(historyOutput, outcome("Failover status", body).slice(1));
      historyOutput.dataset.state = "done";
    } catch (err) {
      replace(historyOutput, errorBox(describe(err)));
      historyOutput.dataset.state = "error";
    }
  };

  const run = async (action, button) => {
    if (source.value === target.value) {
      replace(output, errorBox("Pick two different regions: the source and the target are the same."));
      return;
    }
    const common = { reason: `dashboard ${action}`, dry_run: dryRun.checked, force: force.checked };
    // Restore sends the traffic back to the source region of the failover.
    const body =
      action === "simulate"
        ? { ...common, source_region: source.value, target_region: target.value }
        : { ...common, region: source.value, source_region: target.value, target_region: source.value };
    const title = action === "simulate" ? `Failover ${source.value} → ${target.value}` : `Restore ${source.value}`;

    replace(output, el("h3", { text: title }), loading(action === "simulate" ? "failover" : "restore"));
    output.dataset.state = "loading";
    button.disabled = true;
    const started = performance.now();
    try {
      const answer = await callActive(config, `/api/failover/${action}`, { method: "POST", body, token: token.value.trim() });
      const seconds = (performance.now() - started) / 1000;
      replace(output, outcome(title, answer), el("p", { class: "muted", text: `Round trip seen by this browser: ${formatSeconds(seconds)}.` }));
      output.dataset.state = "done";
      status();
    } catch (err) {
      replace(output, el("h3", { text: title }), errorBox(describe(err)));
      output.dataset.state = "error";
      // 401: no token or a rejected one; the API's message says where to get one.
      if (err.status === 401) token.focus();
    } finally {
      button.disabled = false;
    }
  };

  form.querySelector("#failover-simulate").addEventListener("click", (e) => run("simulate", e.currentTarget));
  form.querySelector("#failover-restore").addEventListener("click", (e) => run("restore", e.currentTarget));
  form.querySelector("#failover-status").addEventListener("click", status);
  form.addEventListener("submit", (event) => event.preventDefault());
}
