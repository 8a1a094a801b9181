"""Shared AI test data: the generated corpora, loaded once per module into region1's
real Redis, and a minimal FastAPI app that mounts tier0_ai's routers over it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from tests.support.servers import Endpoint
from tier0_ai.api import routers
from tier0_ai.cli import generate, index_folder
from tier0_ai.embeddings.local import LocalMiniLM
from tier0_ai.settings import Settings
from tier0_ai.state import AIState
from tier0_common.api_plugin import RegionServices

from .fake_cohere import FakeCohere


@pytest.fixture(scope="session")
def ai_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import argparse

    out = tmp_path_factory.mktemp("ai-data")
    generate(argparse.Namespace(out=out, images=60, logs=12_000, seed=273))
    return out


@pytest.fixture(scope="session")
def offline_ai() -> AIState:
    return AIState.create(Settings(cohere_api_key=None))


def async_client(endpoint: Endpoint) -> aioredis.Redis:
    return aioredis.Redis(
        host=endpoint.host,
        port=endpoint.port,
        password=endpoint.password,
        decode_responses=True,
        protocol=2,
    )


@pytest.fixture(scope="module")
def indexed_region1(redis_region1: Endpoint, ai_data: Path, offline_ai: AIState) -> Endpoint:
    sync = redis_region1.redis_client()
    sync.flushall()
    sync.close()

    async def load() -> None:
        client = async_client(redis_region1)
        try:
            await index_folder(client, offline_ai.embeddings, ai_data)
        finally:
            await client.aclose()

    asyncio.run(load())
    return redis_region1


def _app_redis(request: Request) -> aioredis.Redis:
    """The test app's client, lent to the plugin like the region API lends its own."""
    client: aioredis.Redis = request.app.state.redis
    return client


def make_app(endpoint: Endpoint, ai: AIState | None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.redis = async_client(endpoint)
        yield
        await app.state.redis.aclose()

    app = FastAPI(lifespan=lifespan)
    if ai is not None:
        app.state.ai = ai
    for router in routers(RegionServices(redis=_app_redis)):
        app.include_router(router)
    return app


@pytest.fixture(scope="module")
def api(indexed_region1: Endpoint, offline_ai: AIState) -> Iterator[TestClient]:
    with TestClient(make_app(indexed_region1, offline_ai), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="session")
def fake_cohere(offline_ai: AIState) -> Iterator[FakeCohere]:
    """A local server speaking Cohere's embed and chat API (see fake_cohere.py)."""
    server = FakeCohere()
    local = offline_ai.embeddings.local.backend
    assert isinstance(local, LocalMiniLM)
    server.start(local)
    yield server
    server.stop()
