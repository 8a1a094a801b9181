// Calls to the region APIs, and one place that turns any failure into a sentence an
// SRE can act on: unreachable (down or CORS), timed out, or the API's own message.

export class ApiError extends Error {
  constructor(message, { status = null, body = null } = {}) {
    super(message.charAt(0).toUpperCase() + message.slice(1));
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

let timeoutSeconds = 15;

export function setTimeoutSeconds(seconds) {
  timeoutSeconds = seconds;
}

export async function loadConfig() {
  const reply = await fetch("/config.json", { cache: "no-store" });
  if (!reply.ok) throw new ApiError(`The dashboard's /config.json answered ${reply.status}.`);
  return reply.json();
}

// The API's own explanation, from any of the shapes tier0 answers with:
// {"detail": "..."}, {"error": "...", "detail": "..."}, FastAPI's validation list,
// {"message": "..."}, or plain text.
export function apiMessage(body, text = "") {
  if (body && typeof body === "object") {
    const detail = body.detail;
    if (Array.isArray(detail)) {
      return detail
        .map((item) => {
          const where = Array.isArray(item.loc) ? item.loc.filter((p) => p !== "body").join(".") : "";
          return where ? `${where}: ${item.msg}` : String(item.msg ?? JSON.stringify(item));
        })
        .join("; ");
    }
    if (detail && typeof detail === "object") return detail.message || JSON.stringify(detail);
    if (typeof detail === "string" && detail) return detail;
    if (typeof body.message === "string" && body.message) return body.message;
    if (typeof body.error === "string" && body.error) return body.error;
    return JSON.stringify(body).slice(0, 300);
  }
  return (text || "").trim().slice(0, 300) || "no explanation in the answer";
}

export async function call(base, path, { method = "GET", body = undefined, label = base, token = "" } = {}) {
  const url = `${base}${path}`;
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // The token goes to the region API only (it checks it with Kubernetes); the
  // dashboard's own server never sees it.
  if (token) headers.Authorization = `Bearer ${token}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutSeconds * 1000);
  let reply;
  try {
    reply = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: "no-store",
    });
  } catch (err) {
    if (err.name === "AbortError") {
      throw new ApiError(`${label} did not answer ${method} ${path} within ${timeoutSeconds} s.`);
    }
    throw new ApiError(`Cannot reach ${label} at ${url}: the API is down, unreachable from this browser, or does not allow this page (CORS).`);
  } finally {
    clearTimeout(timer);
  }
  const text = await reply.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!reply.ok) {
    const reason = apiMessage(parsed, text);
    throw new ApiError(`${label} answered ${reply.status} ${reply.statusText || ""} to ${method} ${path}: ${reason}`.replace(/\s+/g, " "), {
      status: reply.status,
      body: parsed,
    });
  }
  if (parsed === null) throw new ApiError(`${label} answered ${method} ${path} with something that is not JSON.`);
  return parsed;
}

export function describe(err) {
  return err instanceof ApiError ? err.message : `Unexpected error in the page: ${err && err.message ? err.message : err}`;
}

// The failover group's URL, named as such in messages (the buttons, alerts, AI and
// failover panels all call it).
export function callActive(config, path, options = {}) {
  return call(config.active_api, path, { label: "the active API", ...options });
}
