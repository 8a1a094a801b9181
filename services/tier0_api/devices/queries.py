"""Device queries over idx:dev: activity counts, alerts, per-site aggregates, one device.

Everything is answered by the index (FT.SEARCH with LIMIT 0 0 for counts, FT.AGGREGATE
for groupings) so the cost grows with the matching devices, not with the keyspace;
no endpoint here scans keys. Per-site metric statistics are computed per device type,
each type's query loading only that type's own metrics: an AVG over a field a type does
not have would silently count as 0.

Those per-site statistics are the one expensive read (about 30 ms of Redis CPU over a
10,000-device site, nearly all of it LOADing the hash fields), and a dashboard asks for
them again every few seconds per viewer, so :class:`SiteStatsCache` keeps each site's
answer for a short, caller-chosen age and lets concurrent askers share one computation.

Why one module of ~450 lines: every query over idx:dev is here, so what each endpoint
costs Redis is read in one place, and the cache sits beside the one query it serves.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from prometheus_client import Counter

from tier0_api.redis_commands import execute, join_clauses, seen_since
from tier0_common.catalog import DEVICE_TYPES, METRICS, SITE_IDS, DeviceState, DeviceType
from tier0_common.keys import DEVICE_INDEX, device_key, metric_field
from tier0_common.redis_search import (
    DIALECT,
    aggregate_rows,
    pairs,
    search_docs,
    search_total,
    tag_clause,
    to_float,
)

#: Rows an aggregate may return; groupings here have at most types x sites x states.
MAX_GROUP_ROWS = 10_000
#: Bucket for devices whose type, site or state is outside the catalogue.
OTHER = "other"
ALERT_STATES = (DeviceState.WARN.value, DeviceState.ALERT.value)
ALERT_FIELDS = ("id", "type", "site", "state", "code", "msg", "ts", "seen")


def _zeros(keys: tuple[str, ...]) -> dict[str, int]:
    return dict.fromkeys(keys, 0)


def _timeout(timeout_ms: int) -> tuple[str, str]:
    return ("TIMEOUT", str(timeout_ms))


@dataclass
class ActivityCounts:
    active: int
    total: int
    by_type: dict[str, int]
    by_site: dict[str, int]
    by_state: dict[str, int]


async def activity_counts(client: aioredis.Redis, since: float, timeout_ms: int) -> ActivityCounts:
    """Devices seen since ``since`` by type, by site and by state, plus all known devices.

    One pipelined round trip of index counts (FT.SEARCH ... LIMIT 0 0), one per
    catalogue value. Measured with 100,000 devices: ~29 ms, against ~104 ms for one
    FT.AGGREGATE GROUPBY @type @site @state, which must read the TAG values from every
    hash because they are not SORTABLE in idx:dev. Devices whose type or site is not in
    the catalogue are reported under ``other`` so the buckets always add up.
    """
    recent = seen_since(since)
    dimensions: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("type", tuple(t.value for t in DEVICE_TYPES)),
        ("site", SITE_IDS),
        ("state", tuple(s.value for s in DeviceState)),
    )
    commands = [
        ("FT.SEARCH", DEVICE_INDEX, "*", "LIMIT", "0", "0", *_timeout(timeout_ms), *DIALECT),
        ("FT.SEARCH", DEVICE_INDEX, recent, "LIMIT", "0", "0", *_timeout(timeout_ms), *DIALECT),
    ]
    for name, values in dimensions:
        commands += [
            (
                "FT.SEARCH",
                DEVICE_INDEX,
                join_clauses([recent, tag_clause(name, [value])]),
                "LIMIT",
                "0",
                "0",
                *_timeout(timeout_ms),
                *DIALECT,
            )
            for value in values
        ]
    replies = iter(await execute(client, "devices_active", *commands))
    total = search_total(next(replies))
    active = search_total(next(replies))
    buckets: list[dict[str, int]] = []
    for _, values in dimensions:
        bucket = {value: search_total(next(replies)) for value in values}
        other = active - sum(bucket.values())
        if other > 0:
            bucket[OTHER] = other
        buckets.append(bucket)
    by_type, by_site, by_state = buckets
    return ActivityCounts(active, total, by_type, by_site, by_state)


@dataclass
class AlertRow:
    device_id: str
    type: str
    site: str
    state: str
    code: str
    message: str
    ts: float | None
    seen: float | None


async def alerts(
    client: aioredis.Redis,
    *,
    states: tuple[str, ...],
    site_id: str | None,
    device_type: str | None,
    limit: int,
    offset: int,
    timeout_ms: int,
) -> tuple[int, list[AlertRow]]:
    """A page of devices in the given states, most recently seen first, and the total."""
    clauses = [tag_clause("state", states)]
    if site_id is not None:
        clauses.append(tag_clause("site", [site_id]))
    if device_type is not None:
        clauses.append(tag_clause("type", [device_type]))
    (reply,) = await execute(
        client,
        "devices_alerts",
        (
            "FT.SEARCH",
            DEVICE_INDEX,
            join_clauses(clauses),
            "RETURN",
            str(len(ALERT_FIELDS)),
            *ALERT_FIELDS,
            "SORTBY",
            "seen",
            "DESC",
            "LIMIT",
            str(offset),
            str(limit),
            *_timeout(timeout_ms),
            *DIALECT,
        ),
    )
    rows = [
        AlertRow(
            device_id=str(doc.get("id") or key.removeprefix("dev:")),
            type=str(doc.get("type", "")),
            site=str(doc.get("site", "")),
            state=str(doc.get("state", "")),
            code=str(doc.get("code", "")),
            message=str(doc.get("msg", "")),
            ts=to_float(doc.get("ts")),
            seen=to_float(doc.get("seen")),
        )
        for key, doc in search_docs(reply)
    ]
    return search_total(reply), rows


@dataclass
class TypeStats:
    devices: int = 0
    by_state: dict[str, int] = field(default_factory=lambda: _zeros(tuple(DeviceState)))
    last_seen: float | None = None
    metrics: dict[str, tuple[float | None, float | None, float | None]] = field(
        default_factory=dict
    )


@dataclass
class SiteStats:
    total: int
    active: int
    by_type: dict[str, TypeStats]


def _type_metrics_command(
    site_id: str, device_type: DeviceType, timeout_ms: int
) -> tuple[str, ...]:
    names = METRICS[device_type]
    loads = [f"@{metric_field(name)}" for name in names]
    reducers: list[str] = []
    for name in names:
        for func in ("AVG", "MIN", "MAX"):
            reducers += ["REDUCE", func, "1", f"@{metric_field(name)}", "AS", f"{func}_{name}"]
    return (
        "FT.AGGREGATE",
        DEVICE_INDEX,
        join_clauses([tag_clause("site", [site_id]), tag_clause("type", [device_type.value])]),
        "LOAD",
        str(len(loads)),
        *loads,
        "GROUPBY",
        "0",
        *reducers,
        *_timeout(timeout_ms),
        *DIALECT,
    )


async def site_stats(
    client: aioredis.Redis, site_id: str, since: float, timeout_ms: int
) -> SiteStats:
    """Counts by type and state, active count, and per-type metric avg/min/max of a site."""
    site = tag_clause("site", [site_id])
    replies = await execute(
        client,
        "devices_site_metrics",
        (
            "FT.AGGREGATE",
            DEVICE_INDEX,
            site,
            "GROUPBY",
            "2",
            "@type",
            "@state",
            "REDUCE",
            "COUNT",
            "0",
            "AS",
            "n",
            "REDUCE",
            "MAX",
            "1",
            "@seen",
            "AS",
            "last_seen",
            "LIMIT",
            "0",
            str(MAX_GROUP_ROWS),
            *_timeout(timeout_ms),
            *DIALECT,
        ),
        (
            "FT.SEARCH",
            DEVICE_INDEX,
            join_clauses([site, seen_since(since)]),
            "LIMIT",
            "0",
            "0",
            *_timeout(timeout_ms),
            *DIALECT,
        ),
        *(_type_metrics_command(site_id, t, timeout_ms) for t in DEVICE_TYPES),
    )
    groups_reply, active_reply, *type_replies = replies
    by_type: dict[str, TypeStats] = {}
    total = 0
    for row in aggregate_rows(groups_reply):
        stats = by_type.setdefault(str(row.get("type") or "unknown"), TypeStats())
        count = int(row["n"])
        total += count
        stats.devices += count
        state = str(row.get("state") or "unknown")
        stats.by_state[state] = stats.by_state.get(state, 0) + count
        seen = to_float(row.get("last_seen"))
        if seen is not None and (stats.last_seen is None or seen > stats.last_seen):
            stats.last_seen = seen
    for device_type, reply in zip(DEVICE_TYPES, type_replies, strict=True):
        known = by_type.get(device_type.value)
        rows = aggregate_rows(reply)
        if known is None or not rows:
            continue
        row = rows[0]
        known.metrics = {
            name: (
                to_float(row.get(f"AVG_{name}")),
                to_float(row.get(f"MIN_{name}")),
                to_float(row.get(f"MAX_{name}")),
            )
            for name in METRICS[device_type]
        }
    return SiteStats(total=total, active=search_total(active_reply), by_type=by_type)


SITE_CACHE_LOOKUPS = Counter(
    "tier0_api_site_metrics_cache_total",
    "Per-site metric answers: computed (miss), reused (hit), or joined in flight (shared)",
    ["result"],
)


@dataclass(frozen=True, slots=True)
class CachedSiteStats:
    stats: SiteStats
    #: Wall-clock time the statistics were read from Redis (epoch seconds).
    computed_at: float
    #: Seconds between that read and this answer; 0 when computed for this request.
    age_seconds: float


class SiteStatsCache:
    """Recent per-site statistics, reused while younger than the caller's ``max_age``.

    Written here rather than taken from a library: the value is produced by a coroutine,
    and concurrent requests for the same site must share one computation (single
    flight), which the TTL caches on PyPI (cachetools and friends) do not do for async
    callers. Failures are never cached; the number of sites kept is bounded, so random
    site ids cannot grow it.
    """

    def __init__(self, capacity: int = 256, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = capacity
        self._clock = clock
        self._entries: dict[str, tuple[float, float, SiteStats]] = {}
        self._inflight: dict[str, asyncio.Future[tuple[float, float, SiteStats]]] = {}

    async def get(
        self, key: str, max_age: float, compute: Callable[[], Awaitable[SiteStats]]
    ) -> CachedSiteStats:
        """The statistics of ``key`` at most ``max_age`` seconds old (0: read them now)."""
        now = self._clock()
        entry = self._entries.get(key)
        if max_age > 0 and entry is not None and now - entry[0] <= max_age:
            SITE_CACHE_LOOKUPS.labels("hit").inc()
            return CachedSiteStats(entry[2], entry[1], round(now - entry[0], 3))
        pending = self._inflight.get(key) if max_age > 0 else None
        if pending is not None:
            await asyncio.wait({pending})
            if not pending.cancelled():
                started, computed_at, stats = pending.result()
                SITE_CACHE_LOOKUPS.labels("shared").inc()
                return CachedSiteStats(stats, computed_at, round(self._clock() - started, 3))
        return await self._compute(key, compute)

    async def _compute(
        self, key: str, compute: Callable[[], Awaitable[SiteStats]]
    ) -> CachedSiteStats:
        SITE_CACHE_LOOKUPS.labels("miss").inc()
        future: asyncio.Future[tuple[float, float, SiteStats]] = (
            asyncio.get_running_loop().create_future()
        )
        self._inflight[key] = future
        try:
            started, computed_at = self._clock(), time.time()
            stats = await compute()
        except Exception as exc:
            future.set_exception(exc)
            # Waiters re-raise it; mark it retrieved so asyncio does not log it as lost
            # when nobody was waiting.
            future.exception()
            raise
        except BaseException:
            future.cancel()  # this request was cancelled; waiters compute for themselves
            raise
        else:
            future.set_result((started, computed_at, stats))
            self._store(key, (started, computed_at, stats))
        finally:
            if self._inflight.get(key) is future:
                del self._inflight[key]
        return CachedSiteStats(stats, computed_at, 0.0)

    def _store(self, key: str, entry: tuple[float, float, SiteStats]) -> None:
        self._entries.pop(key, None)
        self._entries[key] = entry
        while len(self._entries) > self._capacity:
            del self._entries[next(iter(self._entries))]

    def __len__(self) -> int:
        return len(self._entries)


async def known_sites(client: aioredis.Redis, timeout_ms: int) -> list[str]:
    """Sites of the catalogue plus any other site that has devices in this region."""
    (reply,) = await execute(
        client,
        "devices_sites",
        (
            "FT.AGGREGATE",
            DEVICE_INDEX,
            "*",
            "GROUPBY",
            "1",
            "@site",
            "LIMIT",
            "0",
            str(MAX_GROUP_ROWS),
            *_timeout(timeout_ms),
            *DIALECT,
        ),
    )
    seen = {str(row["site"]) for row in aggregate_rows(reply) if row.get("site")}
    return [*SITE_IDS, *sorted(seen - set(SITE_IDS))]


@dataclass
class DeviceRecord:
    fields: dict[str, str]

    @property
    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, value in self.fields.items():
            number = to_float(value)
            if key.startswith("m_") and number is not None:
                out[key[2:]] = number
        return out

    @property
    def tags(self) -> dict[str, str]:
        try:
            parsed = json.loads(self.fields.get("tags") or "{}")
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}


async def device(client: aioredis.Redis, device_id: str) -> DeviceRecord | None:
    (reply,) = await execute(client, "device_get", ("HGETALL", device_key(device_id)))
    fields = pairs(reply)
    return DeviceRecord(fields) if fields else None


async def count_active(client: aioredis.Redis, since: float, timeout_ms: int) -> int:
    """Devices seen since ``since``: a count from the index, no documents returned."""
    (reply,) = await execute(
        client,
        "devices_count_active",
        (
            "FT.SEARCH",
            DEVICE_INDEX,
            seen_since(since),
            "LIMIT",
            "0",
            "0",
            *_timeout(timeout_ms),
            *DIALECT,
        ),
    )
    return search_total(reply)
