"""What the stored records contain: the values a question can be matched against.

Why read it from Redis for every question: a question is understood against the
data, not against a list typed into the code. An operator, site, status code or log
level that the records do not contain is "not found", and the answer names the
values that are there; the records' own calendar (first and last date) anchors
relative dates like "last year". One pipelined round trip of GROUPBY aggregates, cached until the records change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import redis.asyncio as aioredis

from tier0_common.redis_search import (
    DIALECT,
    CommandArg,
    Reply,
    aggregate_rows,
    command,
    items,
    text,
)

from .. import keys

#: (dataset, field) pairs whose distinct values are read; the TAG/NUMERIC fields a
#: question can constrain or group by.
_INCIDENT_FIELDS = ("operator", "site", "severity", "kind", "year")
_HTTP_FIELDS = ("status", "method", "path", "agent")
_APP_FIELDS = ("level", "service", "site")


@dataclass(slots=True)
class Vocabulary:
    incidents: dict[str, list[str]] = field(default_factory=dict)
    http: dict[str, list[str]] = field(default_factory=dict)
    app: dict[str, list[str]] = field(default_factory=dict)
    incident_span: tuple[date, date] | None = None
    http_span: tuple[datetime, datetime] | None = None
    app_span: tuple[datetime, datetime] | None = None

    def values(self, dataset: str, name: str) -> list[str]:
        table: dict[str, list[str]] = getattr(self, dataset)
        return table.get(name, [])

    def span_dates(self, dataset: str) -> tuple[date, date] | None:
        if dataset == "incidents":
            return self.incident_span
        span = self.http_span if dataset == "http" else self.app_span
        return (span[0].date(), span[1].date()) if span else None

    @property
    def operators(self) -> list[str]:
        return self.incidents.get("operator", [])


def _groupby(index: str, query: str, name: str) -> list[CommandArg]:
    return [
        "FT.AGGREGATE",
        index,
        query,
        "GROUPBY",
        "1",
        f"@{name}",
        "LIMIT",
        "0",
        "10000",
        *DIALECT,
    ]


def _minmax(index: str, query: str, name: str) -> list[CommandArg]:
    return [
        "FT.AGGREGATE",
        index,
        query,
        "GROUPBY",
        "0",
        "REDUCE",
        "MIN",
        "1",
        f"@{name}",
        "AS",
        "lo",
        "REDUCE",
        "MAX",
        "1",
        f"@{name}",
        "AS",
        "hi",
        *DIALECT,
    ]


def _distinct(reply: Reply, name: str) -> list[str]:
    values = {str(r[name]) for r in aggregate_rows(reply) if r.get(name) not in (None, "")}
    numeric = all(v.isdigit() for v in values)
    return sorted(values, key=lambda v: (int(v) if numeric else 0, v))


def _range(reply: Reply) -> tuple[float, float] | None:
    rows = aggregate_rows(reply)
    if not rows or rows[0].get("lo") in (None, "", "nan", "inf"):
        return None
    try:
        return float(rows[0]["lo"]), float(rows[0]["hi"])
    except (KeyError, ValueError):
        return None


def _day(n: float) -> date:
    text = str(int(n))
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _ts(n: float) -> datetime:
    return datetime.fromtimestamp(n, UTC)


#: Vocabularies by (region's Redis address, token); a handful of regions at most.
_CACHE: dict[tuple[str, str], Vocabulary] = {}
_CACHE_SIZE = 16


def _address(client: aioredis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db', 0)}"


async def load(client: aioredis.Redis) -> Vocabulary:
    """The records' vocabulary; read again only after logs or incidents were written
    (their stores change ``ai:vocab:token``), so a question costs one GET, not 13
    aggregates, when nothing changed."""
    token = await client.get(keys.VOCAB_TOKEN)
    if token is None:
        return await _read(client)
    key = (_address(client), str(token))
    cached = _CACHE.get(key)
    if cached is None:
        cached = await _read(client)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = cached
    return cached


async def _read(client: aioredis.Redis) -> Vocabulary:
    indexes = {text(n) for n in items(await command(client, "FT._LIST"))}
    vocab = Vocabulary()
    plan: list[tuple[str, str, list[CommandArg]]] = []
    if keys.INCIDENT_INDEX in indexes:
        plan += [("incidents", n, _groupby(keys.INCIDENT_INDEX, "*", n)) for n in _INCIDENT_FIELDS]
        plan.append(("incidents", "#span", _minmax(keys.INCIDENT_INDEX, "*", "datenum")))
    if keys.LOG_INDEX in indexes:
        plan += [("http", n, _groupby(keys.LOG_INDEX, "@kind:{access}", n)) for n in _HTTP_FIELDS]
        plan.append(("http", "#span", _minmax(keys.LOG_INDEX, "@kind:{access}", "ts")))
        plan += [("app", n, _groupby(keys.LOG_INDEX, "@kind:{app}", n)) for n in _APP_FIELDS]
        plan.append(("app", "#span", _minmax(keys.LOG_INDEX, "@kind:{app}", "ts")))
    if not plan:
        return vocab
    async with client.pipeline(transaction=False) as pipe:
        for _, _, args in plan:
            pipe.execute_command(*args)
        replies: list[Reply] = await pipe.execute()
    for (dataset, name, _), reply in zip(plan, replies, strict=True):
        if name != "#span":
            getattr(vocab, dataset)[name] = _distinct(reply, name)
            continue
        span = _range(reply)
        if span is None:
            continue
        if dataset == "incidents":
            vocab.incident_span = (_day(span[0]), _day(span[1]))
        elif dataset == "http":
            vocab.http_span = (_ts(span[0]), _ts(span[1]))
        else:
            vocab.app_span = (_ts(span[0]), _ts(span[1]))
    return vocab
