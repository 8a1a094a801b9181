"""Device endpoints: activity counts, alerts, per-site metrics and one device's state."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request

from tier0_api.deps import RedisDep, SettingsDep
from tier0_api.devices import queries as devices
from tier0_api.devices.schemas import (
    ActiveDevices,
    AlertPage,
    DeviceAlert,
    DeviceDetail,
    Location,
    MetricStats,
    SiteMetrics,
    TypeMetrics,
)
from tier0_api.schemas import NotFound
from tier0_common.catalog import SITE_IDS, SITES_BY_ID, DeviceType
from tier0_common.redis_search import to_float

router = APIRouter(prefix="/api/devices", tags=["devices"])

_IDENTIFIER = r"^[A-Za-z0-9_.:-]+$"
SiteId = Annotated[str, Path(min_length=1, max_length=64, pattern=_IDENTIFIER)]
DeviceId = Annotated[str, Path(min_length=1, max_length=64, pattern=_IDENTIFIER)]
#: Deepest page start accepted; RediSearch refuses offsets past its MAXSEARCHRESULTS.
MAX_OFFSET = 100_000
#: Default age (seconds) a per-site metrics answer may have. A dashboard polling every
#: few seconds, or many viewers of one site, then costs one Redis read per site per
#: second; ``max_age_seconds=0`` always reads Redis.
SITE_METRICS_MAX_AGE = 1.0


class AlertState(StrEnum):
    WARN = "WARN"
    ALERT = "ALERT"


def _utc(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


@router.get("/active")
async def active_devices(client: RedisDep, settings: SettingsDep) -> ActiveDevices:
    """Devices seen within ACTIVE_WINDOW_SECONDS, by type, site and state, and all known."""
    now = time.time()
    counts = await devices.activity_counts(
        client, now - settings.active_window_seconds, settings.query_timeout_ms
    )
    return ActiveDevices(
        region=settings.region,
        window_seconds=settings.active_window_seconds,
        active_devices=counts.active,
        total_devices=counts.total,
        by_type=counts.by_type,
        by_site=counts.by_site,
        by_state=counts.by_state,
        timestamp=datetime.fromtimestamp(now, UTC),
    )


@router.get("/alerts")
async def device_alerts(
    client: RedisDep,
    settings: SettingsDep,
    limit: Annotated[
        int, Query(ge=1, le=10_000, description="Page size (<= ALERTS_MAX_LIMIT)")
    ] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    site_id: Annotated[str | None, Query(min_length=1, max_length=64, pattern=_IDENTIFIER)] = None,
    device_type: DeviceType | None = None,
    state: AlertState | None = None,
) -> AlertPage:
    """Devices in WARN or ALERT, most recently seen first, with the total over all pages."""
    if limit > settings.alerts_max_limit:
        raise HTTPException(
            status_code=422,
            detail=[
                {
                    "type": "less_than_equal",
                    "loc": ["query", "limit"],
                    "msg": f"Input should be less than or equal to {settings.alerts_max_limit}",
                    "input": limit,
                }
            ],
        )
    states = (state.value,) if state else devices.ALERT_STATES
    total, rows = await devices.alerts(
        client,
        states=states,
        site_id=site_id,
        device_type=device_type.value if device_type else None,
        limit=limit,
        offset=offset,
        timeout_ms=settings.query_timeout_ms,
    )
    return AlertPage(
        region=settings.region,
        total=total,
        limit=limit,
        offset=offset,
        filters={
            "site_id": site_id,
            "device_type": device_type.value if device_type else None,
            "state": state.value if state else None,
        },
        items=[
            DeviceAlert(
                device_id=row.device_id,
                type=row.type,
                site=row.site,
                state=row.state,
                code=row.code,
                message=row.message,
                timestamp=_utc(row.ts),
                seen=_utc(row.seen),
            )
            for row in rows
        ],
        timestamp=datetime.now(UTC),
    )


def _site_cache(request: Request) -> devices.SiteStatsCache:
    """This app's cache (one per app, so tests and regions never share answers)."""
    cache: devices.SiteStatsCache | None = getattr(request.app.state, "site_stats_cache", None)
    if cache is None:
        cache = request.app.state.site_stats_cache = devices.SiteStatsCache()
    return cache


@router.get("/metrics/site/{site_id}", responses={404: {"model": NotFound}})
async def site_metrics(
    site_id: SiteId,
    request: Request,
    client: RedisDep,
    settings: SettingsDep,
    max_age_seconds: Annotated[
        float,
        Query(
            ge=0,
            le=60,
            description="Oldest answer acceptable, in seconds; 0 reads Redis for this request",
        ),
    ] = SITE_METRICS_MAX_AGE,
) -> SiteMetrics:
    """Per-site device counts by type and state, and per type each metric's avg/min/max."""

    async def compute() -> devices.SiteStats:
        since = time.time() - settings.active_window_seconds
        return await devices.site_stats(client, site_id, since, settings.query_timeout_ms)

    cached = await _site_cache(request).get(site_id, max_age_seconds, compute)
    stats = cached.stats
    if stats.total == 0 and site_id not in SITE_IDS:
        known = await devices.known_sites(client, settings.query_timeout_ms)
        raise HTTPException(
            status_code=404,
            detail=f"unknown site {site_id!r}; known site ids: {', '.join(known)}",
        )
    by_state: dict[str, int] = {}
    by_type: dict[str, TypeMetrics] = {}
    for type_name, type_stats in stats.by_type.items():
        for state, count in type_stats.by_state.items():
            by_state[state] = by_state.get(state, 0) + count
        by_type[type_name] = TypeMetrics(
            devices=type_stats.devices,
            by_state=type_stats.by_state,
            last_seen=_utc(type_stats.last_seen),
            metrics={
                name: MetricStats(avg=avg, min=low, max=high)
                for name, (avg, low, high) in type_stats.metrics.items()
            },
        )
    seen = [s.last_seen for s in stats.by_type.values() if s.last_seen is not None]
    site = SITES_BY_ID.get(site_id)
    return SiteMetrics(
        region=settings.region,
        site_id=site_id,
        site_name=site.name if site else None,
        total_devices=stats.total,
        active_devices=stats.active,
        window_seconds=settings.active_window_seconds,
        by_state=by_state,
        by_type=by_type,
        last_seen=_utc(max(seen)) if seen else None,
        timestamp=datetime.fromtimestamp(cached.computed_at, UTC),
        age_seconds=cached.age_seconds,
        max_age_seconds=max_age_seconds,
    )


@router.get("/{device_id}", responses={404: {"model": NotFound}})
async def device(device_id: DeviceId, client: RedisDep, settings: SettingsDep) -> DeviceDetail:
    """Latest stored state of one device."""
    record = await devices.device(client, device_id)
    if record is None:
        raise HTTPException(
            status_code=404, detail=f"device {device_id!r} is unknown to {settings.region}"
        )
    fields = record.fields
    seen = to_float(fields.get("seen"))
    age = round(max(0.0, time.time() - seen), 3) if seen is not None else None
    return DeviceDetail(
        device_id=fields.get("id") or device_id,
        type=fields.get("type", ""),
        site=fields.get("site", ""),
        state=fields.get("state", ""),
        code=fields.get("code", ""),
        message=fields.get("msg", ""),
        firmware=fields.get("fw"),
        timestamp=_utc(to_float(fields.get("ts"))),
        seen=_utc(seen),
        active=age is not None and age <= settings.active_window_seconds,
        age_seconds=age,
        location=Location(lat=to_float(fields.get("lat")), lon=to_float(fields.get("lon"))),
        metrics=record.metrics,
        tags=record.tags,
    )
