"""RediSearch helpers shared by the image, log and document indexes.

Raw FT.* commands with RESP2 replies (the region API's client is RESP2 with decoded
strings, ``protocol=2``); the replies are parsed here in one place. Every helper
takes a ``redis.asyncio.Redis`` so the API and the CLI run the same code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import redis.asyncio as aioredis

from tier0_common import search_index

DIALECT: tuple[str, str] = ("DIALECT", "2")
_TAG_SPECIAL = re.compile(r"([^A-Za-z0-9_])")
_WORD = re.compile(r"[A-Za-z0-9]+")

#: Words that carry no meaning for full-text matching (RediSearch has its own stop
#: list, but an all-stopword OR query is an error there, so they are dropped first).
STOPWORDS = frozenset(
    "a an and are as at be by for from get give has have how i in is it its list me "
    "many much of on or our show tell that the their there these this to was we what "
    "when where which who why with describe about do does did please".split()
)


def escape_tag(value: str) -> str:
    return _TAG_SPECIAL.sub(r"\\\1", value)


def tag_clause(field: str, values: Iterable[str]) -> str:
    return f"@{field}:{{{'|'.join(escape_tag(v) for v in values)}}}"


def text_terms(text: str, limit: int = 24) -> list[str]:
    """Lower-case content words of ``text`` for a full-text OR query, deduplicated."""
    words = [w.lower() for w in _WORD.findall(text)]
    kept = [w for w in dict.fromkeys(words) if w not in STOPWORDS and len(w) > 1]
    return kept[:limit]


def pairs(flat: Sequence[Any]) -> dict[str, Any]:
    return {str(flat[i]): flat[i + 1] for i in range(0, len(flat) - 1, 2)}


def search_total(reply: Sequence[Any]) -> int:
    return int(reply[0])


def search_docs(reply: Sequence[Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(key, fields)`` per document of an FT.SEARCH reply (RESP2)."""
    return [(str(reply[i]), pairs(reply[i + 1])) for i in range(1, len(reply) - 1, 2)]


def aggregate_rows(reply: Sequence[Any]) -> list[dict[str, Any]]:
    return [pairs(row) for row in reply[1:]]


async def index_exists(client: aioredis.Redis, index: str) -> bool:
    return await search_index.index_exists(client, index)


async def create_index(client: aioredis.Redis, index: str, args: Sequence[str | int]) -> bool:
    """FT.CREATE unless it exists; True when created. Idempotent under races."""
    return await search_index.ensure_index(client, index, args)


async def drop_index(client: aioredis.Redis, index: str, *, delete_docs: bool) -> None:
    if not await index_exists(client, index):
        return
    args = ["FT.DROPINDEX", index] + (["DD"] if delete_docs else [])
    await client.execute_command(*args)


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
