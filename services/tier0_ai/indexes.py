"""Indexes whose schema has grown: recognise an outdated one and recreate it.

Why: a region indexed by an earlier version keeps its RediSearch index when the code
starts querying a new field (incidents' ``datenum``, logs' ``agent`` and ``site``);
FT.CREATE on an existing name is a no-op, and a query naming an unknown field is an
error. So the stores recreate an index whose fields fall short (the hashes stay; Redis
re-indexes them), and ``python -m tier0_ai missing`` reports such a corpus as missing,
which makes ``make up`` index it again. :func:`changed` marks the records as
rewritten, so cached question vocabularies are read again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import redis.asyncio as aioredis

from tier0_common.redis_search import command, items, pairs, text
from tier0_common.search_index import drop_index, ensure_index, is_missing_index_error

from . import keys

_TYPES = frozenset({"TAG", "TEXT", "NUMERIC", "VECTOR", "GEO", "GEOSHAPE"})


def schema_fields(schema: Sequence[str | int]) -> set[str]:
    """The field names an FT.CREATE argument list declares."""
    args = [str(a) for a in schema]
    start = args.index("SCHEMA") + 1
    return {args[i] for i in range(start, len(args) - 1) if args[i + 1] in _TYPES}


async def indexed_fields(client: aioredis.Redis, index: str) -> set[str] | None:
    """The fields ``index`` has, or None when there is no such index."""
    try:
        info = items(await command(client, "FT.INFO", index))
    except Exception as exc:  # redis-py raises ResponseError subclasses by message
        if is_missing_index_error(exc):
            return None
        raise
    for i in range(0, len(info) - 1, 2):
        if text(info[i]) == "attributes":
            return {pairs(attr).get("attribute", "") for attr in items(info[i + 1])}
    return set()


async def outdated(client: aioredis.Redis, index: str, schema: Sequence[str | int]) -> bool:
    fields = await indexed_fields(client, index)
    return fields is not None and not schema_fields(schema) <= fields


async def ensure_current(client: aioredis.Redis, index: str, schema: Sequence[str | int]) -> None:
    """Create ``index``, or recreate it (keeping the documents) when it lacks fields."""
    if await outdated(client, index, schema):
        await drop_index(client, index, delete_docs=False)
    await ensure_index(client, index, schema)


async def changed(client: aioredis.Redis) -> None:
    """Logs or incidents were written: cached question vocabularies are stale."""
    await client.set(keys.VOCAB_TOKEN, uuid.uuid4().hex)
