"""The failover phase machine (reconcile.py) against an in-memory Cluster, in milliseconds.

tests/support/fake_cluster.py implements the operator's own boundary Protocol; the
same paths run against a real API server in tests/integration/operator. Here each
phase and each way out of it is checked on its own: decided and completed, already
on target, waiting for another failover's lock, a stale lock, a refused gate, a
resumed failover, EndpointSlices that never follow (rollback), an expired watch, a
bad spec, a dry run, and the order of the failpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.fake_cluster import FakeCluster, two_region_cluster
from tier0_common.failover_crd import DEFAULT_REGION_LABEL as LABEL
from tier0_common.failover_crd import FG_PLURAL, RF_PLURAL
from tier0_operator.locks import lease_name
from tier0_operator.reconcile import Failover
from tier0_operator.request import Outcome
from tier0_operator.settings import Settings

GROUP = "api"
SERVICE = "tier0-api"


@pytest.fixture
def cluster() -> FakeCluster:
    return two_region_cluster(GROUP, SERVICE)


@pytest.fixture
def steps() -> list[str]:
    return []


@pytest.fixture
def failover(cluster: FakeCluster, steps: list[str]) -> Iterator[Failover]:
    settings = Settings(ENDPOINTS_TIMEOUT_SECONDS=0.2)
    with httpx.Client() as http:
        machine = Failover(cluster, settings, http, failpoint=steps.append)
        yield machine
        machine.reader.close()


def request(cluster: FakeCluster, name: str = "fo-1", **spec: Any) -> dict[str, Any]:
    body = {
        "apiVersion": "tier0.io/v1",
        "kind": "RegionFailover",
        "metadata": {"name": name},
        "spec": {
            "group": GROUP,
            "sourceRegion": "region1",
            "targetRegion": "region2",
            "reason": "test",
            **spec,
        },
    }
    return cluster.add_object(RF_PLURAL, body)


def status(cluster: FakeCluster, name: str = "fo-1") -> dict[str, Any]:
    return dict(cluster.object(RF_PLURAL, name).get("status") or {})


def conditions(cluster: FakeCluster, name: str = "fo-1") -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status(cluster, name)["conditions"]}


def test_a_failover_is_decided_switched_and_recorded(
    cluster: FakeCluster, failover: Failover, steps: list[str]
) -> None:
    assert failover.reconcile(request(cluster)) is Outcome.DONE
    assert cluster.selector(SERVICE)[LABEL] == "region2"
    record = status(cluster)
    assert record["phase"] == "Completed"
    assert record["selectorsBefore"] == {SERVICE: {"app": "api", LABEL: "region1"}}
    assert set(record["timestamps"]) >= {
        "requestedAt",
        "decidedAt",
        "selectorsPatchedAt",
        "endpointsReadyAt",
    }
    assert [g["name"] for g in record["gates"]] == ["TargetReady"]
    assert conditions(cluster)["Ready"] == ("True", "FailoverCompleted")
    group = cluster.object(FG_PLURAL, GROUP)["status"]
    assert group["activeRegion"] == "region2"
    assert "lastTransitionTime" in group
    assert not cluster.leases
    assert steps == ["after-decided", "after-selectors-patched"]
    reasons = [e["reason"] for e in cluster.events]
    assert reasons == ["FailoverCompleted", "SelectorSwitched"]


def test_a_finished_failover_is_left_alone(cluster: FakeCluster, failover: Failover) -> None:
    body = request(cluster)
    body["status"] = {"phase": "Completed"}
    assert failover.reconcile(body) is Outcome.DONE
    assert "status" not in cluster.object(RF_PLURAL, "fo-1")


def test_services_already_on_the_target_complete_without_a_transition(
    cluster: FakeCluster, failover: Failover, steps: list[str]
) -> None:
    cluster.patch_service(cluster.namespace, SERVICE, {"spec": {"selector": {LABEL: "region2"}}})
    cluster.service_patches.clear()
    failover.reconcile(request(cluster))
    assert status(cluster)["phase"] == "Completed"
    assert status(cluster)["message"] == "already on region2; nothing to change"
    group = cluster.object(FG_PLURAL, GROUP)["status"]
    assert group["activeRegion"] == "region2"
    assert "lastTransitionTime" not in group
    assert cluster.service_patches == []
    assert steps == []


def test_a_failover_waits_while_another_holds_the_lock(
    cluster: FakeCluster, failover: Failover
) -> None:
    request(cluster, "other")  # not finished: its lock is live
    cluster.create_lease(cluster.namespace, lease_name(SERVICE), "other")
    assert failover.reconcile(request(cluster)) is Outcome.WAITING
    record = status(cluster)
    assert record["phase"] == "Pending"
    assert "other" in record["message"]
    assert conditions(cluster)["Progressing"] == ("False", "WaitingForLock")
    assert cluster.selector(SERVICE)[LABEL] == "region1"


def test_a_lock_left_by_a_finished_failover_is_broken(
    cluster: FakeCluster, failover: Failover
) -> None:
    cluster.add_object(RF_PLURAL, {"metadata": {"name": "dead"}, "status": {"phase": "Completed"}})
    cluster.create_lease(cluster.namespace, lease_name(SERVICE), "dead")
    assert failover.reconcile(request(cluster)) is Outcome.DONE
    assert status(cluster)["phase"] == "Completed"
    assert not cluster.leases


def test_a_failing_gate_refuses_and_changes_nothing(
    cluster: FakeCluster, failover: Failover
) -> None:
    del cluster.pods[(cluster.namespace, "region2-a")]
    cluster.add_pod("region2-a", {"app": "api", LABEL: "region2"}, ready=False)
    failover.reconcile(request(cluster))
    record = status(cluster)
    assert record["phase"] == "Refused"
    assert record["message"].startswith("TargetUnhealthy: ready region2 pods per Service")
    assert conditions(cluster)["FailoverBlocked"] == ("True", "TargetUnhealthy")
    assert cluster.selector(SERVICE)[LABEL] == "region1"
    assert not cluster.leases
    assert [e["reason"] for e in cluster.events] == ["FailoverBlocked"]


def test_force_skips_the_gates(cluster: FakeCluster, failover: Failover) -> None:
    failover.reconcile(request(cluster, force=True))
    assert status(cluster)["phase"] == "Completed"
    assert status(cluster)["gates"] == []
    assert conditions(cluster)["FailoverBlocked"] == ("False", "Forced")


def test_a_resumed_failover_finishes_forward(
    cluster: FakeCluster, failover: Failover, steps: list[str]
) -> None:
    """Killed after the decision: the status says InProgress and the Service is patched."""
    body = request(cluster)
    cluster.patch_service(cluster.namespace, SERVICE, {"spec": {"selector": {LABEL: "region2"}}})
    body["status"] = {"phase": "InProgress", "timestamps": {"decidedAt": "2026-01-01T00:00:00Z"}}
    assert failover.reconcile(body) is Outcome.DONE
    # Already switched: the no-op path records it (a decision is never made twice).
    assert status(cluster)["phase"] == "Completed"
    assert cluster.object(FG_PLURAL, GROUP)["status"]["activeRegion"] == "region2"
    assert "after-decided" not in steps


def test_a_resumed_failover_patches_what_is_left(cluster: FakeCluster, failover: Failover) -> None:
    body = request(cluster)
    body["status"] = {"phase": "InProgress"}
    failover.reconcile(body)
    assert cluster.selector(SERVICE)[LABEL] == "region2"
    assert status(cluster)["phase"] == "Completed"
    assert status(cluster)["message"].startswith("tier0-api switched region1 -> region2")


def test_endpoints_that_never_follow_roll_the_selectors_back(
    cluster: FakeCluster, failover: Failover
) -> None:
    cluster.controller_running = False
    failover.reconcile(request(cluster))
    record = status(cluster)
    assert record["phase"] == "Failed"
    assert "EndpointSlices did not switch within 0.2s" in record["message"]
    assert cluster.selector(SERVICE)[LABEL] == "region1"
    assert [p for _, p in cluster.service_patches] == [
        {"spec": {"selector": {LABEL: "region2"}}},
        {"spec": {"selector": {LABEL: "region1"}}},
    ]
    assert conditions(cluster)["Ready"] == ("False", "EndpointsTimeout")
    assert not cluster.leases


def test_an_expired_watch_lists_again(cluster: FakeCluster, failover: Failover) -> None:
    cluster.expire_watches = 1
    failover.reconcile(request(cluster))
    assert status(cluster)["phase"] == "Completed"


def test_a_bad_spec_is_refused_with_the_field_path(
    cluster: FakeCluster, failover: Failover
) -> None:
    failover.reconcile(request(cluster, targetRegion="region1"))
    record = status(cluster)
    assert record["phase"] == "Refused"
    assert "InvalidSpec" in record["message"]
    assert "targetRegion must differ from sourceRegion" in record["message"]


def test_an_unknown_group_is_refused(cluster: FakeCluster, failover: Failover) -> None:
    failover.reconcile(request(cluster, group="nope"))
    assert status(cluster)["message"] == "GroupNotFound: FailoverGroup 'nope' not found"


def test_a_dry_run_changes_nothing(
    cluster: FakeCluster, failover: Failover, steps: list[str]
) -> None:
    failover.reconcile(request(cluster, dryRun=True))
    record = status(cluster)
    assert record["phase"] == "Completed"
    assert record["message"].startswith("dry run, nothing changed; would patch tier0-api:")
    assert cluster.selector(SERVICE)[LABEL] == "region1"
    assert cluster.service_patches == []
    assert not cluster.leases
    assert steps == []
