"""Re-indexing when the embedding model changes: each model keeps its own index and
every vector names its model; a model no longer configured leaves nothing behind."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest
import redis
from pydantic import SecretStr

from tests.support.servers import Endpoint
from tier0_ai import keys
from tier0_ai.cli import reindex
from tier0_ai.embeddings.service import EmbeddingService
from tier0_ai.settings import Settings
from tier0_ai.state import AIState

from .fake_cohere import FakeCohere

pytestmark = pytest.mark.integration
COHERE = "cohere/embed-v4.0"
LOCAL = "all-MiniLM-L6-v2-onnx-int8"


def _reindex(endpoint: Endpoint, data: Path, service: EmbeddingService) -> dict[str, object]:
    args = argparse.Namespace(
        redis_host=endpoint.host,
        redis_port=endpoint.port,
        redis_password=SecretStr(endpoint.password),
        data=data,
    )
    return asyncio.run(reindex(args, service))


def _model_fields(client: redis.Redis, model: str) -> set[str]:
    return {
        client.hget(key, "model")  # type: ignore[misc]
        for key in client.scan_iter(match=f"{keys.image_vector_prefix(model)}*", count=500)
    }


def test_switching_models_reindexes_without_mixing(
    redis2: redis.Redis,
    redis_region2: Endpoint,
    ai_data: Path,
    fake_cohere: FakeCohere,
    offline_ai: AIState,
) -> None:
    fake_cohere.set_mode("ok")
    _reindex(redis_region2, ai_data, offline_ai.embeddings)
    assert set(redis2.hkeys(keys.MODELS)) == {f"images:{LOCAL}", f"docs:{LOCAL}"}

    with_cohere = EmbeddingService(Settings(cohere_api_key="k", cohere_base_url=fake_cohere.url))
    result = _reindex(redis_region2, ai_data, with_cohere)
    assert result["images"] == {COHERE: 60, LOCAL: 60}
    assert redis2.hget(keys.MODELS, f"images:{COHERE}") == "image"
    assert _model_fields(redis2, COHERE) == {COHERE}
    assert _model_fields(redis2, LOCAL) == {LOCAL}
    assert keys.image_index(COHERE) in redis2.execute_command("FT._LIST")

    _reindex(redis_region2, ai_data, offline_ai.embeddings)
    assert keys.image_index(COHERE) not in redis2.execute_command("FT._LIST")
    assert keys.doc_index(COHERE) not in redis2.execute_command("FT._LIST")
    assert _model_fields(redis2, COHERE) == set()
    assert set(redis2.hkeys(keys.MODELS)) == {f"images:{LOCAL}", f"docs:{LOCAL}"}
