"""An API app wired to the session's region1 Redis, with the device index in place.

The index is created before any test writes devices: hashes written afterwards are
indexed synchronously, so a count read right after a write is exact (no waiting for a
background scan of pre-existing keys).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import redis

from tests.support.servers import Endpoint
from tier0_api.app import create_app
from tier0_api.settings import Settings
from tier0_common.keys import ensure_device_index


def api_settings(endpoint: Endpoint, **overrides: object) -> Settings:
    return Settings(
        region="region1",
        redis_host=endpoint.host,
        redis_port=endpoint.port,
        redis_password=endpoint.password,
        log_level="WARNING",
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
async def api(redis_region1: Endpoint, redis1: redis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    ensure_device_index(redis1)
    app = create_app(api_settings(redis_region1))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://region1") as http:
            yield http
