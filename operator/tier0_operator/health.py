"""Probing a region and the safety gates a failover must pass.

Readiness alone (ready pods, an HTTP 200) is what common traffic steerers check. The
extra gates here ask whether the target can actually serve the same data:

* freshness - the target's last ingested telemetry is within a budget of the
  source's (the region API's GET /api/status: `last_ingest_utc`, `data_age_seconds`);
  when the source cannot answer (it is failing, after all) the target's own data age
  must be within the budget;
* canary - a message published through the broker on `tier0/canary/{id}` becomes
  visible through the target's API (GET /api/canary/{id}) within a budget.

The judging functions are pure; the probing functions do blocking I/O and run in
kopf's handler threads or through asyncio.to_thread.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from paho.mqtt import publish
from paho.mqtt.exception import MQTTException

from tier0_common.failover_models import CanarySpec, RegionSpec
from tier0_common.rfc3339 import maybe_from_rfc3339
from tier0_operator.cluster import Cluster

if TYPE_CHECKING:
    from paho.mqtt.publish import AuthParameter

CANARY_TOPIC = "tier0/canary/{canary_id}"
CANARY_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    message: str

    def to_status(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "message": self.message}


def pod_is_ready(pod: Mapping[str, Any]) -> bool:
    """A Pod (API JSON) that is not being deleted and whose Ready condition is True."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def count_ready(pods: Iterable[Mapping[str, Any]], selector: Mapping[str, str]) -> int:
    """Ready pods among `pods` that a Service with `selector` would select."""
    count = 0
    for pod in pods:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if all(labels.get(k) == v for k, v in selector.items()) and pod_is_ready(pod):
            count += 1
    return count


def judge_deployment(deployment: Mapping[str, Any] | None, name: str) -> tuple[bool, str]:
    """The TargetDeployment gate on a Deployment's JSON (None: it does not exist)."""
    if deployment is None:
        return False, f"deployment {name} not found"
    ready = int((deployment.get("status") or {}).get("readyReplicas") or 0)
    return ready > 0, f"deployment {name}: {ready} ready replica(s)"


def http_ok(http: httpx.Client, url: str) -> tuple[bool, str]:
    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        return False, f"GET {url}: {type(exc).__name__}"
    return response.status_code == 200, f"GET {url}: {response.status_code}"


def probe_region(
    cluster: Cluster, http: httpx.Client, namespace: str, region: RegionSpec
) -> tuple[bool | None, str]:
    """One health probe: ready Deployment replicas and a 200 from the health URL.

    Returns None (indeterminate) when the region declares nothing to probe.
    """
    parts: list[str] = []
    verdict: bool | None = None
    if region.deployment:
        deployment = cluster.get_deployment(namespace, region.deployment)
        ok, msg = judge_deployment(deployment, region.deployment)
        parts.append(msg)
        verdict = ok
    if region.health_url:
        ok, msg = http_ok(http, region.health_url)
        parts.append(msg)
        verdict = ok if verdict is None else (verdict and ok)
    return verdict, "; ".join(parts) or "nothing to probe"


def fetch_status(http: httpx.Client, region: RegionSpec) -> Mapping[str, Any] | None:
    if not region.api_url:
        return None
    try:
        response = http.get(f"{region.api_url.rstrip('/')}/api/status")
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    body = response.json()
    return body if isinstance(body, Mapping) else None


def judge_freshness(
    target: Mapping[str, Any] | None, source: Mapping[str, Any] | None, budget: float
) -> GateResult:
    """Is the target's data within `budget` seconds of the source's?"""
    if target is None:
        return GateResult("Freshness", False, "target /api/status did not answer")
    target_last = maybe_from_rfc3339(target.get("last_ingest_utc"))
    if target_last is None:
        return GateResult("Freshness", False, "target has not ingested anything")
    source_last = maybe_from_rfc3339((source or {}).get("last_ingest_utc"))
    if source_last is not None:
        lag = source_last - target_last
        ok = lag <= budget
        return GateResult(
            "Freshness", ok, f"target is {max(lag, 0.0):.1f}s behind the source (budget {budget}s)"
        )
    age = target.get("data_age_seconds")
    if not isinstance(age, int | float):
        return GateResult("Freshness", False, "source unreachable and target reports no data age")
    return GateResult(
        "Freshness",
        age <= budget,
        f"source unreachable; target data age {age:.1f}s (budget {budget}s)",
    )


def freshness_gate(
    http: httpx.Client, source: RegionSpec | None, target: RegionSpec, budget: float
) -> GateResult:
    """Ask both regions at once (the gate costs the slower answer, not the sum);
    ``source`` None: judge the target's own data age alone (automatic failovers, whose
    source just failed its probes, gates.py)."""
    if not target.api_url:
        return GateResult("Freshness", False, f"region {target.name} has no apiURL to check")
    if source is None or not source.api_url:
        return judge_freshness(fetch_status(http, target), None, budget)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="freshness") as pool:
        asked_source = pool.submit(fetch_status, http, source)
        target_status = fetch_status(http, target)
        return judge_freshness(target_status, asked_source.result(), budget)


def canary_gate(
    http: httpx.Client,
    target: RegionSpec,
    canary: CanarySpec,
    *,
    auth: AuthParameter | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> GateResult:
    """Publish a canary through the broker and wait until the target's API shows it."""
    if not target.api_url or not canary.mqtt_host:
        return GateResult(
            "Canary", False, "canary needs the target apiURL and gates.canary.mqttHost"
        )
    canary_id = f"fo-{uuid.uuid4().hex[:16]}"
    payload = json.dumps({"canary_id": canary_id, "sent_at": time.time()})
    started = clock()
    try:
        publish.single(
            CANARY_TOPIC.format(canary_id=canary_id),
            payload,
            qos=1,
            hostname=canary.mqtt_host,
            port=canary.mqtt_port,
            auth=auth,
        )
    except (OSError, MQTTException) as exc:
        return GateResult(
            "Canary", False, f"publish to {canary.mqtt_host}:{canary.mqtt_port}: {exc}"
        )
    url = f"{target.api_url.rstrip('/')}/api/canary/{canary_id}"
    deadline = started + canary.timeout_seconds
    while True:
        try:
            if http.get(url).status_code == 200:
                return GateResult(
                    "Canary", True, f"canary {canary_id} seen in {clock() - started:.2f}s"
                )
        except httpx.HTTPError:
            pass
        if clock() >= deadline:
            return GateResult(
                "Canary", False, f"canary {canary_id} not visible within {canary.timeout_seconds}s"
            )
        sleep(CANARY_POLL_SECONDS)
