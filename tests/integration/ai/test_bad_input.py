"""Bad input gets a clear 4xx, never a 500."""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient

from tests.support.servers import Endpoint
from tier0_ai.state import AIState

from .conftest import make_app
from .eval_set import cases

pytestmark = pytest.mark.integration
TEN_MB = "x" * (10 * 1024 * 1024)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/images/search", {"query": ""}),
        ("/api/images/search", {"query": "   "}),
        ("/api/images/search", {"query": TEN_MB}),
        ("/api/images/search", {"query": "turbine", "top_k": 0}),
        ("/api/images/search", {"query": "turbine", "top_k": 51}),
        ("/api/images/search", {"query": "turbine", "site_id": "MARS-BASE"}),
        ("/api/images/search", {"query": "turbine", "category": "spaceship"}),
        ("/api/images/search", {"top_k": 3}),
        ("/api/diagnostics/query", {"question": ""}),
        ("/api/diagnostics/query", {"question": TEN_MB}),
        ("/api/diagnostics/query", {"question": "x", "top_k": 100}),
    ],
)
def test_bad_bodies_are_422_with_a_reason(api: TestClient, path: str, body: dict) -> None:
    reply = api.post(path, json=body)
    assert reply.status_code == 422, reply.text[:300]
    assert reply.json()["detail"]


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("How many incidents from 2025 to 2023?", "is empty"),
        ("How many incidents at TX-BRAVO in Wyoming?", "not in Wyoming"),
        ("How many incidents at site ZZ-KILO in 2024?", "sites in the records are"),
        ("How many incidents in 2023 since 2024?", "no day in common"),
    ],
)
def test_contradictory_constraints_are_explained_not_a_500(
    api: TestClient, question: str, said: str
) -> None:
    reply = api.post("/api/diagnostics/query", json={"question": question})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert not body["found"] and said in body["answer"] and "total" not in body["figures"]
    it = body["interpretation"]
    assert it["contradictions"] or it["not_found"]


@pytest.mark.parametrize(
    "question",
    [
        "How many incidents on February 30 2024?",
        "How many incidents since 2024-13-45?",
        "How many requests to /api/{x}|* from 999.1.1.1?",
    ],
)
def test_impossible_dates_and_query_syntax_are_reported_not_a_500(
    api: TestClient, question: str
) -> None:
    reply = api.post("/api/diagnostics/query", json={"question": question})
    assert reply.status_code == 200, reply.text
    it = reply.json()["interpretation"]
    assert it["not_understood"] or it["not_found"]
    assert api.post("/api/images/search", json={"query": question}).status_code == 200


def test_query_syntax_in_a_question_is_only_text(api: TestClient) -> None:
    question = "How many {incidents} @site:{*} | (-) in 2024?"
    body = api.post("/api/diagnostics/query", json={"question": question}).json()
    plain = api.post("/api/diagnostics/query", json={"question": "How many incidents in 2024?"})
    assert body["figures"]["total"] == plain.json()["figures"]["total"]
    assert api.post("/api/images/search", json={"query": question}).status_code == 200


def test_not_json_is_422(api: TestClient) -> None:
    reply = api.post(
        "/api/images/search", content=b"\x00\xff", headers={"content-type": "application/json"}
    )
    assert reply.status_code == 422


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/images/site/MARS-BASE", 404),
        ("/api/images/nope/file", 404),
        ("/api/images/bad%20id!/file", 422),
        ("/api/diagnostics/logs/errors/999", 422),
        ("/api/diagnostics/logs/errors/abc", 422),
        ("/api/diagnostics/logs/stats?bucket_seconds=1", 422),
        ("/api/images/list?limit=0", 422),
    ],
)
def test_bad_paths(api: TestClient, path: str, status: int) -> None:
    assert api.get(path).status_code == status


def test_empty_region_answers_without_500(
    redis2: object, redis_region2: Endpoint, offline_ai: AIState
) -> None:
    with TestClient(make_app(redis_region2, offline_ai), raise_server_exceptions=False) as client:
        search = client.post("/api/images/search", json={"query": "turbine"})
        assert search.status_code == 503 and "index" in search.json()["detail"]
        assert client.get("/api/images/list").json() == {"total": 0, "offset": 0, "images": []}
        assert client.get("/api/diagnostics/logs/errors/400").json()["total"] == 0
        assert client.get("/api/diagnostics/logs/summary").status_code == 200
        answer = client.post("/api/diagnostics/query", json={"question": "hard hat rules?"}).json()
        assert not answer["found"] and "No documents" in answer["answer"]


JUNK = (
    "{", "}", "@", "|", "(", ")", "-", "*", "\\", "'", '"', "%", "~", ":", ";", "1999",
    "99999", "0.0.0.0", "999.1.1.1", "/api/{x}", "TX-BRAVO", "between", "and", "since",
    "not", "outside", "Q5 2024", "2024-13-45", "February 30 2024", "last 0 years",
    "top 0", "top 99", "at night", "over 5 ms", "ÜBER", "日本",
)  # fmt: skip


def test_mutated_questions_never_500(api: TestClient) -> None:
    """Seeded mutations of the evaluation questions (junk tokens, impossible dates,
    query syntax) get an answer or a 4xx, never a 500."""
    rng = random.Random(20261130)
    questions = [c.question for c in cases()]
    failures = []
    for _ in range(150):
        words = rng.choice(questions).split()
        for _ in range(rng.randint(1, 4)):
            words.insert(rng.randint(0, len(words)), rng.choice(JUNK))
        text = " ".join(words)
        for path, body in (
            ("/api/diagnostics/query", {"question": text}),
            ("/api/images/search", {"query": text}),
        ):
            reply = api.post(path, json=body)
            if reply.status_code >= 500:
                failures.append((path, text, reply.status_code))
    assert not failures, failures
