"""Which gates a failover runs, in which order, and what a failing one means.

The judges and probes themselves are in health.py; this module orchestrates them for
one request: the cheap gates first on inputs read up front (reads.py), then the
freshness and canary gates (opt-in, slower, the canary has side effects) only once
those have passed, stopping at the first failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from tier0_common.failover_crd import AUTOMATIC_REASON
from tier0_common.failover_models import FailoverSpec, GroupSpec
from tier0_operator.health import (
    GateResult,
    canary_gate,
    count_ready,
    freshness_gate,
    http_ok,
    judge_deployment,
)
from tier0_operator.reads import Reads
from tier0_operator.request import Refusal
from tier0_operator.selectors import SelectorPlan

if TYPE_CHECKING:
    from paho.mqtt.publish import AuthParameter

#: Which FailoverBlocked reason a failing gate maps to.
GATE_REASONS = {
    "TargetReady": "TargetUnhealthy",
    "TargetDeployment": "TargetUnhealthy",
    "TargetHealthURL": "TargetUnhealthy",
    "Freshness": "TargetStale",
    "Canary": "CanaryFailed",
}


def run_gates(
    http: httpx.Client,
    group: GroupSpec,
    spec: FailoverSpec,
    plan: SelectorPlan,
    reads: Reads,
    canary_auth: AuthParameter | None = None,
) -> list[GateResult]:
    """Judge the gates in order, stopping at the first that fails. ``canary_auth`` is
    the canary's MQTT identity (Settings.canary_mqtt_auth)."""
    target = group.region(spec.target_region)
    source = group.region(spec.source_region)
    results: list[GateResult] = []

    counts = {svc: count_ready(reads.target_pods, sel) for svc, sel in plan.after.items()}
    empty = sorted(svc for svc, n in counts.items() if n == 0)
    detail = ", ".join(f"{svc}: {n}" for svc, n in sorted(counts.items()))
    results.append(
        GateResult(
            "TargetReady",
            not empty,
            f"ready {spec.target_region} pods per Service: {detail}"
            + (f" (no ready pods behind {', '.join(empty)})" if empty else ""),
        )
    )
    if empty or target is None:
        return results
    if target.deployment:
        ok, msg = judge_deployment(reads.deployment, target.deployment)
        results.append(GateResult("TargetDeployment", ok, msg))
        if not ok:
            return results
    if target.health_url:
        ok, msg = reads.health or http_ok(http, target.health_url)
        results.append(GateResult("TargetHealthURL", ok, msg))
        if not ok:
            return results
    budget = group.gates.freshness_budget_seconds
    if budget is not None and source is not None:
        # An automatic failover exists because the source failed its probes: asking it
        # for /api/status would only wait out the probe timeout (its pods are gone or
        # draining), so the target's own data age is judged instead.
        asked = None if spec.reason == AUTOMATIC_REASON else source
        result = freshness_gate(http, asked, target, budget)
        results.append(result)
        if not result.passed:
            return results
    if group.gates.canary.enabled:
        results.append(canary_gate(http, target, group.gates.canary, auth=canary_auth))
    return results


def refuse_on_failure(gates: list[GateResult], prefix: str = "") -> None:
    """Raise the Refusal of the first failed gate, if any."""
    failed = next((g for g in gates if not g.passed), None)
    if failed is not None:
        raise Refusal(
            GATE_REASONS.get(failed.name, "GateFailed"), f"{prefix}{failed.message}", gates
        )
