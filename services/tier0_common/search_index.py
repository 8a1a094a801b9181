"""Creating a RediSearch index idempotently, the one way every component does it.

Ingest, the region API and the AI package all create their indexes at start-up with
no ordering between them, so each must tolerate the index already existing and the
race where another process creates it between the check and FT.CREATE. Redis tells
these cases apart only by error text; the text tests live here, once.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from .redis_search import AsyncCommands, Reply, SyncCommands, command, command_sync, items, text


def is_missing_index_error(exc: BaseException) -> bool:
    """True for RediSearch's "this index does not exist" (the wording varies by version)."""
    text = str(exc).lower()
    return "no such index" in text or "unknown index" in text


def is_already_exists_error(exc: BaseException) -> bool:
    return "already exists" in str(exc).lower()


def _listed(names: Reply, index: str) -> bool:
    return any(text(n) == index for n in items(names or [], "FT._LIST"))


def ensure_index_sync(client: SyncCommands, index: str, args: Sequence[str | int]) -> bool:
    """FT.CREATE ``index`` unless it exists, on a synchronous client; True when created."""
    if _listed(command_sync(client, "FT._LIST"), index):
        return False
    try:
        command_sync(client, "FT.CREATE", index, *args)
    except redis.ResponseError as exc:
        if not is_already_exists_error(exc):
            raise
        return False
    return True


async def index_exists(client: AsyncCommands, index: str) -> bool:
    """True when ``index`` exists; FT._LIST is O(indexes), unlike FT.INFO's statistics."""
    return _listed(await command(client, "FT._LIST"), index)


async def ensure_index(client: AsyncCommands, index: str, args: Sequence[str | int]) -> bool:
    """FT.CREATE ``index`` unless it exists, on an asyncio client; True when created."""
    if await index_exists(client, index):
        return False
    try:
        await command(client, "FT.CREATE", index, *args)
    except redis.ResponseError as exc:
        if not is_already_exists_error(exc):
            raise
        return False
    return True


async def drop_index(client: AsyncCommands, index: str, *, delete_docs: bool) -> None:
    """FT.DROPINDEX (with its documents when ``delete_docs``); a missing index is no error."""
    if not await index_exists(client, index):
        return
    await command(client, "FT.DROPINDEX", index, *(["DD"] if delete_docs else []))


def vector_field(name: str, dim: int, capacity: int = 1000) -> list[str]:
    """Arguments of an HNSW FLOAT32 cosine VECTOR field."""
    return [
        name,
        "VECTOR",
        "HNSW",
        "10",
        "TYPE",
        "FLOAT32",
        "DIM",
        str(dim),
        "DISTANCE_METRIC",
        "COSINE",
        "INITIAL_CAP",
        str(capacity),
        "M",
        "16",
    ]
