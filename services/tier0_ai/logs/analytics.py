"""Exact log analytics, computed by FT.AGGREGATE over every stored entry.

No sampling and no estimates: counts, sums, averages and maxima only (RediSearch's
QUANTILE reducer is approximate, so percentiles are not offered here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import redis.asyncio as aioredis

from tier0_common.redis_search import (
    DIALECT,
    aggregate_rows,
    command,
    count_by,
    search_total,
    tag_clause,
)
from tier0_common.search_index import index_exists

from .. import keys

ACCESS = tag_clause("kind", ["access"])


class LogFigures(TypedDict):
    """The exact figures of :func:`summary`."""

    total_entries: int
    access_entries: int
    app_entries: int
    http_errors: int
    http_error_rate: float
    top_error_statuses: list[dict[str, int]]
    noisy_ips: list[dict[str, object]]
    app_levels: dict[str, int]
    latency: dict[str, float]


@dataclass(slots=True)
class IpCount:
    ip: str
    count: int


async def has_logs(client: aioredis.Redis) -> bool:
    return await index_exists(client, keys.LOG_INDEX)


async def _count(client: aioredis.Redis, query: str) -> int:
    reply = await command(client, "FT.SEARCH", keys.LOG_INDEX, query, "LIMIT", "0", "0", *DIALECT)
    return search_total(reply)


async def total_entries(client: aioredis.Redis) -> int:
    return await _count(client, "*") if await has_logs(client) else 0


async def top_ips(client: aioredis.Redis, status: int, limit: int) -> tuple[int, list[IpCount]]:
    """(entries with ``status``, the ``limit`` IPs with most of them, ties by IP)."""
    query = f"{ACCESS} @status:[{status} {status}]"
    total = await _count(client, query)
    reply = await command(
        client, *count_by(keys.LOG_INDEX, query, "ip", limit, ("@count", "DESC", "@ip", "ASC"))
    )
    return total, [IpCount(r["ip"], int(r["count"])) for r in aggregate_rows(reply)]


async def status_distribution(client: aioredis.Redis) -> dict[int, int]:
    reply = await command(
        client, *count_by(keys.LOG_INDEX, ACCESS, "status", 1000, ("@status", "ASC"))
    )
    return {int(r["status"]): int(r["count"]) for r in aggregate_rows(reply)}


async def error_rate_over_time(client: aioredis.Redis, bucket_s: int) -> list[dict[str, float]]:
    reply = await command(
        client,
        "FT.AGGREGATE",
        keys.LOG_INDEX,
        ACCESS,
        "LOAD",
        "2",
        "@ts",
        "@is_error",
        "APPLY",
        f"floor(@ts / {bucket_s}) * {bucket_s}",
        "AS",
        "bucket",
        "GROUPBY",
        "1",
        "@bucket",
        "REDUCE",
        "COUNT",
        "0",
        "AS",
        "total",
        "REDUCE",
        "SUM",
        "1",
        "@is_error",
        "AS",
        "errors",
        "SORTBY",
        "2",
        "@bucket",
        "ASC",
        "LIMIT",
        "0",
        "10000",
        *DIALECT,
    )
    out = []
    for r in aggregate_rows(reply):
        total, errors = int(r["total"]), int(float(r["errors"]))
        out.append(
            {
                "bucket_start": float(r["bucket"]),
                "total": total,
                "errors": errors,
                "error_rate": round(errors / total, 4) if total else 0.0,
            }
        )
    return out


async def latency(client: aioredis.Redis) -> dict[str, float]:
    reply = await command(
        client,
        "FT.AGGREGATE",
        keys.LOG_INDEX,
        ACCESS,
        "GROUPBY",
        "0",
        "REDUCE",
        "AVG",
        "1",
        "@latency_ms",
        "AS",
        "avg",
        "REDUCE",
        "MAX",
        "1",
        "@latency_ms",
        "AS",
        "max",
        "REDUCE",
        "COUNT",
        "0",
        "AS",
        "count",
        *DIALECT,
    )
    rows = aggregate_rows(reply)
    if not rows or not int(rows[0].get("count", 0)):
        return {"avg_ms": 0.0, "max_ms": 0.0}
    return {"avg_ms": round(float(rows[0]["avg"]), 2), "max_ms": round(float(rows[0]["max"]), 2)}


async def app_levels(client: aioredis.Redis) -> dict[str, int]:
    reply = await command(
        client, *count_by(keys.LOG_INDEX, tag_clause("kind", ["app"]), "level", 100)
    )
    return {r["level"]: int(r["count"]) for r in aggregate_rows(reply)}


async def noisy_ips(client: aioredis.Redis, limit: int) -> list[dict[str, object]]:
    """IPs with the most 4xx/5xx responses, with their dominant status."""
    reply = await command(
        client,
        "FT.AGGREGATE",
        keys.LOG_INDEX,
        f"{ACCESS} @status:[400 599]",
        "GROUPBY",
        "2",
        "@ip",
        "@status",
        "REDUCE",
        "COUNT",
        "0",
        "AS",
        "count",
        "SORTBY",
        "2",
        "@count",
        "DESC",
        "LIMIT",
        "0",
        str(limit * 5),
        *DIALECT,
    )
    out: dict[str, dict[str, object]] = {}
    for r in aggregate_rows(reply):
        if r["ip"] not in out and len(out) < limit:
            out[r["ip"]] = {"ip": r["ip"], "status": int(r["status"]), "count": int(r["count"])}
    return list(out.values())


async def summary(client: aioredis.Redis) -> LogFigures:
    total_access = await _count(client, ACCESS)
    errors = await _count(client, f"{ACCESS} @is_error:[1 1]")
    dist = await status_distribution(client)
    return {
        "total_entries": await _count(client, "*"),
        "access_entries": total_access,
        "app_entries": await _count(client, tag_clause("kind", ["app"])),
        "http_errors": errors,
        "http_error_rate": round(errors / total_access, 4) if total_access else 0.0,
        "top_error_statuses": sorted(
            ({"status": s, "count": c} for s, c in dist.items() if s >= 400),
            key=lambda d: (-d["count"], d["status"]),
        )[:5],
        "noisy_ips": await noisy_ips(client, 5),
        "app_levels": await app_levels(client),
        "latency": await latency(client),
    }
