"""Automatic failover as policy: fires on health failure, respects the dwell time,
freezes with a Warning Event when the flap budget is spent, resumes when unfrozen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.k8s_objects import (
    SERVICE,
    GroupFactory,
    Namespace,
    OperatorProcess,
)
from tests.support.region_api import RegionApi
from tests.support.wait import wait_for
from tier0_common.rfc3339 import from_rfc3339

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

POLICY = {
    "automatic": True,
    "probeIntervalSeconds": 0.2,
    "failureThreshold": 2,
    "successThreshold": 1,
    "stabilizationWindowSeconds": 1.0,
    "minDwellSeconds": 3.0,
    "maxTransitionsPerHour": 1,
}


def automatic(namespace: Namespace) -> list[dict[str, Any]]:
    return sorted(
        (r for r in namespace.rfos() if r["spec"]["reason"] == "automatic"),
        key=lambda r: r["metadata"]["creationTimestamp"],
    )


def completed(namespace: Namespace, count: int) -> list[dict[str, Any]]:
    found = automatic(namespace)
    done = [r for r in found if (r.get("status") or {}).get("phase") == "Completed"]
    return found if len(done) >= count else []


def region_states(namespace: Namespace) -> dict[str, str]:
    return {
        r["name"]: r["state"] for r in (namespace.fg().get("status") or {}).get("regions") or ()
    }


def test_automatic_failover_fires_holds_its_dwell_and_freezes_on_flapping(
    namespace: Namespace,
    make_group: GroupFactory,
    operator: OperatorProcess,
    regions: dict[str, RegionApi],
) -> None:
    make_group(policy=POLICY)
    operator.start()
    wait_for(
        lambda: region_states(namespace) == {"region1": "Healthy", "region2": "Healthy"},
        20,
        what="both regions probed Healthy",
    )

    regions["region1"].state.healthy = False
    first = wait_for(lambda: completed(namespace, 1), 30, what="an automatic failover Completed")[0]
    assert (first["spec"]["sourceRegion"], first["spec"]["targetRegion"]) == ("region1", "region2")
    assert namespace.selector_region() == "region2"
    assert namespace.endpoint_regions() == ["region2", "region2"]
    stamps = first["status"]["timestamps"]
    waited = from_rfc3339(stamps["requestedAt"]) - from_rfc3339(stamps["detectedAt"])
    # detectedAt is the confirmed failure; the window started one probe earlier.
    assert waited >= POLICY["stabilizationWindowSeconds"] - POLICY["probeIntervalSeconds"] - 0.05
    group = namespace.fg()
    assert group["status"]["activeRegion"] == "region2"

    # Flap: region1 recovers, region2 fails right after the switch.
    regions["region1"].state.healthy = True
    regions["region2"].state.healthy = False
    wait_for(
        lambda: namespace.fg()["status"].get("automationFrozen") is True,
        30,
        what="automation frozen by the flap budget",
    )
    group = namespace.fg()
    frozen_at = from_rfc3339(
        next(c for c in group["status"]["conditions"] if c["type"] == "AutomationFrozen")[
            "lastTransitionTime"
        ]
    )
    switched_at = from_rfc3339(group["status"]["lastTransitionTime"])
    assert frozen_at - switched_at >= POLICY["minDwellSeconds"], "acted inside the dwell time"
    assert len(automatic(namespace)) == 1, "a second automatic failover slipped through"
    assert namespace.selector_region() == "region2"
    warnings = [
        e
        for e in namespace.events_for("FailoverGroup", SERVICE)
        if e["reason"] == "AutomationFrozen"
    ]
    assert warnings and warnings[0]["type"] == "Warning"
    assert "flap budget" in warnings[0]["message"]

    # A person lifts the freeze; the policy fails back to the healthy region1.
    namespace.kubectl("annotate", f"failovergroup/{SERVICE}", "tier0.io/unfreeze=now")
    second = wait_for(lambda: completed(namespace, 2), 30, what="automatic failover after unfreeze")
    assert second[-1]["spec"]["targetRegion"] == "region1"
    assert namespace.selector_region() == "region1"
    assert namespace.fg()["status"].get("automationFrozen") is False


def test_a_shortened_probe_interval_counts_at_once(
    namespace: Namespace,
    make_group: GroupFactory,
    operator: OperatorProcess,
    regions: dict[str, RegionApi],
) -> None:
    # The daemon first probes every 60 s; shortening the interval must not wait out the
    # rest of that minute (the real-node benchmark switches to fast probes, then fails
    # a region at once).
    make_group(policy={**POLICY, "probeIntervalSeconds": 60, "stabilizationWindowSeconds": 60})
    operator.start()
    wait_for(
        lambda: region_states(namespace) == {"region1": "Healthy", "region2": "Healthy"},
        20,
        what="both regions probed Healthy",
    )
    namespace.kubectl(
        "patch",
        f"failovergroup/{SERVICE}",
        "--type=merge",
        "-p",
        '{"spec":{"policy":{"probeIntervalSeconds":0.2,"stabilizationWindowSeconds":1.0}}}',
    )
    regions["region1"].state.healthy = False
    first = wait_for(lambda: completed(namespace, 1), 20, what="an automatic failover Completed")
    assert first[0]["spec"]["targetRegion"] == "region2"
