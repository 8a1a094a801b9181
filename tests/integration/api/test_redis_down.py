"""A Redis that dies under a running API: probes and data endpoints turn 503, cleanly."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.api.conftest import api_settings
from tests.support.servers import ServerPool
from tier0_api.app import create_app

pytestmark = pytest.mark.integration


async def test_health_turns_503_when_redis_stops(tmp_path: Path) -> None:
    pool = ServerPool(tmp_path)
    try:
        endpoint = pool.redis("doomed")
        app = create_app(api_settings(endpoint))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://r") as http:
                assert (await http.get("/health")).status_code == 200
                assert (await http.get("/api/devices/active")).status_code == 200
                pool.stop_all()
                health = await http.get("/health")
                assert health.status_code == 503
                body = health.json()
                assert (body["status"], body["redis"]) == ("unhealthy", "error")
                assert str(endpoint.port) in body["reason"]
                data = await http.get("/api/devices/active")
                assert data.status_code == 503
                assert data.json()["error"] == "redis_unavailable"
                assert (await http.get("/health/live")).status_code == 200
    finally:
        pool.stop_all()
