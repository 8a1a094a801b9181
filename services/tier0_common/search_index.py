"""Creating a RediSearch index idempotently, the one way every component does it.

Ingest, the region API and the AI package all create their indexes at start-up with
no ordering between them, so each must tolerate the index already existing and the
race where another process creates it between the check and FT.CREATE. Redis tells
these cases apart only by error text; the text tests live here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def is_missing_index_error(exc: BaseException) -> bool:
    """True for RediSearch's "this index does not exist" (the wording varies by version)."""
    text = str(exc).lower()
    return "no such index" in text or "unknown index" in text


def is_already_exists_error(exc: BaseException) -> bool:
    return "already exists" in str(exc).lower()


def _listed(names: Sequence[Any] | None, index: str) -> bool:
    return any((n.decode() if isinstance(n, bytes) else str(n)) == index for n in names or [])


def ensure_index_sync(client: Any, index: str, args: Sequence[str | int]) -> bool:
    """FT.CREATE ``index`` unless it exists, on a synchronous client; True when created."""
    import redis

    if _listed(client.execute_command("FT._LIST"), index):
        return False
    try:
        client.execute_command("FT.CREATE", index, *args)
    except redis.ResponseError as exc:
        if not is_already_exists_error(exc):
            raise
        return False
    return True


async def index_exists(client: Any, index: str) -> bool:
    """True when ``index`` exists; FT._LIST is O(indexes), unlike FT.INFO's statistics."""
    return _listed(await client.execute_command("FT._LIST"), index)


async def ensure_index(client: Any, index: str, args: Sequence[str | int]) -> bool:
    """FT.CREATE ``index`` unless it exists, on an asyncio client; True when created."""
    import redis

    if await index_exists(client, index):
        return False
    try:
        await client.execute_command("FT.CREATE", index, *args)
    except redis.ResponseError as exc:
        if not is_already_exists_error(exc):
            raise
        return False
    return True
