"""How the region API sends its RediSearch commands: pipelined, timed, index-aware.

Query building and reply parsing are shared with the AI features
(tier0_common.redis_search); what is the API's own is here: several commands in one
round trip, the per-query latency metric, and turning "no such index" into
:class:`IndexMissing` (a 503 with a clear body, see app.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
import redis.asyncio as aioredis

from tier0_api.observability import timed_query
from tier0_common import search_index
from tier0_common.redis_search import CommandArg, Reply, command


def seen_since(epoch: float) -> str:
    """Clause matching devices seen at or after ``epoch`` (``seen`` is NUMERIC SORTABLE)."""
    return f"@seen:[{epoch:.3f} +inf]"


def join_clauses(clauses: Sequence[str]) -> str:
    return " ".join(clauses) if clauses else "*"


class IndexMissing(RuntimeError):
    """idx:dev does not exist (fresh Redis before any component created it)."""


async def execute(
    client: aioredis.Redis, name: str, *commands: Sequence[CommandArg]
) -> list[Reply]:
    """Send ``commands`` in one round trip (a non-transactional pipeline) and time it."""
    with timed_query(name):
        try:
            if len(commands) == 1:
                return [await command(client, *commands[0])]
            async with client.pipeline(transaction=False) as pipe:
                for args in commands:
                    pipe.execute_command(*args)
                replies: list[Reply] = await pipe.execute()
                return replies
        except redis.ResponseError as exc:
            if search_index.is_missing_index_error(exc):
                raise IndexMissing(str(exc)) from exc
            raise
