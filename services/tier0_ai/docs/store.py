"""Store passages (per embedding model) and incident records in a region's Redis.

Passages carry TEXT fields for full-text search and a VECTOR for semantic search in
the same hash, so one index answers both halves of a hybrid query. Incident records
are structured hashes with TAG/NUMERIC fields so counts and group-bys are exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import redis.asyncio as aioredis
import structlog

from tier0_common.search_index import drop_index, ensure_index, vector_field

from .. import keys
from ..embeddings.base import CachedEmbedder, EmbeddingUnavailable
from ..embeddings.service import EmbeddingService
from ..indexes import changed, ensure_current
from .chunking import chunk
from .model import Chunk, Document, Incident

log = structlog.stdlib.get_logger("tier0_ai.docs")

INCIDENT_SCHEMA = (
    "ON",
    "HASH",
    "PREFIX",
    "1",
    keys.INCIDENT_PREFIX,
    "SCHEMA",
    "operator",
    "TAG",
    "site",
    "TAG",
    "severity",
    "TAG",
    "kind",
    "TAG",
    "year",
    "NUMERIC",
    "SORTABLE",
    "date",
    "TAG",
    "SORTABLE",
    # yyyymmdd as a number: date ranges in questions ("since March 2024") are
    # numeric range filters, and floor(datenum / 100) groups by month.
    "datenum",
    "NUMERIC",
    "SORTABLE",
    "description",
    "TEXT",
)


def chunk_schema(model: str, dim: int) -> list[str]:
    return [
        "ON",
        "HASH",
        "PREFIX",
        "1",
        keys.doc_chunk_prefix(model),
        "SCHEMA",
        "title",
        "TEXT",
        "WEIGHT",
        "2",
        "text",
        "TEXT",
        "doc_id",
        "TAG",
        "topic",
        "TAG",
        "operator",
        "TAG",
        "model",
        "TAG",
        *vector_field("vec", dim),
    ]


async def _write_chunks(
    client: aioredis.Redis, model: CachedEmbedder, chunks: Sequence[Chunk]
) -> None:
    # The title is embedded with the passage: it names the operator and the subject
    # that a paragraph on its own often leaves implicit.
    vectors = model.embed_texts([f"{c.title}. {c.text}" for c in chunks], "search_document")
    name = model.model_name
    await ensure_index(client, keys.doc_index(name), chunk_schema(name, int(vectors.shape[1])))
    pipe = client.pipeline(transaction=False)
    for c, vec in zip(chunks, vectors, strict=True):
        pipe.hset(
            keys.doc_chunk_key(name, c.chunk_id),
            mapping={
                "chunk_id": c.chunk_id,
                "doc_id": c.doc_id,
                "title": c.title,
                "text": c.text,
                "topic": c.topic,
                "operator": c.operator,
                "synthetic": int(c.synthetic),
                "model": name,
                "vec": np.asarray(vec, dtype=np.float32).tobytes(),
            },
        )
    await pipe.execute()
    await client.hset(keys.MODELS, f"docs:{name}", "text")


async def index_documents(
    client: aioredis.Redis, service: EmbeddingService, docs: Sequence[Document]
) -> dict[str, int]:
    chunks = [c for d in docs for c in chunk(d)]
    counts: dict[str, int] = {}
    for model in service.models():
        try:
            for start in range(0, len(chunks), 128):
                await _write_chunks(client, model, chunks[start : start + 128])
            counts[model.model_name] = len(chunks)
        except EmbeddingUnavailable as exc:
            log.warning(
                "document indexing skipped a model", model=model.model_name, reason=exc.reason
            )
            counts[model.model_name] = 0
    log.info("documents indexed", documents=len(docs), chunks=len(chunks), counts=counts)
    return counts


async def store_incidents(client: aioredis.Redis, records: Sequence[Incident]) -> int:
    await ensure_current(client, keys.INCIDENT_INDEX, INCIDENT_SCHEMA)
    pipe = client.pipeline(transaction=False)
    for r in records:
        pipe.hset(
            keys.incident_key(r.incident_id),
            mapping={
                "incident_id": r.incident_id,
                "operator": r.operator,
                "site": r.site_id,
                "date": r.date,
                "year": r.year,
                "datenum": int(r.date[:10].replace("-", "")),
                "severity": r.severity,
                "kind": r.kind,
                "description": r.description,
                "synthetic": int(r.synthetic),
            },
        )
    await pipe.execute()
    await changed(client)
    return len(records)


async def drop_model(client: aioredis.Redis, model_name: str) -> None:
    await drop_index(client, keys.doc_index(model_name), delete_docs=True)
    await client.hdel(keys.MODELS, f"docs:{model_name}")
