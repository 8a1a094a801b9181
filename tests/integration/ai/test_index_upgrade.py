"""A region indexed by an earlier version: its incident and log indexes lack the fields
questions now filter on. `missing` reports them, and storing again recreates them, so
a date-constrained question is answered instead of failing on an unknown field."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.servers import Endpoint
from tier0_ai import keys
from tier0_ai.cli import missing_corpora
from tier0_ai.docs import corpus as doc_corpus
from tier0_ai.docs import store as doc_store
from tier0_ai.docs.model import Incident
from tier0_ai.logs import generator as log_generator
from tier0_ai.logs import store as log_store
from tier0_ai.state import AIState

from .conftest import async_client, make_app

pytestmark = pytest.mark.integration


def _without(schema: tuple[str, ...], *names: str) -> list[str]:
    out, skip = [], 0
    args = list(schema)
    for i, arg in enumerate(args):
        if skip:
            skip -= 1
            continue
        if arg in names and i > args.index("SCHEMA"):
            skip = 2 if i + 2 < len(args) and args[i + 2] == "SORTABLE" else 1
            continue
        out.append(arg)
    return out


def test_outdated_indexes_are_reported_and_recreated(
    redis2: object, redis_region2: Endpoint, ai_data: Path, offline_ai: AIState
) -> None:
    incidents = doc_corpus.load_incidents(ai_data / "incidents.jsonl")
    entries = log_generator.generate(500, seed=5)

    async def old_then_new() -> tuple[list[str], list[str]]:
        client = async_client(redis_region2)
        try:
            old_incidents = _without(doc_store.INCIDENT_SCHEMA, "datenum")
            await client.execute_command("FT.CREATE", keys.INCIDENT_INDEX, *old_incidents)
            old_logs = _without(log_store.SCHEMA, "agent", "site")
            await client.execute_command("FT.CREATE", keys.LOG_INDEX, *old_logs)
            for r in incidents:  # written as the earlier version did: no datenum
                await client.hset(
                    keys.incident_key(r.incident_id),
                    mapping={"incident_id": r.incident_id, "operator": r.operator,
                             "site": r.site_id, "date": r.date, "year": r.year,
                             "severity": r.severity, "kind": r.kind,
                             "description": r.description},
                )  # fmt: skip
            await client.hset(keys.log_key(0), mapping={"kind": "access", "ts": 1, "status": 200})
            before = await missing_corpora(client, [])
            await doc_store.store_incidents(client, incidents)
            await log_store.store(client, entries)
            after = await missing_corpora(client, [])
            return before, after
        finally:
            await client.aclose()

    before, after = asyncio.run(old_then_new())
    assert before == ["logs", "incidents"] and after == []
    with TestClient(make_app(redis_region2, offline_ai), raise_server_exceptions=False) as api:
        reply = api.post(
            "/api/diagnostics/query", json={"question": "How many incidents in Q2 2024?"}
        )
        assert reply.status_code == 200, reply.text
        want = sum("2024-04-01" <= r.date <= "2024-06-30" for r in incidents)
        assert reply.json()["figures"]["total"] == want


def test_the_question_vocabulary_follows_new_records(
    redis2: object, redis_region2: Endpoint, ai_data: Path, offline_ai: AIState
) -> None:
    """The vocabulary is cached per region until logs or incidents are written again."""
    incidents = doc_corpus.load_incidents(ai_data / "incidents.jsonl")
    question = {"question": "How many incidents for operator Acme Drilling?"}

    def store(records: list[Incident]) -> None:
        async def run() -> None:
            client = async_client(redis_region2)
            try:
                await doc_store.store_incidents(client, records)
            finally:
                await client.aclose()

        asyncio.run(run())

    store(incidents)
    with TestClient(make_app(redis_region2, offline_ai), raise_server_exceptions=False) as api:
        before = api.post("/api/diagnostics/query", json=question).json()
        assert [n["field"] for n in before["interpretation"]["not_found"]] == ["operator"]
        acme = replace(incidents[0], incident_id="INC-ACME-1", operator="Acme Drilling")
        store([acme])
        after = api.post("/api/diagnostics/query", json=question).json()
        assert after["found"] and after["figures"]["total"] == 1
