"""Liveness of Redis, the device index, ingest freshness and canary receipts."""

from __future__ import annotations

from typing import Any

from tier0_common import search_index
from tier0_common.keys import DEVICE_INDEX, DEVICE_INDEX_SCHEMA, INGEST_LAST, canary_key

from .search import execute, pairs, to_float


async def ping(client: Any) -> bool:
    (reply,) = await execute(client, "ping", ("PING",))
    return bool(reply)


async def index_exists(client: Any) -> bool:
    """True when idx:dev exists. FT._LIST is O(indexes), unlike FT.INFO's statistics."""
    (reply,) = await execute(client, "index_list", ("FT._LIST",))
    return DEVICE_INDEX in {str(name) for name in reply or []}


async def ingest_last(client: Any) -> dict[str, float]:
    """Epoch seconds of the last write per ingest source (``ingest:last``)."""
    (reply,) = await execute(client, "ingest_last", ("HGETALL", INGEST_LAST))
    fields = pairs(reply) if isinstance(reply, list) else dict(reply or {})
    out: dict[str, float] = {}
    for source, value in fields.items():
        number = to_float(value)
        if number is not None:
            out[str(source)] = number
    return out


async def canary(client: Any, canary_id: str) -> float | None:
    """When the canary was ingested (epoch seconds), or None if it never arrived/expired."""
    (reply,) = await execute(client, "canary_get", ("GET", canary_key(canary_id)))
    return to_float(reply)


async def ensure_index(client: Any) -> bool:
    """Create idx:dev if missing; True when this call created it (async, so the API
    never blocks its event loop on a synchronous client)."""
    return await search_index.ensure_index(client, DEVICE_INDEX, DEVICE_INDEX_SCHEMA)
