"""The failover endpoints' pure rules: regions, manifest, status codes, history, errors.

Also pins the wire names the API and operator share (tier0_common/failover_crd.py) to
the CRD files themselves, so a renamed field or phase fails here rather than in a cluster.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import urllib3
import yaml
from kubernetes.client.exceptions import ApiException

from tier0_api.failover import planning as decisions
from tier0_api.failover.errors import FailoverError, translate
from tier0_api.failover.schemas import RestoreRequest, SimulateRequest
from tier0_common import failover_crd

CRDS = Path(__file__).resolve().parents[3] / "charts" / "tier0" / "crds"
NOW = datetime(2026, 11, 29, 3, 0, 0, 123456, tzinfo=UTC)


def group(active: str | None = None, regions: tuple[str, ...] = ("region1", "region2")) -> dict:
    return {
        "spec": {
            "services": ["tier0-api"],
            "initialRegion": regions[0],
            "regions": [{"name": r} for r in regions],
        },
        "status": {"activeRegion": active} if active else {},
    }


def rfo(name: str, phase: str | None = None, **status: Any) -> dict:
    return {
        "metadata": {"name": name, "creationTimestamp": "2026-11-29T03:00:00Z"},
        "spec": {
            "group": "g",
            "sourceRegion": "region1",
            "targetRegion": "region2",
            "reason": "r",
            "dryRun": status.pop("dry_run", False),
        },
        "status": {"phase": phase, **status} if phase else {},
    }


def test_wire_names_match_the_crds() -> None:
    rf = yaml.safe_load((CRDS / "regionfailovers.tier0.io.yaml").read_text())
    fg = yaml.safe_load((CRDS / "failovergroups.tier0.io.yaml").read_text())
    assert (rf["spec"]["group"], rf["spec"]["versions"][0]["name"]) == (
        failover_crd.GROUP,
        failover_crd.VERSION,
    )
    assert rf["spec"]["names"]["plural"] == failover_crd.RF_PLURAL
    assert rf["spec"]["names"]["kind"] == failover_crd.RF_KIND
    assert fg["spec"]["names"]["plural"] == failover_crd.FG_PLURAL
    schema = rf["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
    assert set(schema["status"]["properties"]["phase"]["enum"]) == failover_crd.PHASES
    spec_fields = set(schema["spec"]["properties"])
    manifest = decisions.failover_manifest(
        "g",
        decisions.Plan("region1", "region2"),
        reason="r",
        dry_run=False,
        force=False,
        requested_at=NOW,
        via="region1 POST /api/failover/simulate",
    )
    assert set(manifest["spec"]) <= spec_fields
    assert set(manifest["spec"]) >= set(schema["spec"].get("required", []))


def test_simulate_defaults_to_the_other_region_of_the_active_one() -> None:
    assert decisions.plan_simulate("g", group(), SimulateRequest()) == decisions.Plan(
        "region1", "region2"
    )
    assert decisions.plan_simulate("g", group("region2"), SimulateRequest()) == decisions.Plan(
        "region2", "region1"
    )


def test_simulate_with_three_regions_needs_a_target() -> None:
    three = group(regions=("region1", "region2", "region3"))
    with pytest.raises(FailoverError) as info:
        decisions.plan_simulate("g", three, SimulateRequest())
    assert (info.value.status_code, info.value.error) == (422, "target_region_required")
    plan = decisions.plan_simulate("g", three, SimulateRequest(target_region="region3"))
    assert plan == decisions.Plan("region1", "region3")


@pytest.mark.parametrize(
    ("request_", "code", "error"),
    [
        (SimulateRequest(target_region="region9"), 422, "unknown_region"),
        (SimulateRequest(source_region="region9"), 422, "unknown_region"),
        (SimulateRequest(target_region="region1"), 409, "already_active"),
        (SimulateRequest(source_region="region2", target_region="region2"), 422, "same_region"),
    ],
)
def test_simulate_refuses_impossible_requests(
    request_: SimulateRequest, code: int, error: str
) -> None:
    with pytest.raises(FailoverError) as info:
        decisions.plan_simulate("g", group(), request_)
    assert (info.value.status_code, info.value.error) == (code, error)


def test_restore_defaults_to_the_initial_region_and_may_be_a_noop() -> None:
    assert decisions.plan_restore("g", group("region2"), RestoreRequest()) == decisions.Plan(
        "region2", "region1"
    )
    noop = decisions.plan_restore("g", group("region1"), RestoreRequest())
    assert noop.source == noop.target == "region1"
    named = decisions.plan_restore("g", group("region1"), RestoreRequest(region="region2"))
    assert named == decisions.Plan("region1", "region2")
    with pytest.raises(FailoverError):
        decisions.plan_restore("g", group(), RestoreRequest(region="region5"))


def test_restore_accepts_the_dashboard_body_and_refuses_contradictions() -> None:
    body = RestoreRequest.model_validate(
        {"region": "region1", "target_region": "region1", "source_region": "region2"}
    )
    assert body.wanted_region == "region1"
    with pytest.raises(ValueError, match="different regions"):
        RestoreRequest(region="region1", target_region="region2")
    with pytest.raises(ValueError, match="Extra inputs"):
        RestoreRequest.model_validate({"regoin": "region1"})


def test_manifest_carries_request_time_group_label_and_generated_name() -> None:
    manifest = decisions.failover_manifest(
        "tier0-api",
        decisions.Plan("region1", "region2"),
        reason="drill",
        dry_run=True,
        force=False,
        requested_at=NOW,
        via="region1 POST /api/failover/simulate",
    )
    meta = manifest["metadata"]
    assert meta["generateName"] == "tier0-api-simulate-"
    stamp = meta["annotations"][failover_crd.REQUESTED_AT_ANNOTATION]
    assert stamp == "2026-11-29T03:00:00.123456Z"
    assert meta["labels"] == {failover_crd.GROUP_LABEL: "tier0-api"}
    assert manifest["spec"]["dryRun"] is True
    long_name = "a" * 100
    long = decisions.failover_manifest(
        long_name,
        decisions.Plan("region1", "region2"),
        reason="r",
        dry_run=False,
        force=False,
        requested_at=NOW,
        via="x POST /api/failover/restore",
    )
    assert "labels" not in long["metadata"]  # a label value is at most 63 characters


@pytest.mark.parametrize(
    ("obj", "waited", "expected"),
    [
        (rfo("a", "Completed", latencySeconds=0.41), True, (200, "success")),
        (rfo("a", "Completed", dry_run=True), True, (200, "dry_run")),
        (rfo("a", "Refused", message="TargetUnhealthy: no pods"), True, (409, "refused")),
        (rfo("a", "Failed", message="EndpointSlices did not switch"), True, (409, "failed")),
        (rfo("a", "InProgress"), True, (504, "timeout")),
        (rfo("a"), True, (504, "timeout")),
        (rfo("a"), False, (202, "accepted")),
    ],
)
def test_status_code_follows_the_phase(obj: dict, waited: bool, expected: tuple[int, str]) -> None:
    assert decisions.outcome(obj, waited=waited) == expected


def test_response_keeps_the_seed_fields_and_the_operator_reason() -> None:
    obj = rfo(
        "a",
        "Refused",
        message="TargetUnhealthy: no ready region2 pods",
        conditions=[
            {
                "type": "FailoverBlocked",
                "status": "True",
                "reason": "TargetUnhealthy",
                "message": "m",
            }
        ],
        gates=[{"name": "TargetReady", "passed": False, "message": "0 pods"}],
    )
    code, body = decisions.failover_response(
        obj, namespace="ns", waited=True, wait_seconds=5, api_wait_seconds=0.2, now=NOW
    )
    seed = body.model_dump(mode="json")
    assert code == 409
    for field in (
        "status",
        "source_region",
        "target_region",
        "failover_latency_seconds",
        "message",
        "timestamp",
    ):
        assert field in seed
    assert seed["status"] == "refused"
    assert "refused by the operator: TargetUnhealthy: no ready region2 pods" in seed["message"]
    assert seed["conditions"][0]["reason"] == "TargetUnhealthy"
    assert seed["gates"] == [{"name": "TargetReady", "passed": False, "message": "0 pods"}]

    code, done = decisions.failover_response(
        rfo("b", "Completed", latencySeconds=0.4123, message="tier0-api switched"),
        namespace="ns",
        waited=True,
        wait_seconds=5,
        api_wait_seconds=0.5,
        now=NOW,
    )
    assert (code, done.status, done.failover_latency_seconds) == (200, "success", 0.4123)
    assert done.message.startswith("Failover completed from region1 to region2")


def test_timeout_message_says_whether_the_operator_picked_it_up() -> None:
    _, untouched = decisions.failover_response(
        rfo("a"), namespace="ns", waited=True, wait_seconds=2, api_wait_seconds=2, now=NOW
    )
    assert "is the tier0 operator running" in untouched.message
    _, busy = decisions.failover_response(
        rfo("a", "Pending", message="waiting for RegionFailover x"),
        namespace="ns",
        waited=True,
        wait_seconds=2,
        api_wait_seconds=2,
        now=NOW,
    )
    assert "phase Pending: waiting for RegionFailover x" in busy.message


def test_history_is_the_groups_newest_first() -> None:
    def at(name: str, stamp: str, group_name: str = "g") -> dict:
        obj = rfo(name)
        obj["spec"]["group"] = group_name
        obj["metadata"]["annotations"] = {failover_crd.REQUESTED_AT_ANNOTATION: stamp}
        return obj

    objs = [
        at("old", "2026-11-29T03:00:00.100000Z"),
        at("new", "2026-11-29T03:00:00.900000Z"),  # same second: microseconds decide
        at("mid", "2026-11-29T03:00:00.500000Z"),
        at("other", "2026-11-29T04:00:00.000000Z", group_name="h"),
    ]
    assert [r.name for r in decisions.history(objs, "g", 10)] == ["new", "mid", "old"]
    assert [r.name for r in decisions.history(objs, "g", 1)] == ["new"]


def _api_error(status: int, body: dict | str) -> ApiException:
    exc = ApiException(status=status, reason="x")
    exc.body = json.dumps(body) if isinstance(body, dict) else body
    return exc


@pytest.mark.parametrize(
    ("exc", "code", "error"),
    [
        (_api_error(403, {"message": "forbidden: cannot create"}), 403, "kubernetes_forbidden"),
        (_api_error(401, {"message": "Unauthorized"}), 503, "kubernetes_unauthorized"),
        (_api_error(404, "404 page not found"), 503, "crd_missing"),
        (_api_error(404, {"message": "nf", "details": {"name": "x"}}), 404, "not_found"),
        (_api_error(422, {"message": "spec.targetRegion: Invalid"}), 422, "invalid_failover"),
        (_api_error(500, {"message": "etcd down"}), 503, "kubernetes_unavailable"),
        (urllib3.exceptions.MaxRetryError(None, "/", "refused"), 503, "kubernetes_unavailable"),
        (ConnectionRefusedError("refused"), 503, "kubernetes_unavailable"),
    ],
)
def test_kubernetes_failures_become_answers(exc: Exception, code: int, error: str) -> None:
    answer = translate(exc, "https://127.0.0.1:6443")
    assert (answer.status_code, answer.error) == (code, error)
    server_side = isinstance(exc, ApiException) and (exc.status or 0) >= 500
    if code == 503 and not server_side:  # a configuration problem: say what to set
        assert "FAILOVER_ENABLED=false" in answer.detail


def test_forbidden_passes_the_servers_reason_through() -> None:
    message = (
        'regionfailovers.tier0.io is forbidden: User "system:serviceaccount:a:b" cannot create'
    )
    assert translate(_api_error(403, {"message": message}), "s").detail == message
