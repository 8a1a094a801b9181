"""Write images into a region's Redis: metadata and bytes once, vectors per model.

Offline the local text model embeds each image's caption; with Cohere the image
itself is embedded by the multimodal model. Each vector hash records the model and
what was embedded (``image`` or ``caption``), and lives in that model's own index.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

import numpy as np
import redis.asyncio as aioredis
import structlog
from redis.typing import EncodableT, FieldT

from tier0_common.search_index import drop_index, ensure_index, vector_field

from .. import keys
from ..embeddings.base import CachedEmbedder, EmbeddingUnavailable
from ..embeddings.service import EmbeddingService
from .loader import LoadedImage

log = structlog.stdlib.get_logger("tier0_ai.images")

META_SCHEMA = (
    "ON",
    "HASH",
    "PREFIX",
    "1",
    keys.IMAGE_META_PREFIX,
    "SCHEMA",
    "image_id",
    "TAG",
    "SORTABLE",
    "site",
    "TAG",
    "category",
    "TAG",
    "tags",
    "TAG",
    "caption",
    "TEXT",
)


def vector_schema(model: str, dim: int, capacity: int) -> list[str]:
    return [
        "ON",
        "HASH",
        "PREFIX",
        "1",
        keys.image_vector_prefix(model),
        "SCHEMA",
        "site",
        "TAG",
        "category",
        "TAG",
        "tags",
        "TAG",
        "model",
        "TAG",
        "caption",
        "TEXT",
        *vector_field("vec", dim, capacity),
    ]


async def _write_meta(client: aioredis.Redis, images: Sequence[LoadedImage]) -> None:
    await ensure_index(client, keys.IMAGE_META_INDEX, META_SCHEMA)
    pipe = client.pipeline(transaction=False)
    for img in images:
        mapping: dict[FieldT, EncodableT] = {
            "image_id": img.image_id,
            "site": img.site_id,
            "category": img.category,
            "caption": img.caption,
            "tags": ",".join(sorted(img.tags)),
            "synthetic": "1" if img.synthetic else "0",
            "mime": img.mime,
            "source": img.source,
            "caption_from": img.caption_from,
            "annotation": json.dumps(img.annotation) if img.annotation else "",
        }
        if img.data is not None:
            # Base64 so the API's decoding (decode_responses=True) client can read it.
            mapping["data"] = base64.b64encode(img.data).decode()
        pipe.hset(keys.image_meta_key(img.image_id), mapping=mapping)
    await pipe.execute()


def _embed(model: CachedEmbedder, images: Sequence[LoadedImage]) -> tuple[np.ndarray, list[str]]:
    if model.supports_images and all(img.data for img in images):
        return model.embed_images([(img.data or b"", img.mime) for img in images]), ["image"] * len(
            images
        )
    vectors = model.embed_texts([img.caption for img in images], "search_document")
    return vectors, ["caption"] * len(images)


async def _write_vectors(
    client: aioredis.Redis,
    model: CachedEmbedder,
    images: Sequence[LoadedImage],
    vectors: np.ndarray,
    embedded: list[str],
) -> None:
    name = model.model_name
    await ensure_index(
        client,
        keys.image_index(name),
        vector_schema(name, int(vectors.shape[1]), max(1000, len(images))),
    )
    pipe = client.pipeline(transaction=False)
    for img, vec, what in zip(images, vectors, embedded, strict=True):
        pipe.hset(
            keys.image_vector_key(name, img.image_id),
            mapping={
                "image_id": img.image_id,
                "site": img.site_id,
                "category": img.category,
                "caption": img.caption,
                "tags": ",".join(sorted(img.tags)),
                "model": name,
                "embedded": what,
                "caption_from": img.caption_from,
                "vec": np.asarray(vec, dtype=np.float32).tobytes(),
            },
        )
    await pipe.execute()
    await client.hset(keys.MODELS, f"images:{name}", what_summary(embedded))


def what_summary(embedded: list[str]) -> str:
    return "image" if embedded and all(e == "image" for e in embedded) else "caption"


async def index_images(
    client: aioredis.Redis,
    service: EmbeddingService,
    images: Sequence[LoadedImage],
    *,
    batch: int = 256,
    write_meta: bool = True,
) -> dict[str, int]:
    """Store and embed ``images`` with every available model; returns count per model."""
    if write_meta:
        for start in range(0, len(images), batch):
            await _write_meta(client, images[start : start + batch])
    counts: dict[str, int] = {}
    for model in service.models():
        done = 0
        try:
            for start in range(0, len(images), batch):
                chunk = images[start : start + batch]
                vectors, embedded = _embed(model, chunk)
                await _write_vectors(client, model, chunk, vectors, embedded)
                done += len(chunk)
        except EmbeddingUnavailable as exc:
            log.warning("image indexing skipped a model", model=model.model_name, reason=exc.reason)
        counts[model.model_name] = done
    log.info("images indexed", counts=counts, images=len(images))
    return counts


async def drop_model(client: aioredis.Redis, model_name: str) -> None:
    """Remove one model's image vectors and index (used by reindex)."""
    await drop_index(client, keys.image_index(model_name), delete_docs=True)
    await client.hdel(keys.MODELS, f"images:{model_name}")
