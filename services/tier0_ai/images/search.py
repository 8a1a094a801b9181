"""Semantic image search: KNN over one model's HNSW index, with tag filters.

Filters come from the request (site, category) and from the query's words
(:mod:`..attributes`: "without hats", "tablet", "night"...). When the inferred
filters leave fewer than ``top_k`` images, the rest is filled from a search without
them, so a query never returns less because of a guess; the response says which
filters applied and whether they were relaxed.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field

import numpy as np
import redis.asyncio as aioredis

from tier0_common.redis_search import (
    DIALECT,
    command,
    knn_search,
    search_docs,
    search_total,
    tag_clause,
)
from tier0_common.search_index import index_exists

from .. import attributes, keys
from ..embeddings.service import EmbeddingService
from .loader import FILE_NAME


@dataclass(slots=True)
class ImageHit:
    image_id: str
    site_id: str
    category: str
    caption: str
    score: float
    embedded: str
    tags: list[str]
    caption_from: str = ""

    @property
    def note(self) -> str | None:
        if self.caption_from == FILE_NAME and self.embedded == "caption":
            return FILE_NAME_ONLY
        return None


@dataclass(slots=True)
class ImageSearchResult:
    model: str
    embedded: str
    hits: list[ImageHit]
    filters: dict[str, list[str]]
    relaxed: bool
    fallback_reason: str | None = None
    notes: list[str] = field(default_factory=list)
    #: The query's terms: applied as filters, not understood, or naming no site.
    interpretation: dict[str, object] = field(default_factory=dict)


#: What a KNN hit returns (plus its distance).
HIT_FIELDS = ("image_id", "site", "category", "caption", "embedded", "tags", "caption_from")
#: What a hit says when only its folder and file names described it.
FILE_NAME_ONLY = (
    "no caption: matched on its folder and file names only (load a caption or a sidecar "
    "to describe it)"
)


class NoImageIndex(LookupError):
    pass


NO_INDEX = "no image index yet: run `python -m tier0_ai index --data data/ai` (or load-images)"


async def indexed_models(client: aioredis.Redis) -> dict[str, str]:
    """Models with an image index -> what they embedded (image or caption).

    One round trip (the models hash and the index list, pipelined): on a busy machine
    every extra trip to Redis waits for Redis to be scheduled again.
    """
    async with client.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.MODELS)
        pipe.execute_command("FT._LIST")
        fields, names = await pipe.execute()
    indexes = {n.decode() if isinstance(n, bytes) else n for n in names}
    out: dict[str, str] = {}
    for k, v in fields.items():
        k = k.decode() if isinstance(k, bytes) else k
        if k.startswith("images:"):
            name = k.removeprefix("images:")
            if keys.image_index(name) in indexes:
                out[name] = v.decode() if isinstance(v, bytes) else v
    return out


def _clauses(filters: dict[str, list[str]]) -> list[str]:
    clauses = []
    for field_name in ("site", "category"):
        if filters.get(field_name):
            clauses.append(tag_clause(field_name, filters[field_name]))
    clauses += [tag_clause("tags", [t]) for t in filters.get("attrs", [])]
    clauses += ["-" + tag_clause("tags", [t]) for t in filters.get("exclude", [])]
    return clauses


async def _knn(
    client: aioredis.Redis, model: str, vector: np.ndarray, clauses: list[str], k: int
) -> list[ImageHit]:
    pre = "(" + " ".join(clauses) + ")" if clauses else "*"
    blob = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
    reply = await command(
        client, *knn_search(keys.image_index(model), blob, k, HIT_FIELDS, prefilter=pre)
    )
    return [
        ImageHit(
            image_id=f["image_id"],
            site_id=f["site"],
            category=f["category"],
            caption=f["caption"],
            score=round(1.0 - float(f["dist"]), 4),
            embedded=f.get("embedded", "caption"),
            tags=[t for t in f.get("tags", "").split(",") if t],
            caption_from=f.get("caption_from", ""),
        )
        for _, f in search_docs(reply)
    ]


async def search(
    client: aioredis.Redis,
    service: EmbeddingService,
    query: str,
    top_k: int,
    site: str | None = None,
    category: str | None = None,
) -> ImageSearchResult:
    if len(service.models()) == 1:
        # One model (offline): the embedding needs nothing from Redis, so it runs in its
        # worker thread while the index lookup is in flight instead of after it.
        embedding = asyncio.ensure_future(asyncio.to_thread(service.query, query))
        try:
            models = await indexed_models(client)
        except BaseException:
            embedding.cancel()
            raise
        if not models:
            embedding.cancel()
            raise NoImageIndex(NO_INDEX)
        qv = await embedding
    else:
        models = await indexed_models(client)
        if not models:
            raise NoImageIndex(NO_INDEX)
        qv = await asyncio.to_thread(service.query, query, tuple(models))
    reading = attributes.read_query(query)
    explicit = {"site": [site] if site else [], "category": [category] if category else []}
    inferred = {
        "site": [] if site else sorted(reading.site),
        "category": [] if category else sorted(reading.category),
        "attrs": sorted(reading.include),
        "exclude": sorted(reading.exclude),
    }
    names = ("site", "category", "attrs", "exclude")
    filters = {k: explicit.get(k, []) + inferred.get(k, []) for k in names}
    if reading.not_found:
        # a site or region that does not exist: no image can match, say so
        return ImageSearchResult(
            model=qv.model,
            embedded=models.get(qv.model, "caption"),
            hits=[],
            filters={k: v for k, v in filters.items() if v},
            relaxed=False,
            fallback_reason=qv.fallback_reason,
            interpretation=reading.interpretation(),
        )
    hits = await _knn(client, qv.model, qv.vector, _clauses(filters), top_k)
    relaxed = False
    # Relax step by step: drop the inferred scene attributes first, then every
    # inferred filter; explicit request filters always hold.
    scene = inferred["attrs"] or inferred["exclude"]
    ladder = [{**filters, "attrs": [], "exclude": []}, explicit] if scene else [explicit]
    for looser in ladder if any(inferred.values()) else []:
        if len(hits) >= top_k:
            break
        relaxed = True
        seen = {h.image_id for h in hits}
        more = await _knn(client, qv.model, qv.vector, _clauses(looser), top_k)
        hits += [h for h in more if h.image_id not in seen][: top_k - len(hits)]
    return ImageSearchResult(
        model=qv.model,
        embedded=models.get(qv.model, "caption"),
        hits=hits,
        filters={k: v for k, v in filters.items() if v},
        relaxed=relaxed,
        fallback_reason=qv.fallback_reason,
        interpretation=reading.interpretation(),
    )


async def list_images(
    client: aioredis.Redis, site: str | None, offset: int, limit: int
) -> tuple[int, list[dict[str, str]]]:
    if not await index_exists(client, keys.IMAGE_META_INDEX):
        return 0, []
    query = tag_clause("site", [site]) if site else "*"
    reply = await command(
        client,
        "FT.SEARCH",
        keys.IMAGE_META_INDEX,
        query,
        "SORTBY",
        "image_id",
        "ASC",
        "LIMIT",
        str(offset),
        str(limit),
        "RETURN",
        "6",
        "image_id",
        "site",
        "category",
        "caption",
        "synthetic",
        "tags",
        *DIALECT,
    )
    return search_total(reply), [f for _, f in search_docs(reply)]


async def image_bytes(client: aioredis.Redis, image_id: str) -> tuple[bytes, str] | None:
    data, mime = await client.hmget(keys.image_meta_key(image_id), ["data", "mime"])
    if not data:
        return None
    raw = data.decode() if isinstance(data, bytes) else data
    kind = mime.decode() if isinstance(mime, bytes) else mime
    return base64.b64decode(raw), kind or "application/octet-stream"
