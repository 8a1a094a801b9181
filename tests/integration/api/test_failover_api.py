"""The failover endpoints end to end: region API -> RegionFailover -> real operator ->
Service selector and EndpointSlices, on the real local control plane.

Reuses the operator suite's fixtures (tests/support/k8s_objects.py): a fresh
namespace with the chart's operator RBAC and the local-demo Deployments and Service,
stand-in region APIs for the operator's health gates, the FailoverGroup, and the
operator as a subprocess under its ServiceAccount. The region API under test is
create_app() called through httpx's ASGITransport, authenticated as a ServiceAccount
holding only the rules the failover endpoints need.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.k8s_objects import (  # noqa: F401  (fixtures)
    API_ACCOUNT,
    SERVICE,
    GroupFactory,
    Namespace,
    OperatorProcess,
    admin,
    caller_headers,
    cluster,
    create_api_account,
    make_group,
    namespace,
    operator,
    regions,
    service_account_kubeconfig,
)
from tests.support.region_api import RegionApi
from tier0_api.app import create_app
from tier0_api.settings import Settings

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

#: Generous next to the ~0.1-1 s failovers measured here: a busy 2-core box.
WAIT_SECONDS = 30


@pytest.fixture
async def api(
    namespace: Namespace,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[httpx.AsyncClient]:
    create_api_account(namespace)
    caller = caller_headers(namespace)
    kubeconfig = service_account_kubeconfig(namespace, API_ACCOUNT, tmp_path / "api-kubeconfig")
    settings = Settings(
        kubeconfig=str(kubeconfig),
        failover_group=SERVICE,
        failover_wait_seconds=WAIT_SECONDS,
        log_level="WARNING",
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://region1",
            timeout=WAIT_SECONDS + 10,
            headers=caller,
        ) as http:
            yield http
    finally:
        app.state.failover_store.connection.close()


async def test_simulate_moves_the_service_and_restore_brings_it_back(
    api: httpx.AsyncClient,
    namespace: Namespace,  # noqa: F811
    make_group: GroupFactory,  # noqa: F811
    operator: OperatorProcess,  # noqa: F811
) -> None:
    make_group()
    operator.start()

    response = await api.post("/api/failover/simulate", json={"reason": "game day"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert (body["source_region"], body["target_region"]) == ("region1", "region2")
    assert body["phase"] == "Completed"
    assert 0 < body["failover_latency_seconds"] < 5
    assert body["message"].startswith("Failover completed from region1 to region2")
    assert {c["type"]: c["status"] for c in body["conditions"]}["Ready"] == "True"
    assert body["api_wait_seconds"] >= body["failover_latency_seconds"] * 0.5
    assert namespace.selector_region() == "region2"
    assert namespace.endpoint_regions() == ["region2", "region2"]
    assert namespace.rfo(body["name"])["spec"]["reason"] == "game day"

    status = (await api.get("/api/failover/status")).json()
    assert status["active_region"] == "region2"
    assert status["history"][0]["name"] == body["name"]
    assert status["history"][0]["phase"] == "Completed"
    assert status["failover_in_progress"] is None

    restored = await api.post("/api/failover/restore")

    assert restored.status_code == 200, restored.text
    assert restored.json()["status"] == "success"
    assert (restored.json()["source_region"], restored.json()["target_region"]) == (
        "region2",
        "region1",
    )
    assert namespace.selector_region() == "region1"
    assert namespace.endpoint_regions() == ["region1", "region1"]

    again = await api.post("/api/failover/restore")
    assert (again.status_code, again.json()["status"]) == (200, "noop")
    history = (await api.get("/api/failover/status")).json()["history"]
    assert [h["name"] for h in history] == [restored.json()["name"], body["name"]]


async def test_refused_failover_is_409_with_the_operator_reason_and_force_overrides(
    api: httpx.AsyncClient,
    namespace: Namespace,  # noqa: F811
    make_group: GroupFactory,  # noqa: F811
    operator: OperatorProcess,  # noqa: F811
    regions: dict[str, RegionApi],  # noqa: F811
) -> None:
    make_group()
    regions["region2"].state.healthy = False  # region2's /health answers 503
    operator.start()

    refused = await api.post("/api/failover/simulate")

    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["status"] == "refused"
    assert body["phase"] == "Refused"
    assert "refused by the operator: TargetUnhealthy" in body["message"]
    blocked = next(c for c in body["conditions"] if c["type"] == "FailoverBlocked")
    assert (blocked["status"], blocked["reason"]) == ("True", "TargetUnhealthy")
    assert any(g["name"] == "TargetHealthURL" and not g["passed"] for g in body["gates"])
    assert body["failover_latency_seconds"] is None
    assert namespace.selector_region() == "region1"

    forced = await api.post("/api/failover/simulate", json={"force": True, "reason": "break glass"})

    assert forced.status_code == 200, forced.text
    assert (forced.json()["status"], forced.json()["forced"]) == ("success", True)
    assert namespace.selector_region() == "region2"


async def test_dry_run_reports_and_changes_nothing(
    api: httpx.AsyncClient,
    namespace: Namespace,  # noqa: F811
    make_group: GroupFactory,  # noqa: F811
    operator: OperatorProcess,  # noqa: F811
) -> None:
    make_group()
    operator.start()

    response = await api.post("/api/failover/simulate", json={"dry_run": True})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["dry_run"]) == ("dry_run", True)
    assert "nothing changed" in body["message"]
    assert namespace.selector_region() == "region1"
    assert namespace.endpoint_regions() == ["region1", "region1"]
