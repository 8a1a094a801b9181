// Entry point: read /config.json, then wire each panel. If the config cannot be read,
// say so at the top instead of leaving empty panels.
import { describe, loadConfig, setTimeoutSeconds } from "./api.js";
import { initAlerts } from "./alerts.js";
import { initControls } from "./controls.js";
import { errorBox, replace } from "./dom.js";
import { initFailover } from "./failover.js";
import { initImageSearch, initLlm } from "./ai.js";
import { initRegions } from "./regions.js";
import { initSiteMetrics } from "./sitemetrics.js";

const $ = (selector) => document.querySelector(selector);

async function start() {
  let config;
  try {
    config = await loadConfig();
  } catch (err) {
    replace($("#page-status"), errorBox(`The dashboard could not load its configuration: ${describe(err)}`));
    return;
  }
  setTimeoutSeconds(config.request_timeout_seconds);
  $("#active-api").textContent = `${config.active_api} (${config.active_region})`;
  $("#refresh-every").textContent = `${config.refresh_seconds} s`;
  const refreshRegions = initRegions(config, $("#region-columns"));
  initControls(config, $("#main-buttons"), $("#button-result"), refreshRegions);
  const loadAlerts = initAlerts(config, $("#alerts-form"), $("#alerts-output"));
  initSiteMetrics(config, $("#metrics-form"), $("#metrics-output"));
  initFailover(config, $("#failover-form"), $("#failover-output"), $("#failover-history"));
  initImageSearch(config, $("#image-form"), $("#image-output"));
  initLlm(config, $("#llm-form"), $("#llm-output"));
  loadAlerts();
  document.body.dataset.ready = "true";
}

start();
