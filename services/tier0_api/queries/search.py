"""Small helpers for RediSearch: query-string escaping and RESP2 reply parsing.

Raw FT.* commands (rather than redis-py's search helpers) let an endpoint batch
several searches in one pipeline round trip and pass TIMEOUT/DIALECT explicitly;
the replies are parsed here in one place. The client is RESP2 with decoded strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from tier0_common import search_index

from ..observability import timed_query

_TAG_SPECIAL = re.compile(r"([^A-Za-z0-9])")

#: The query dialect every query here is written for.
DIALECT = ("DIALECT", "2")


def escape_tag(value: str) -> str:
    """Escape a TAG value for a query: every non-alphanumeric character gets a backslash."""
    return _TAG_SPECIAL.sub(r"\\\1", value)


def tag_clause(field: str, values: Iterable[str]) -> str:
    """``@field:{a|b}`` for one or more TAG values."""
    return f"@{field}:{{{'|'.join(escape_tag(value) for value in values)}}}"


def seen_since(epoch: float) -> str:
    """Clause matching devices seen at or after ``epoch`` (``seen`` is NUMERIC SORTABLE)."""
    return f"@seen:[{epoch:.3f} +inf]"


def join_clauses(clauses: Sequence[str]) -> str:
    return " ".join(clauses) if clauses else "*"


def pairs(flat: Sequence[Any]) -> dict[str, Any]:
    """``[k1, v1, k2, v2]`` -> ``{k1: v1, k2: v2}`` (RESP2 field lists)."""
    return {str(flat[i]): flat[i + 1] for i in range(0, len(flat) - 1, 2)}


def aggregate_rows(reply: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows of an FT.AGGREGATE reply; its first element is not a row count, so skip it."""
    return [pairs(row) for row in reply[1:]]


def search_total(reply: Sequence[Any]) -> int:
    """Total matches of an FT.SEARCH reply (also with LIMIT 0 0)."""
    return int(reply[0])


def search_docs(reply: Sequence[Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(key, fields)`` of each document in an FT.SEARCH reply with content."""
    return [(str(reply[i]), pairs(reply[i + 1])) for i in range(1, len(reply) - 1, 2)]


def to_float(value: Any) -> float | None:
    """A Redis number as float; None for missing or unparsable values."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


class IndexMissing(RuntimeError):
    """idx:dev does not exist (fresh Redis before any component created it)."""


async def execute(client: Any, name: str, *commands: tuple[Any, ...]) -> list[Any]:
    """Send ``commands`` in one round trip (a non-transactional pipeline) and time it."""
    import redis

    with timed_query(name):
        try:
            if len(commands) == 1:
                return [await client.execute_command(*commands[0])]
            async with client.pipeline(transaction=False) as pipe:
                for command in commands:
                    pipe.execute_command(*command)
                return list(await pipe.execute())
        except redis.ResponseError as exc:
            if search_index.is_missing_index_error(exc):
                raise IndexMissing(str(exc)) from exc
            raise
