"""Region naming, draining and connection recycling of the API, without Redis or a server.

The app runs in-process (ASGI); the SIGTERM path with real processes and sockets is
tests/integration/api/test_graceful_shutdown.py.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from tests.support.servers import free_port
from tier0_api.app import create_app
from tier0_api.settings import Settings
from tier0_api.shutdown import REGION_HEADER, ConnectionAges, Drain, DrainingServer


def _settings(**overrides: object) -> Settings:
    return Settings(region="region2", redis_port=free_port(), log_level="WARNING", **overrides)  # type: ignore[arg-type]


@pytest.fixture
def drain() -> Drain:
    return Drain()


@pytest.fixture
async def client(drain: Drain) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(_settings(), drain=drain)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http


@pytest.mark.parametrize("path", ["/", "/health/live", "/health/ready", "/metrics", "/nope"])
async def test_every_answer_names_its_region(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.headers[REGION_HEADER] == "region2"
    assert response.headers.get("connection") != "close"


async def test_draining_fails_readiness_but_keeps_serving(
    client: httpx.AsyncClient, drain: Drain
) -> None:
    drain.start()
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["reason"].startswith("draining")
    live = await client.get("/health/live")
    assert live.status_code == 200
    assert live.headers["connection"] == "close"
    assert live.headers[REGION_HEADER] == "region2"


def test_connections_close_once_older_than_the_maximum_age() -> None:
    ages = ConnectionAges(max_age=2.0)
    first, second = ("10.0.0.1", 40000), ("10.0.0.1", 40001)
    assert not ages.too_old(first, now=100.0)
    assert not ages.too_old(first, now=101.9)
    assert not ages.too_old(second, now=101.9)
    assert ages.too_old(first, now=102.0)
    ages.closed(first)
    # The same address and port later is a new connection.
    assert not ages.too_old(first, now=102.5)


def test_forgotten_connections_are_pruned() -> None:
    ages = ConnectionAges(max_age=1.0)
    for port in range(100):
        ages.too_old(("10.0.0.1", port), now=0.0)
    ages.too_old(("10.0.0.2", 1), now=50.0)
    assert set(ages.first_seen) == {("10.0.0.2", 1)}


def test_first_sigterm_drains_and_a_second_one_exits() -> None:
    drain = Drain()
    server = DrainingServer(uvicorn.Config(app=create_app(_settings())), drain, 5.0)
    server.handle_exit(signal.SIGTERM, None)
    assert drain.draining and not server.should_exit
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit


def test_without_a_drain_sigterm_exits_at_once() -> None:
    drain = Drain()
    server = DrainingServer(uvicorn.Config(app=create_app(_settings())), drain, 0.0)
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit and not drain.draining


@pytest.mark.parametrize(
    "field,value",
    [
        ("shutdown_drain_seconds", -1),
        ("shutdown_timeout_seconds", 0),
        ("connection_max_age_seconds", -0.5),
    ],
)
def test_shutdown_settings_refuse_bad_values(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        _settings(**{field: value})
