"""Hybrid retrieval: BM25 full text and vector KNN over one model's passage index,
fused by reciprocal rank (RRF), so exact terms (a site id, "H2S", "BP") and meaning
("head protection" for "hard hats") both count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import redis.asyncio as aioredis

from tier0_common.redis_search import (
    DIALECT,
    command,
    knn_search,
    search_docs,
    text,
    text_terms,
)
from tier0_common.search_index import index_exists

from .. import keys

RRF_K = 60
FIELDS = ("chunk_id", "doc_id", "title", "text", "topic", "operator", "synthetic")


@dataclass(slots=True)
class Passage:
    chunk_id: str
    doc_id: str
    title: str
    text: str
    topic: str
    operator: str
    synthetic: bool
    score: float  # fused RRF score
    similarity: float  # cosine similarity to the query (0 when only full text found it)


async def doc_models(client: aioredis.Redis) -> list[str]:
    fields = [text(field) for field in await client.hkeys(keys.MODELS)]
    names = [f.removeprefix("docs:") for f in fields if f.startswith("docs:")]
    return [n for n in names if await index_exists(client, keys.doc_index(n))]


async def _vector(
    client: aioredis.Redis, model: str, vec: np.ndarray, k: int
) -> list[dict[str, str]]:
    reply = await command(
        client, *knn_search(keys.doc_index(model), vec.astype(np.float32).tobytes(), k, FIELDS)
    )
    return [f for _, f in search_docs(reply)]


async def _fulltext(
    client: aioredis.Redis, model: str, question: str, k: int
) -> list[dict[str, str]]:
    terms = text_terms(question)
    if not terms:
        return []
    query = "|".join(terms)
    reply = await command(
        client,
        "FT.SEARCH",
        keys.doc_index(model),
        f"@text|title:({query})",
        "SCORER",
        "BM25",
        "LIMIT",
        "0",
        str(k),
        "RETURN",
        str(len(FIELDS)),
        *FIELDS,
        *DIALECT,
    )
    return [f for _, f in search_docs(reply)]


async def hybrid(
    client: aioredis.Redis, model: str, question: str, vec: np.ndarray, top_k: int, depth: int = 20
) -> list[Passage]:
    by_vector = await _vector(client, model, vec, depth)
    by_text = await _fulltext(client, model, question, depth)
    fused: dict[str, float] = {}
    rows: dict[str, dict[str, str]] = {}
    similarity: dict[str, float] = {}
    for ranking in (by_vector, by_text):
        for rank, row in enumerate(ranking):
            cid = row["chunk_id"]
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            rows.setdefault(cid, row)
            if "dist" in row:
                similarity[cid] = 1.0 - float(row["dist"])
    best = sorted(fused, key=lambda c: (-fused[c], c))[:top_k]
    return [
        Passage(
            chunk_id=c,
            doc_id=rows[c]["doc_id"],
            title=rows[c]["title"],
            text=rows[c]["text"],
            topic=rows[c].get("topic", ""),
            operator=rows[c].get("operator", ""),
            synthetic=rows[c].get("synthetic") == "1",
            score=round(fused[c], 5),
            similarity=round(similarity.get(c, 0.0), 4),
        )
        for c in best
    ]
