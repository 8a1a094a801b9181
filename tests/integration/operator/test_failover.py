"""Manual failover against the real API server: switch, restore, refuse, dry run, lock.

Each test runs the operator as a subprocess under its ServiceAccount token in a fresh
namespace (conftest.py); the Kubernetes side is real (kube-apiserver, the
EndpointSlice controller, kwok-Ready pods).
"""

from __future__ import annotations

import time

import pytest

from tests.support.k8s_objects import (
    SERVICE,
    GroupFactory,
    Namespace,
    OperatorProcess,
    failover,
)
from tests.support.region_api import RegionApi
from tests.support.wait import wait_for
from tier0_common.rfc3339 import from_rfc3339

pytestmark = [pytest.mark.k8s, pytest.mark.integration]


def condition(obj: dict, type_: str) -> dict:
    return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


def test_failover_switches_services_and_endpoints_then_restore_returns(
    namespace: Namespace, make_group: GroupFactory, operator: OperatorProcess
) -> None:
    make_group()
    operator.start()
    namespace.apply(failover("to-region2", "region1", "region2"))

    done = namespace.wait_phase("to-region2", "Completed")
    assert namespace.selector_region() == "region2"
    assert namespace.endpoint_regions() == ["region2", "region2"]
    status = done["status"]
    assert 0 < status["latencySeconds"] < 5
    assert status["selectorsBefore"][SERVICE]["tier0.io/region"] == "region1"
    assert status["selectorsAfter"][SERVICE]["tier0.io/region"] == "region2"
    stamps = status["timestamps"]
    order = [
        "requestedAt",
        "decidedAt",
        "selectorsPatchedAt",
        "endpointsReadyAt",
        "firstSuccessfulRequestAt",
    ]
    times = [from_rfc3339(stamps[k]) for k in order]
    assert times == sorted(times), stamps
    assert condition(done, "Ready")["status"] == "True"
    assert condition(done, "FailoverBlocked")["status"] == "False"
    assert status["forced"] is False
    assert "detectedAt" not in stamps  # manual failovers have no detection time

    wait_for(
        lambda: any(
            e["reason"] == "FailoverCompleted"
            for e in namespace.events_for("RegionFailover", "to-region2")
        ),
        10,
        what="FailoverCompleted Event on the RegionFailover",
    )
    wait_for(
        lambda: any(
            e["reason"] == "SelectorSwitched" for e in namespace.events_for("Service", SERVICE)
        ),
        10,
        what="SelectorSwitched Event on the Service",
    )
    assert namespace.fg()["status"]["activeRegion"] == "region2"
    assert namespace.leases() == []

    namespace.apply(failover("restore", "region2", "region1"))
    namespace.wait_phase("restore", "Completed")
    assert namespace.selector_region() == "region1"
    assert namespace.endpoint_regions() == ["region1", "region1"]

    metrics = operator.metrics()
    assert 'tier0_failovers_total{outcome="completed"} 2.0' in metrics
    assert "tier0_failover_latency_seconds_count 2.0" in metrics
    assert 'tier0_failover_phase_seconds_count{phase="endpoints"} 2.0' in metrics
    assert f'tier0_active_region{{group="{SERVICE}",region="region1"}} 1.0' in metrics


def test_failover_to_region_without_ready_pods_is_refused(
    namespace: Namespace, make_group: GroupFactory, operator: OperatorProcess
) -> None:
    make_group()
    namespace.scale("tier0-api-region2", 0)
    wait_for(
        lambda: (
            not namespace.kube.raw(
                namespace.kube.core.list_namespaced_pod,
                namespace.name,
                label_selector="tier0.io/region=region2",
            )["items"]
        ),
        60,
        what="region2 pods gone",
    )
    operator.start()
    namespace.apply(failover("to-empty", "region1", "region2"))

    refused = namespace.wait_phase("to-empty", "Refused")
    blocked = condition(refused, "FailoverBlocked")
    assert (blocked["status"], blocked["reason"]) == ("True", "TargetUnhealthy")
    assert "no ready pods" in blocked["message"]
    assert namespace.selector_region() == "region1"
    assert namespace.endpoint_regions() == ["region1", "region1"]
    assert namespace.leases() == []


def test_dry_run_reports_and_changes_nothing(
    namespace: Namespace, make_group: GroupFactory, operator: OperatorProcess
) -> None:
    make_group()
    operator.start()
    namespace.apply(failover("rehearsal", "region1", "region2", dryRun=True))

    done = namespace.wait_phase("rehearsal", "Completed")
    assert done["status"]["dryRun"] is True
    assert done["status"]["selectorsAfter"][SERVICE]["tier0.io/region"] == "region2"
    assert "nothing changed" in done["status"]["message"]
    assert condition(done, "Ready")["reason"] == "DryRun"
    assert namespace.selector_region() == "region1"
    assert namespace.endpoint_regions() == ["region1", "region1"]
    assert (
        "activeRegion" not in (namespace.fg().get("status") or {})
        or namespace.fg()["status"]["activeRegion"] == "region1"
    )


def test_concurrent_failovers_on_one_group_do_not_interleave(
    namespace: Namespace,
    make_group: GroupFactory,
    operator: OperatorProcess,
    regions: dict[str, RegionApi],
) -> None:
    make_group()
    # A slow health answer keeps the first failover inside its gates, holding the lock.
    # (under PROBE_TIMEOUT_SECONDS, 2 s, so the gate passes).
    regions["region2"].state.health_delay = 1.5
    operator.start()
    namespace.apply(failover("first", "region1", "region2"))
    wait_for(
        lambda: namespace.leases() == [f"tier0-failover-svc-{SERVICE}"],
        10,
        what="the first failover holding the Service lease",
    )
    namespace.apply(failover("second", "region2", "region1"))

    wait_for(
        lambda: (
            (namespace.rfo("second").get("status") or {}).get("phase") == "Pending"
            and "first" in namespace.rfo("second")["status"]["message"]
        ),
        10,
        what="second failover waiting for the first",
    )
    regions["region2"].state.health_delay = 0.0
    first = namespace.wait_phase("first", "Completed")
    second = namespace.wait_phase("second", "Completed")
    first_end = from_rfc3339(first["status"]["endTime"])
    second_decided = from_rfc3339(second["status"]["timestamps"]["decidedAt"])
    assert second_decided >= first_end, "the second failover decided before the first ended"
    assert namespace.selector_region() == "region1"
    assert namespace.endpoint_regions() == ["region1", "region1"]
    assert namespace.leases() == []


@pytest.mark.parametrize("failpoint", ["after-decided", "after-selectors-patched"])
def test_operator_killed_mid_failover_finishes_after_restart(
    namespace: Namespace, make_group: GroupFactory, operator: OperatorProcess, failpoint: str
) -> None:
    make_group()
    operator.start(failpoint=failpoint)
    namespace.apply(failover("interrupted", "region1", "region2"))
    namespace.wait_phase("interrupted", "InProgress")
    if failpoint == "after-selectors-patched":
        wait_for(lambda: namespace.selector_region() == "region2", 10, what="selector patched")
    operator.kill()
    assert namespace.phase("interrupted") == "InProgress"
    assert namespace.leases() == [f"tier0-failover-svc-{SERVICE}"]

    operator.start()
    done = namespace.wait_phase("interrupted", "Completed")
    assert namespace.selector_region() == "region2"
    assert namespace.endpoint_regions() == ["region2", "region2"]
    assert done["status"]["selectorsBefore"][SERVICE]["tier0.io/region"] == "region1"
    assert namespace.leases() == []
    assert namespace.fg()["status"]["activeRegion"] == "region2"
    # failoverInProgress mirrors the Leases from the group's probe loop (kept off the
    # failover path), so it clears within a probe interval rather than at once.
    wait_for(
        lambda: not namespace.fg()["status"].get("failoverInProgress"),
        10,
        what="the group's failoverInProgress mirror to clear",
    )


def test_stale_target_is_blocked_and_force_overrides_and_is_recorded(
    namespace: Namespace,
    make_group: GroupFactory,
    operator: OperatorProcess,
    regions: dict[str, RegionApi],
) -> None:
    make_group(gates={"freshnessBudgetSeconds": 30})
    regions["region2"].state.last_ingest = time.time() - 600  # region2's ingest stopped
    operator.start()
    namespace.apply(failover("stale", "region1", "region2"))

    refused = namespace.wait_phase("stale", "Refused")
    blocked = condition(refused, "FailoverBlocked")
    assert (blocked["status"], blocked["reason"]) == ("True", "TargetStale")
    assert "behind the source" in blocked["message"]
    assert namespace.selector_region() == "region1"

    namespace.apply(failover("forced", "region1", "region2", force=True))
    done = namespace.wait_phase("forced", "Completed")
    assert done["status"]["forced"] is True
    assert condition(done, "FailoverBlocked")["reason"] == "Forced"
    assert namespace.selector_region() == "region2"


def test_failing_canary_blocks_and_a_passing_one_lets_through(
    namespace: Namespace,
    make_group: GroupFactory,
    operator: OperatorProcess,
    regions: dict[str, RegionApi],
    mosquitto_server,  # type: ignore[no-untyped-def]
) -> None:
    regions["region2"].subscribe_canaries(
        mosquitto_server.host, mosquitto_server.port, mosquitto_server.mqtt_user("ingest")
    )
    regions["region2"].state.ingest_canaries = False  # the broker -> region2 path is broken
    make_group(
        gates={
            "canary": {
                "enabled": True,
                "mqttHost": mosquitto_server.host,
                "mqttPort": mosquitto_server.port,
                "timeoutSeconds": 1.5,
            }
        }
    )
    canary = mosquitto_server.mqtt_user("canary")
    operator.env.update(CANARY_MQTT_USERNAME=canary.username, CANARY_MQTT_PASSWORD=canary.password)
    operator.start()
    namespace.apply(failover("canary-fails", "region1", "region2"))

    refused = namespace.wait_phase("canary-fails", "Refused")
    assert condition(refused, "FailoverBlocked")["reason"] == "CanaryFailed"
    assert namespace.selector_region() == "region1"

    regions["region2"].state.ingest_canaries = True
    namespace.apply(failover("canary-passes", "region1", "region2"))
    done = namespace.wait_phase("canary-passes", "Completed")
    canary = next(g for g in done["status"]["gates"] if g["name"] == "Canary")
    assert canary["passed"] is True
    assert namespace.selector_region() == "region2"
