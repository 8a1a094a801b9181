"""The app's contract without any Redis: probes, 503 mapping, validation, metrics, routers.

Redis is pointed at a port nothing listens on, so every data endpoint must answer a
clean 503 JSON body (never a stack trace) and every bad parameter a 422.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter

from tests.support.servers import free_port
from tier0_api.app import create_app
from tier0_api.settings import Settings


def _settings() -> Settings:
    return Settings(region="region2", redis_port=free_port(), log_level="WARNING")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    extra = APIRouter(prefix="/api/extra", tags=["extra"])

    @extra.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    app = create_app(_settings(), extra_routers=[extra])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http


async def test_root_names_region_version_and_docs(client: httpx.AsyncClient) -> None:
    body = (await client.get("/")).json()
    assert body["region"] == "region2"
    assert body["version"] == "v1.0.0057_region2"
    assert body["links"]["docs"] == "/docs"


async def test_health_is_503_with_reason_when_redis_is_unreachable(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["redis"] == "error"
    assert "redis 127.0.0.1" in body["reason"] or "redis localhost" in body["reason"]
    assert (await client.get("/health/ready")).status_code == 503


async def test_liveness_never_needs_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "alive"


@pytest.mark.parametrize(
    "path",
    [
        "/api/status",
        "/api/devices/active",
        "/api/devices/alerts",
        "/api/devices/metrics/site/WY-ALPHA",
        "/api/devices/TURB-00001",
        "/api/users/active",
        "/api/users/activity",
        "/api/users/connections",
        "/api/canary/abc",
    ],
)
async def test_data_endpoints_answer_503_json(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 503
    assert response.json()["error"] == "redis_unavailable"
    assert response.json()["region"] == "region2"


@pytest.mark.parametrize(
    "path",
    [
        "/api/devices/alerts?limit=0",
        "/api/devices/alerts?limit=501",
        "/api/devices/alerts?limit=abc",
        "/api/devices/alerts?offset=-1",
        "/api/devices/alerts?state=OK",
        "/api/devices/alerts?device_type=spaceship",
        "/api/devices/alerts?site_id=bad%20site",
        "/api/devices/metrics/site/bad%20site",
        "/api/users/activity?limit=-1",
        "/api/users/activity?limit=100000",
        "/fastapi/eu-west/getappversion",
    ],
)
async def test_bad_input_is_422_not_500(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


async def test_app_version_reports_failover_routing(client: httpx.AsyncClient) -> None:
    own = (await client.get("/fastapi/region2/getappversion")).json()
    assert own["version"] == "v1.0.0057_region2"
    assert own["failover"] is False
    other = (await client.get("/fastapi/region1/getappversion")).json()
    assert (other["region"], other["requested_region"], other["failover"]) == (
        "region2",
        "region1",
        True,
    )


async def test_extra_routers_are_served_and_documented(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/extra/ping")).json() == {"pong": "yes"}
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/api/extra/ping" in paths
    assert {"/api/status", "/api/devices/alerts", "/api/canary/{canary_id}"} <= set(paths)


async def test_metrics_label_routes_by_template(client: httpx.AsyncClient) -> None:
    await client.get("/fastapi/region1/getappversion")
    await client.get("/api/devices/TURB-00042")
    response = await client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'route="/fastapi/{region}/getappversion"' in text
    assert 'route="/api/devices/{device_id}",status="503"' in text
    assert "TURB-00042" not in text
    assert 'tier0_api_redis_errors_total{query="device_get"}' in text
    assert 'tier0_api_info{region="region2",version="v1.0.0057_region2"} 1.0' in text
