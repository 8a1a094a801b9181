"""The Cohere path with the real ``cohere`` SDK against a local Cohere-speaking server:
image and text embeddings, chat with citations, and the fallbacks to the local model
on 401, 429 after retries and timeouts, each with a log line that says so."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.servers import Endpoint
from tier0_ai.docs import corpus as doc_corpus
from tier0_ai.docs import loader as doc_loader
from tier0_ai.docs import store as doc_store
from tier0_ai.images import loader as image_loader
from tier0_ai.images import store as image_store
from tier0_ai.settings import Settings
from tier0_ai.state import AIState
from tier0_common.logs import configure_logging

from .conftest import async_client, make_app
from .fake_cohere import FakeCohere

pytestmark = pytest.mark.integration
LOCAL = "all-MiniLM-L6-v2-onnx-int8"


def _settings(fake: FakeCohere, timeout_s: float = 2.0) -> Settings:
    return Settings(
        cohere_api_key="test-key",
        cohere_base_url=fake.url,
        cohere_timeout_s=timeout_s,
        cohere_max_retries=2,
    )


@pytest.fixture(scope="module")
def cohere_region(fake_cohere: FakeCohere, redis_region2: Endpoint, ai_data: Path) -> Endpoint:
    """Region2 indexed with both models once; the tests only read it."""
    fake_cohere.set_mode("ok")
    # Indexing embeds every passage in one call to the fake server (which runs the
    # local model): on a loaded machine that can take longer than the 2 s the tests'
    # timeout cases rely on, and a slow fixture is not what those tests check.
    ai = AIState.create(_settings(fake_cohere, timeout_s=60.0))

    async def load() -> None:
        client = async_client(redis_region2)
        try:
            await client.flushall()
            images = image_loader.load_folder(ai_data / "images").images
            counts = await image_store.index_images(client, ai.embeddings, images)
            docs = doc_loader.load_folder(ai_data / "docs").documents
            counts.update(await doc_store.index_documents(client, ai.embeddings, docs))
            incidents = doc_corpus.load_incidents(ai_data / "incidents.jsonl")
            await doc_store.store_incidents(client, incidents)
            assert all(counts.values()), counts
        finally:
            await client.aclose()

    asyncio.run(load())
    return redis_region2


@pytest.fixture
def cohere_api(
    fake_cohere: FakeCohere, cohere_region: Endpoint
) -> Iterator[tuple[TestClient, FakeCohere]]:
    fake_cohere.set_mode("ok")
    ai = AIState.create(_settings(fake_cohere))  # a fresh embedding cache per test
    with TestClient(make_app(cohere_region, ai), raise_server_exceptions=False) as client:
        yield client, fake_cohere


@pytest.fixture
def warnings_logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[dict[str, object]]]:
    """Structured warning events (tier0's JSON log lines, as structlog hands them to logging)."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    configure_logging("tier0_ai-test")
    events: list[dict[str, object]] = []
    yield events
    root.handlers[:] = saved
    root.setLevel(level)


def _events(
    caplog: pytest.LogCaptureFixture, events: list[dict[str, object]], text: str
) -> list[dict[str, object]]:
    events[:] = [
        r.msg for r in caplog.records if isinstance(r.msg, dict) and text in str(r.msg.get("event"))
    ]
    return events


def _search(client: TestClient, query: str) -> dict:
    reply = client.post("/api/images/search", json={"query": query, "top_k": 3})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_images_are_embedded_by_cohere_and_searched_with_it(cohere_api) -> None:  # type: ignore[no-untyped-def]
    client, fake = cohere_api
    body = _search(client, "turbine at night")
    assert body["model"] == "cohere/embed-v4.0" and body["embedded"] == "image"
    assert body["fallback_reason"] is None
    assert all(r["embedded"] == "image" for r in body["results"])
    path, request, auth = fake.requests[-1]
    assert (
        path == "/v2/embed"
        and request["input_type"] == "search_query"
        and auth == "Bearer test-key"
    )


@pytest.mark.parametrize(
    ("mode", "reason", "embed_calls"),
    [
        ("401", "unauthorized (HTTP 401)", 1),
        ("429", "rate limited (HTTP 429) after 2 retries", 3),
        ("slow", "timed out after 2 s", 1),
    ],
)
def test_failures_fall_back_to_the_local_model_with_a_log_line(  # type: ignore[no-untyped-def]
    cohere_api, warnings_logged, caplog, mode: str, reason: str, embed_calls: int
) -> None:
    client, fake = cohere_api
    fake.set_mode(mode)
    body = _search(client, f"workers without hats ({mode})")
    assert body["model"] == LOCAL and body["embedded"] == "caption"
    assert reason in body["fallback_reason"]
    assert all(r["category"] for r in body["results"]) and len(body["results"]) == 3
    assert fake.count("/v2/embed") == embed_calls
    events = _events(
        caplog, warnings_logged, "cohere embedding failed; falling back to the local model"
    )
    assert events and reason in str(events[0]["reason"]) and events[0]["fallback_model"] == LOCAL


def test_429_once_is_retried_by_the_sdk_and_succeeds(cohere_api) -> None:  # type: ignore[no-untyped-def]
    client, fake = cohere_api
    fake.set_mode("429-once")
    body = _search(client, "engineer holding a tablet, retried")
    assert body["model"] == "cohere/embed-v4.0" and body["fallback_reason"] is None
    assert fake.count("/v2/embed") == 2


def test_chat_writes_the_answer_with_citations(cohere_api) -> None:  # type: ignore[no-untyped-def]
    client, fake = cohere_api
    body = client.post(
        "/api/diagnostics/query",
        json={"question": "Describe BP oil drill operations and hard hat requirements"},
    ).json()
    assert body["generator"] == "cohere/command-a-03-2025"
    assert body["answer"].startswith("Per the synthetic documents:")
    path, request, _ = fake.requests[-1]
    assert path == "/v2/chat"
    sent = [d["id"] for d in request["documents"]]
    assert body["sources"][0]["id"] == sent[-1]  # the cited passage comes first
    assert {s["id"] for s in body["sources"]} == set(sent)


@pytest.mark.parametrize(
    ("mode", "reason"), [("invent", "numbers not in any source"), ("401", "HTTP 401")]
)
def test_chat_failures_answer_offline(
    cohere_api, warnings_logged, caplog, mode: str, reason: str
) -> None:  # type: ignore[no-untyped-def]
    client, fake = cohere_api
    fake.set_mode(mode)
    body = client.post(
        "/api/diagnostics/query",
        json={"question": f"List economic and social sustainability statements {mode}"},
    ).json()
    assert body["generator"] == "offline" and reason in body["fallback_reason"]
    assert "987654" not in body["answer"] and body["answer"].startswith(
        "From the indexed documents"
    )
    events = _events(caplog, warnings_logged, "cohere chat failed; answering offline")
    assert events and reason in str(events[0]["reason"])


BP_2024 = "How many safety incidences occurred in BP operations in 2024?"


def _bp_2024(ai_data: Path) -> int:
    records = [json.loads(line) for line in (ai_data / "incidents.jsonl").read_text().splitlines()]
    return sum(r["operator"] == "BP" and r["date"].startswith("2024") for r in records)


def test_analytic_questions_are_computed_first_and_cohere_only_phrases_them(  # type: ignore[no-untyped-def]
    cohere_api, ai_data: Path
) -> None:
    client, fake = cohere_api
    body = client.post("/api/diagnostics/query", json={"question": BP_2024}).json()
    total = _bp_2024(ai_data)
    assert body["figures"]["total"] == total
    applied = {(c["field"], tuple(c["values"])) for c in body["interpretation"]["applied"]}
    assert applied == {("operator", ("BP",)), ("date", ("2024",))}
    assert body["generator"] == "cohere/command-a-03-2025" and body["fallback_reason"] is None
    path, request, _ = fake.requests[-1]
    assert path == "/v2/chat" and fake.count("/v2/chat") == 1
    (document,) = request["documents"]
    assert document["id"] == "computed-figures"
    assert document["data"]["snippet"].startswith(f"{total} safety incident")
    assert body["answer"].startswith(f"Per the synthetic documents: {total} safety incident")


def test_a_figure_cohere_invents_is_rejected_and_the_computed_answer_stands(  # type: ignore[no-untyped-def]
    cohere_api, warnings_logged, caplog, ai_data: Path
) -> None:
    client, fake = cohere_api
    fake.set_mode("invent")
    body = client.post("/api/diagnostics/query", json={"question": BP_2024}).json()
    total = _bp_2024(ai_data)
    assert fake.count("/v2/chat") == 1
    assert body["generator"] == "offline"
    assert "numbers not in the computed figures" in body["fallback_reason"]
    assert "987654" in body["fallback_reason"] and "987654" not in body["answer"]
    assert body["answer"].startswith(f"{total} safety incident")
    events = _events(caplog, warnings_logged, "cohere chat failed; answering with the computed")
    assert events and "987654" in str(events[0]["reason"])


def test_refusals_never_reach_cohere(cohere_api) -> None:  # type: ignore[no-untyped-def]
    client, fake = cohere_api
    body = client.post(
        "/api/diagnostics/query", json={"question": "How many incidents for operator Acme Oil?"}
    ).json()
    assert not body["found"] and body["generator"] == "offline"
    assert "operators in the records are BP" in body["answer"]
    assert fake.count("/v2/chat") == 0
