"""Store log entries in a region's Redis (one hash each) under one search index."""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from tier0_common.search_index import drop_index

from .. import keys
from ..indexes import changed, ensure_current
from .entry import LogEntry

SCHEMA = (
    "ON",
    "HASH",
    "PREFIX",
    "1",
    keys.LOG_PREFIX,
    "SCHEMA",
    "kind",
    "TAG",
    "ts",
    "NUMERIC",
    "SORTABLE",
    "ip",
    "TAG",
    "method",
    "TAG",
    "path",
    "TAG",
    "status",
    "NUMERIC",
    "SORTABLE",
    "latency_ms",
    "NUMERIC",
    "is_error",
    "NUMERIC",
    "level",
    "TAG",
    "service",
    "TAG",
    "message",
    "TEXT",
    # The client's product name from the user agent ("tier0-gateway", "curl"), and
    # the site an app event names: questions filter and group by both.
    "agent",
    "TAG",
    "site",
    "TAG",
)
COUNTER = "ai:log:next"


async def ensure_index(client: aioredis.Redis) -> None:
    await ensure_current(client, keys.LOG_INDEX, SCHEMA)


async def store(client: aioredis.Redis, entries: Sequence[LogEntry], batch: int = 2_000) -> int:
    """Append ``entries``; returns how many were written."""
    await ensure_index(client)
    if not entries:
        return 0
    last = int(await client.incrby(COUNTER, len(entries)))
    first = last - len(entries)
    for start in range(0, len(entries), batch):
        pipe = client.pipeline(transaction=False)
        for offset, e in enumerate(entries[start : start + batch]):
            pipe.hset(
                keys.log_key(first + start + offset),
                mapping={
                    "kind": e.kind,
                    "ts": f"{e.ts:.3f}",
                    "ip": e.ip,
                    "method": e.method,
                    "path": e.path,
                    "status": e.status,
                    "latency_ms": e.latency_ms,
                    "is_error": int(e.is_error),
                    "level": e.level,
                    "service": e.service,
                    "message": e.message,
                    "user_agent": e.user_agent,
                    "agent": e.agent,
                    "site": e.site,
                },
            )
        await pipe.execute()
    await changed(client)
    return len(entries)


async def clear(client: aioredis.Redis) -> None:
    await drop_index(client, keys.LOG_INDEX, delete_docs=True)
    await client.delete(COUNTER)
    await changed(client)
