"""RediSearch queries and replies, written once for the region API and the AI features.

Both send raw FT.* commands (rather than redis-py's search helpers) so an endpoint can
batch several searches in one pipeline round trip and pass TIMEOUT/DIALECT itself, and
both read RESP2 replies (their clients use ``protocol=2``). redis-py types its replies
as ``Any``; :func:`command` is the typed door: it names what comes back (:data:`Reply`)
and the parsers below turn a reply into plain ``str`` fields, or raise
:class:`UnexpectedReply` naming what was wrong, instead of failing later on an index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeAlias

#: One argument of a Redis command as redis-py encodes it.
CommandArg: TypeAlias = str | bytes | int | float
#: A RESP2 reply: a bulk or simple string (bytes unless the client decodes), an
#: integer, nil, or an array of those. redis-py reshapes the replies of the commands it
#: knows (HGETALL into a dict, XRANGE entries into tuples); FT.* replies stay raw.
Reply: TypeAlias = (
    "str | bytes | int | float | None | list[Reply] | tuple[Reply, ...] | dict[str, Reply]"
)

#: The query dialect every query here is written for.
DIALECT: tuple[str, str] = ("DIALECT", "2")
_TAG_SPECIAL = re.compile(r"([^A-Za-z0-9])")
_WORD = re.compile(r"[A-Za-z0-9]+")

#: Words that carry no meaning for full-text matching (RediSearch has its own stop
#: list, but an all-stopword OR query is an error there, so they are dropped first).
STOPWORDS = frozenset(
    "a an and are as at be by for from get give has have how i in is it its list me "
    "many much of on or our show tell that the their there these this to was we what "
    "when where which who why with describe about do does did please".split()
)


class AsyncCommands(Protocol):
    """What :func:`command` needs of a client: ``redis.asyncio.Redis`` has it."""

    async def execute_command(self, *args: CommandArg, **options: Any) -> Any: ...


class SyncCommands(Protocol):
    """The same for a synchronous ``redis.Redis``."""

    def execute_command(self, *args: CommandArg, **options: Any) -> Any: ...


class UnexpectedReply(ValueError):
    """A reply whose shape is not what the command returns (a protocol or version mix-up)."""


async def command(client: AsyncCommands, *args: CommandArg) -> Reply:
    """Send one command and return its reply, typed."""
    reply: Reply = await client.execute_command(*args)
    return reply


def command_sync(client: SyncCommands, *args: CommandArg) -> Reply:
    reply: Reply = client.execute_command(*args)
    return reply


# -- queries -------------------------------------------------------------------------


def escape_tag(value: str) -> str:
    """Escape a TAG value for a query: every non-alphanumeric character gets a backslash."""
    return _TAG_SPECIAL.sub(r"\\\1", value)


def tag_clause(field: str, values: Iterable[str]) -> str:
    """``@field:{a|b}`` for one or more TAG values."""
    return f"@{field}:{{{'|'.join(escape_tag(value) for value in values)}}}"


def text_terms(text: str, limit: int = 24) -> list[str]:
    """Lower-case content words of ``text`` for a full-text OR query, deduplicated."""
    words = [w.lower() for w in _WORD.findall(text)]
    kept = [w for w in dict.fromkeys(words) if w not in STOPWORDS and len(w) > 1]
    return kept[:limit]


def knn_search(
    index: str, vector: bytes, k: int, returns: Sequence[str], prefilter: str = "*"
) -> list[CommandArg]:
    """FT.SEARCH of the ``k`` nearest ``@vec`` neighbours of ``vector`` (FLOAT32 bytes),
    nearest first, returning ``returns`` plus their cosine distance as ``dist``."""
    return [
        "FT.SEARCH",
        index,
        f"{prefilter}=>[KNN {k} @vec $v AS dist]",
        "PARAMS",
        "2",
        "v",
        vector,
        "SORTBY",
        "dist",
        "ASC",
        "LIMIT",
        "0",
        str(k),
        "RETURN",
        str(len(returns) + 1),
        *returns,
        "dist",
        *DIALECT,
    ]


def count_by(
    index: str, query: str, field: str, limit: int, sort: Sequence[str] = ()
) -> list[CommandArg]:
    """FT.AGGREGATE counting the matches of ``query`` per value of ``field`` (as
    ``count``), optionally sorted (``sort`` = SORTBY's arguments, e.g. ``@count DESC``)."""
    sortby = ["SORTBY", str(len(sort)), *sort] if sort else []
    return [
        "FT.AGGREGATE",
        index,
        query,
        "GROUPBY",
        "1",
        f"@{field}",
        "REDUCE",
        "COUNT",
        "0",
        "AS",
        "count",
        *sortby,
        "LIMIT",
        "0",
        str(limit),
        *DIALECT,
    ]


# -- replies -------------------------------------------------------------------------


def items(reply: Reply, what: str = "reply") -> Sequence[Reply]:
    """The elements of an array reply."""
    if not isinstance(reply, list | tuple):
        raise UnexpectedReply(f"{what}: expected an array, got {type(reply).__name__}")
    return reply


def text(value: Reply) -> str:
    """A scalar reply as text (bytes decoded as UTF-8)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list | tuple | dict):
        raise UnexpectedReply(f"expected a scalar, got {type(value).__name__}")
    return "" if value is None else str(value)


def pairs(flat: Reply) -> dict[str, str]:
    """``[k1, v1, k2, v2]`` -> ``{k1: v1, k2: v2}`` (RESP2 field lists; a hash that
    redis-py already made a dict passes through, nil is empty)."""
    if flat is None:
        return {}
    if isinstance(flat, dict):
        return {key: text(value) for key, value in flat.items()}
    values = items(flat, "field list")
    return {text(values[i]): text(values[i + 1]) for i in range(0, len(values) - 1, 2)}


def search_total(reply: Reply) -> int:
    """Total matches of an FT.SEARCH reply (also with LIMIT 0 0)."""
    return int(text(items(reply, "FT.SEARCH")[0]))


def search_docs(reply: Reply) -> list[tuple[str, dict[str, str]]]:
    """``(key, fields)`` of each document in an FT.SEARCH reply with content."""
    values = items(reply, "FT.SEARCH")
    return [(text(values[i]), pairs(values[i + 1])) for i in range(1, len(values) - 1, 2)]


def aggregate_rows(reply: Reply) -> list[dict[str, str]]:
    """Rows of an FT.AGGREGATE reply; its first element is not a row count, so skip it."""
    return [pairs(row) for row in items(reply, "FT.AGGREGATE")[1:]]


def to_float(value: Reply) -> float | None:
    """A Redis number as float; None for missing or unparsable values."""
    if value is None or value == "" or isinstance(value, list | tuple | dict):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number else None
