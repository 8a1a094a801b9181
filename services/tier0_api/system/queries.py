"""Liveness of Redis, the device index, ingest freshness and canary receipts."""

from __future__ import annotations

import redis.asyncio as aioredis

from tier0_api.redis_commands import execute
from tier0_common import search_index
from tier0_common.keys import DEVICE_INDEX, DEVICE_INDEX_SCHEMA, INGEST_LAST, canary_key
from tier0_common.redis_search import items, pairs, text, to_float


async def ping(client: aioredis.Redis) -> bool:
    (reply,) = await execute(client, "ping", ("PING",))
    return bool(reply)


async def index_exists(client: aioredis.Redis) -> bool:
    """True when idx:dev exists. FT._LIST is O(indexes), unlike FT.INFO's statistics."""
    (reply,) = await execute(client, "index_list", ("FT._LIST",))
    return DEVICE_INDEX in {text(name) for name in items(reply or [], "FT._LIST")}


async def ingest_last(client: aioredis.Redis) -> dict[str, float]:
    """Epoch seconds of the last write per ingest source (``ingest:last``)."""
    (reply,) = await execute(client, "ingest_last", ("HGETALL", INGEST_LAST))
    out: dict[str, float] = {}
    for source, value in pairs(reply).items():
        number = to_float(value)
        if number is not None:
            out[source] = number
    return out


async def canary(client: aioredis.Redis, canary_id: str) -> float | None:
    """When the canary was ingested (epoch seconds), or None if it never arrived/expired."""
    (reply,) = await execute(client, "canary_get", ("GET", canary_key(canary_id)))
    return to_float(reply)


async def ensure_index(client: aioredis.Redis) -> bool:
    """Create idx:dev if missing; True when this call created it (async, so the API
    never blocks its event loop on a synchronous client)."""
    return await search_index.ensure_index(client, DEVICE_INDEX, DEVICE_INDEX_SCHEMA)
