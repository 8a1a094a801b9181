"""The failover endpoints against the REAL local API server, with no operator running.

What the API itself does: the RegionFailover it creates (spec, annotation, label), the
bounded wait ending in 504, the watch waking up on a verdict, restore's defaults and
no-op, the status view, and Kubernetes refusals passed through (RBAC 403, missing
group 503). The API runs under a ServiceAccount token bound to API_ROLE_RULES (and
system:auth-delegator, to review its callers) only, so every test also proves those
rules are enough. The caller may request and force failovers. The operator's side is in
tests/integration/api/test_failover_api.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.k8s_objects import (  # noqa: F401  (fixtures)
    API_ACCOUNT,
    Namespace,
    admin,
    bare_group,
    caller_headers,
    cluster,
    create_api_account,
    create_service_account,
    service_account_kubeconfig,
)
from tests.support.wait import async_wait_for
from tier0_api.app import create_app
from tier0_api.settings import Settings
from tier0_common.failover_crd import (
    FG_PLURAL,
    GROUP,
    GROUP_LABEL,
    REQUESTED_AT_ANNOTATION,
    RF_PLURAL,
    VERSION,
)
from tier0_devenv.k8s import LocalCluster
from tier0_operator.kube import Kube

pytestmark = [pytest.mark.k8s]

GROUP_NAME = "tier0-api"


def set_group_status(ns: Namespace, status: dict[str, Any], name: str = GROUP_NAME) -> None:
    ns.kube.custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, ns.name, FG_PLURAL, name, {"status": status}
    )


def set_failover_status(ns: Namespace, name: str, status: dict[str, Any]) -> None:
    ns.kube.custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, ns.name, RF_PLURAL, name, {"status": status}
    )


@pytest.fixture
def bare_namespace(cluster: LocalCluster, admin: Kube) -> Iterator[Namespace]:  # noqa: F811
    """A fresh namespace with a FailoverGroup and nothing else (no operator, no pods)."""
    name = f"api-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    ns = Namespace(name, cluster, admin)
    ns.apply(bare_group())
    yield ns
    cluster.kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture
def api_kubeconfig(bare_namespace: Namespace, tmp_path: Path) -> Path:
    create_api_account(bare_namespace)
    return service_account_kubeconfig(bare_namespace, API_ACCOUNT, tmp_path / "api-kubeconfig")


@pytest.fixture
def caller(bare_namespace: Namespace) -> dict[str, str]:
    """A person who may request and force failovers (tests/integration/security covers
    the ones who may not)."""
    return caller_headers(bare_namespace)


async def client_for(
    settings: Settings, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://region1", headers=headers
        ) as http:
            yield http
    finally:
        app.state.failover_store.connection.close()


@pytest.fixture
async def api(api_kubeconfig: Path, caller: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The region API app (no lifespan: the failover routes need no Redis), called by
    a person who may request and force failovers."""
    settings = Settings(kubeconfig=str(api_kubeconfig), log_level="WARNING")
    async for http in client_for(settings, caller):
        yield http


async def test_simulate_creates_the_failover_and_times_out_without_an_operator(
    api: httpx.AsyncClient, bare_namespace: Namespace
) -> None:
    before = time.time()
    response = await api.post("/api/failover/simulate", params={"wait_seconds": 1})

    assert response.status_code == 504, response.text
    body = response.json()
    assert body["status"] == "timeout"
    assert (body["source_region"], body["target_region"]) == ("region1", "region2")
    assert body["phase"] is None
    assert body["failover_latency_seconds"] is None
    assert "is the tier0 operator running" in body["message"]
    assert bare_namespace.name in body["message"]
    assert 1.0 <= body["api_wait_seconds"] < 3.0
    assert body["namespace"] == bare_namespace.name  # from the kubeconfig context

    [obj] = bare_namespace.rfos()
    assert obj["metadata"]["name"] == body["name"]
    assert obj["metadata"]["name"].startswith(f"{GROUP_NAME}-simulate-")
    assert obj["metadata"]["labels"][GROUP_LABEL] == GROUP_NAME
    requested = datetime.fromisoformat(obj["metadata"]["annotations"][REQUESTED_AT_ANNOTATION])
    assert before <= requested.timestamp() <= time.time()
    assert obj["spec"] == {
        "group": GROUP_NAME,
        "sourceRegion": "region1",
        "targetRegion": "region2",
        "reason": "simulated failover (POST /api/failover/simulate)",
        "dryRun": False,
        "force": False,
    }


async def test_body_options_reach_the_spec_and_wait_zero_answers_202(
    api: httpx.AsyncClient, bare_namespace: Namespace
) -> None:
    response = await api.post(
        "/api/failover/simulate",
        params={"wait_seconds": 0},
        json={"target_region": "region2", "reason": "drill 42", "dry_run": True, "force": True},
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "accepted"
    assert body["api_wait_seconds"] is None
    spec = bare_namespace.rfo(body["name"])["spec"]
    assert (spec["reason"], spec["dryRun"], spec["force"]) == ("drill 42", True, True)


async def test_simulate_starts_from_the_group_active_region(
    api: httpx.AsyncClient, bare_namespace: Namespace
) -> None:
    set_group_status(bare_namespace, {"activeRegion": "region2"})

    response = await api.post("/api/failover/simulate", params={"wait_seconds": 0})

    assert response.status_code == 202, response.text
    spec = bare_namespace.rfo(response.json()["name"])["spec"]
    assert (spec["sourceRegion"], spec["targetRegion"]) == ("region2", "region1")


async def test_restore_is_a_noop_on_the_initial_region_and_goes_back_from_the_other(
    api: httpx.AsyncClient, bare_namespace: Namespace
) -> None:
    noop = await api.post("/api/failover/restore")
    assert noop.status_code == 200, noop.text
    assert noop.json()["status"] == "noop"
    assert noop.json()["name"] is None
    assert bare_namespace.rfos() == []

    set_group_status(bare_namespace, {"activeRegion": "region2"})
    response = await api.post("/api/failover/restore", params={"wait_seconds": 0})

    assert response.status_code == 202, response.text
    obj = bare_namespace.rfo(response.json()["name"])
    assert obj["metadata"]["name"].startswith(f"{GROUP_NAME}-restore-")
    assert (obj["spec"]["sourceRegion"], obj["spec"]["targetRegion"]) == ("region2", "region1")


async def test_a_verdict_written_while_waiting_ends_the_wait_with_its_status_code(
    api: httpx.AsyncClient, bare_namespace: Namespace
) -> None:
    request = asyncio.create_task(api.post("/api/failover/simulate", params={"wait_seconds": 20}))
    names = await async_wait_for(
        lambda: asyncio.to_thread(lambda: [o["metadata"]["name"] for o in bare_namespace.rfos()]),
        10,
        what="the RegionFailover created by the request",
    )
    # Stands in for the operator's verdict: only the watch on the object is under test.
    set_failover_status(
        bare_namespace,
        names[0],
        {
            "phase": "Refused",
            "message": "TargetUnhealthy: ready region2 pods per Service: tier0-api: 0",
            "conditions": [
                {
                    "type": "FailoverBlocked",
                    "status": "True",
                    "reason": "TargetUnhealthy",
                    "message": "no ready pods",
                    "lastTransitionTime": "2026-11-29T00:00:00Z",
                }
            ],
        },
    )
    response = await asyncio.wait_for(request, 20)

    assert response.status_code == 409, response.text
    body = response.json()
    assert body["status"] == "refused"
    assert "TargetUnhealthy" in body["message"]
    assert body["conditions"][0]["reason"] == "TargetUnhealthy"
    assert body["api_wait_seconds"] < 10  # woken by the watch, not by the 20 s bound


async def test_status_shows_the_group_and_its_newest_failovers(
    api: httpx.AsyncClient, bare_namespace: Namespace
) -> None:
    set_group_status(
        bare_namespace,
        {
            "activeRegion": "region1",
            "regions": [{"name": "region1", "state": "Healthy", "since": "2026-11-29T00:00:00Z"}],
        },
    )
    names = []
    for _ in range(3):
        created = await api.post("/api/failover/simulate", params={"wait_seconds": 0})
        names.append(created.json()["name"])
    set_failover_status(
        bare_namespace, names[2], {"phase": "Completed", "latencySeconds": 0.4321, "message": "ok"}
    )
    other = bare_group("other-group")
    bare_namespace.apply(other)
    bare_namespace.apply(
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "RegionFailover",
            "metadata": {"name": "not-ours"},
            "spec": {
                "group": "other-group",
                "sourceRegion": "region1",
                "targetRegion": "region2",
                "reason": "x",
            },
        }
    )

    response = await api.get("/api/failover/status", params={"limit": 2})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["group"] == GROUP_NAME
    assert (body["active_region"], body["initial_region"]) == ("region1", "region1")
    assert [r["name"] for r in body["regions"]] == ["region1", "region2"]
    assert [r["state"] for r in body["regions"]] == ["Healthy", None]
    assert body["automation_frozen"] is False
    assert [h["name"] for h in body["history"]] == [names[2], names[1]]
    newest = body["history"][0]
    assert newest["phase"] == "Completed"
    assert newest["failover_latency_seconds"] == 0.4321
    assert (newest["source_region"], newest["target_region"]) == ("region1", "region2")
    assert newest["created"] is not None


async def test_unknown_region_is_422_and_the_active_one_409(
    api: httpx.AsyncClient, bare_namespace: Namespace
) -> None:
    unknown = await api.post("/api/failover/simulate", json={"target_region": "region7"})
    assert unknown.status_code == 422
    assert unknown.json()["error"] == "unknown_region"
    assert "region1, region2" in unknown.json()["detail"]

    active = await api.post("/api/failover/simulate", json={"target_region": "region1"})
    assert active.status_code == 409
    assert active.json()["error"] == "already_active"
    assert bare_namespace.rfos() == []


async def test_missing_group_is_503_naming_the_setting(
    api_kubeconfig: Path, bare_namespace: Namespace, caller: dict[str, str]
) -> None:
    settings = Settings(kubeconfig=str(api_kubeconfig), failover_group="nope", log_level="WARNING")
    async for http in client_for(settings, caller):
        response = await http.get("/api/failover/status")
        assert response.status_code == 503
        assert response.json()["error"] == "failover_group_not_found"
        assert "FAILOVER_GROUP" in response.json()["detail"]


async def test_rbac_denial_passes_through_as_403(
    bare_namespace: Namespace, tmp_path: Path, caller: dict[str, str]
) -> None:
    """The API's OWN identity lacks rights: a read passes the server's 403 through; a
    mutating call cannot even review its caller and says which binding is missing."""
    create_service_account(bare_namespace, "no-rights")
    kubeconfig = service_account_kubeconfig(bare_namespace, "no-rights", tmp_path / "no-rights")
    settings = Settings(kubeconfig=str(kubeconfig), log_level="WARNING")
    async for http in client_for(settings, caller):
        response = await http.get("/api/failover/status")
        assert response.status_code == 403, response.text
        body = response.json()
        assert body["error"] == "kubernetes_forbidden"
        assert 'cannot get resource "failovergroups"' in body["detail"]
        assert "no-rights" in body["detail"]
        refused = await http.post("/api/failover/simulate")
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "auth_unavailable"
        assert "system:auth-delegator" in refused.json()["detail"]
