"""The TargetReady and TargetDeployment gates' judgements, on the API's JSON."""

from __future__ import annotations

from typing import Any

from tier0_operator.health import count_ready, judge_deployment, pod_is_ready


def pod(
    region: str, *, ready: bool = True, deleting: bool = False, app: str = "api"
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"{app}-{region}", "labels": {"app": app, "region": region}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return {"metadata": meta, "status": status}


def test_only_ready_pods_not_being_deleted_count() -> None:
    assert pod_is_ready(pod("region2"))
    assert not pod_is_ready(pod("region2", ready=False))
    assert not pod_is_ready(pod("region2", deleting=True))
    assert not pod_is_ready({"metadata": {"name": "new"}})


def test_count_ready_applies_the_whole_selector() -> None:
    pods = [pod("region2"), pod("region2", app="other"), pod("region2", ready=False)]
    assert count_ready(pods, {"app": "api", "region": "region2"}) == 1
    assert count_ready(pods, {"region": "region2"}) == 2
    assert count_ready(pods, {"app": "api", "region": "region1"}) == 0


def test_deployment_gate_needs_a_ready_replica() -> None:
    assert judge_deployment({"status": {"readyReplicas": 2}}, "d") == (
        True,
        "deployment d: 2 ready replica(s)",
    )
    assert not judge_deployment({"status": {}}, "d")[0]
    assert judge_deployment(None, "d") == (False, "deployment d not found")
