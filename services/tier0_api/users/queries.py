"""User-activity queries: each web site's latest report and the recent-reports stream.

Web sites come from the catalogue (tier0_common.catalog.WEB_SITES): reading five known
hashes in one pipeline is cheaper than scanning the keyspace for ``users:site:*``,
which would walk every device key too.

A report is read from flat hash/stream fields named like the wire payload
(``message_id``, ``timestamp_utc``, ``active_users``, ...); a ``payload`` field holding
the whole JSON report is understood as well, so either ingest layout reads the same.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from tier0_api.redis_commands import execute
from tier0_common.catalog import WEB_SITES
from tier0_common.keys import USERS_ACTIVITY, USERS_SITE_METRIC_FIELDS, users_site_key
from tier0_common.redis_search import items, pairs, text, to_float
from tier0_common.rfc3339 import parse_rfc3339


def flatten_report(fields: dict[str, Any]) -> dict[str, Any]:
    """One flat dict from either layout: flat fields, nested ``metrics`` or ``payload`` JSON."""
    flat: dict[str, Any] = dict(fields)
    for container in ("payload", "data", "json"):
        raw = flat.get(container)
        if isinstance(raw, str) and raw.startswith("{"):
            try:
                decoded = json.loads(raw)
            except ValueError:
                continue
            if isinstance(decoded, dict):
                flat = {**decoded, **{k: v for k, v in flat.items() if k != container}}
    metrics = flat.get("metrics")
    if isinstance(metrics, str) and metrics.startswith("{"):
        try:
            metrics = json.loads(metrics)
        except ValueError:
            metrics = None
    if isinstance(metrics, dict):
        flat = {**metrics, **{k: v for k, v in flat.items() if k != "metrics"}}
    return flat


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 text or epoch seconds, as an aware UTC datetime."""
    from datetime import UTC

    if value is None or value == "":
        return None
    number = to_float(value)
    if number is not None:
        return datetime.fromtimestamp(number, UTC)
    try:
        return parse_rfc3339(str(value))
    except ValueError:
        return None


def report_values(site_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Values of a SiteUsers model from a stored report."""
    flat = flatten_report(fields)
    numbers = {name: to_float(flat.get(name)) for name in USERS_SITE_METRIC_FIELDS}
    return {
        "site_id": str(flat.get("site_id") or site_id),
        "message_id": str(flat["message_id"]) if flat.get("message_id") else None,
        "timestamp_utc": parse_time(flat.get("timestamp_utc") or flat.get("ts")),
        "active_users": int(numbers["active_users"] or 0),
        "active_connections": int(numbers["active_connections"] or 0),
        "server_cpu_pct": numbers["server_cpu_pct"],
        "server_memory_gb": numbers["server_memory_gb"],
        "average_latency_ms": numbers["average_latency_ms"],
    }


async def latest_by_site(client: aioredis.Redis) -> list[dict[str, Any]]:
    """Latest report values of every web site that has reported (catalogue order)."""
    replies = await execute(
        client, "users_sites", *(("HGETALL", users_site_key(site)) for site in WEB_SITES)
    )
    out = []
    for site, reply in zip(WEB_SITES, replies, strict=True):
        fields = pairs(reply)
        if fields:
            out.append(report_values(site, fields))
    return out


async def recent_reports(client: aioredis.Redis, limit: int) -> list[dict[str, Any]]:
    """Newest ``limit`` reports of the users:activity stream, each with its stream id."""
    (reply,) = await execute(
        client, "users_recent", ("XREVRANGE", USERS_ACTIVITY, "+", "-", "COUNT", str(limit))
    )
    out = []
    for entry in items(reply or [], "XREVRANGE"):
        stream_id, raw = items(entry, "stream entry")
        out.append({"stream_id": text(stream_id), **report_values("", pairs(raw))})
    return out
