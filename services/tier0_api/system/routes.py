"""System endpoints: root info, health probes, /api/status and the app version.

/health answers Kubernetes probes and the operator's "is the target ready" check:
healthy means Redis answers PING and the device index exists, and the process is not
draining (after SIGTERM it answers 503 while it still serves, see shutdown.py). /api/status adds the
data view (active devices and users, ingest freshness) the operator's freshness gate
and the dashboard read; stale data makes it "degraded" but never fails the probe, so
a region whose brokers hiccup is not restarted for it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated

import redis
from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from tier0_api.deps import DrainDep, RedisDep, RuntimeDep, SettingsDep
from tier0_api.devices import queries as devices
from tier0_api.system import queries as system
from tier0_api.system.schemas import (
    AppVersion,
    HealthResponse,
    IngestSource,
    Links,
    LiveResponse,
    RootInfo,
    StatusResponse,
)
from tier0_api.users import queries as users

router = APIRouter(tags=["system"])

RegionName = Annotated[str, Path(pattern=r"^region[0-9]+$", examples=["region1"])]


@router.get("/")
async def root(settings: SettingsDep) -> RootInfo:
    return RootInfo(
        name="tier0 region API",
        description="Tier-0 reliability platform: devices, users, status and health of one region",
        region=settings.region,
        version=settings.app_version,
        links=Links(),
    )


async def _health(
    client: redis.asyncio.Redis, settings: SettingsDep, drain: DrainDep
) -> JSONResponse:
    index = "unknown"
    try:
        await system.ping(client)
        redis_state, reason = "ok", None
        try:
            await system.ensure_index(client)
            index = "ok"
        except redis.ResponseError as exc:
            index, reason = "missing", f"device index unavailable: {exc}"
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        redis_state, reason = "error", f"redis {settings.redis_host}:{settings.redis_port}: {exc}"
    if drain.draining:
        reason = "draining: shutting down, not taking new traffic"
    healthy = redis_state == "ok" and index == "ok" and not drain.draining
    body = HealthResponse(
        status="healthy" if healthy else "unhealthy",
        region=settings.region,
        version=settings.app_version,
        redis=redis_state,
        device_index=index,
        reason=reason,
        timestamp=datetime.now(UTC),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if healthy else 503)


_HEALTH_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": HealthResponse},
    503: {
        "model": HealthResponse,
        "description": "Redis or the device index is unavailable, or the process drains",
    },
}


@router.get("/health", response_model=HealthResponse, responses=_HEALTH_RESPONSES)
async def health(client: RedisDep, settings: SettingsDep, drain: DrainDep) -> JSONResponse:
    """200 when Redis answers, idx:dev exists and the process is not draining, else 503."""
    return await _health(client, settings, drain)


@router.get("/health/ready", response_model=HealthResponse, responses=_HEALTH_RESPONSES)
async def ready(client: RedisDep, settings: SettingsDep, drain: DrainDep) -> JSONResponse:
    """Kubernetes readinessProbe: same check as /health."""
    return await _health(client, settings, drain)


@router.get("/health/live")
async def live(settings: SettingsDep, runtime: RuntimeDep) -> LiveResponse:
    """Kubernetes livenessProbe: the process serves requests; never touches Redis."""
    return LiveResponse(
        status="alive",
        region=settings.region,
        version=settings.app_version,
        uptime_seconds=round(time.monotonic() - runtime.started_monotonic, 3),
    )


@router.get("/api/status")
async def status(client: RedisDep, settings: SettingsDep, runtime: RuntimeDep) -> StatusResponse:
    now = time.time()
    since = now - settings.active_window_seconds
    active, sites, last = await asyncio.gather(
        devices.count_active(client, since, settings.query_timeout_ms),
        users.latest_by_site(client),
        system.ingest_last(client),
    )
    reasons: list[str] = []
    sources: dict[str, IngestSource] = {}
    for source in dict.fromkeys([*settings.freshness_sources, *sorted(last)]):
        stamp = last.get(source)
        age = round(max(0.0, now - stamp), 3) if stamp is not None else None
        stale = age is None or age > settings.stale_after_seconds
        sources[source] = IngestSource(
            last_ingest_utc=datetime.fromtimestamp(stamp, UTC) if stamp is not None else None,
            data_age_seconds=age,
            stale=stale,
        )
        if source not in settings.freshness_sources:
            continue
        if age is None:
            reasons.append(f"no {source} data ingested yet")
        elif stale:
            reasons.append(f"{source} data is {age:.0f}s old (> {settings.stale_after_seconds:g}s)")
    primary = sources[settings.freshness_sources[0]]
    return StatusResponse(
        region=settings.region,
        status="degraded" if reasons else "active",
        version=settings.app_version,
        startup_time=runtime.startup_time,
        active_devices=active,
        active_users=sum(site["active_users"] for site in sites),
        timestamp=datetime.fromtimestamp(now, UTC),
        last_ingest_utc=primary.last_ingest_utc,
        data_age_seconds=primary.data_age_seconds,
        ingest=sources,
        stale_after_seconds=settings.stale_after_seconds,
        degraded_reasons=reasons,
    )


@router.get("/fastapi/{region}/getappversion")
async def app_version(region: RegionName, settings: SettingsDep) -> AppVersion:
    """The version of the pods answering. A URL naming another region is not an error:
    after a failover that region's Service routes here, and ``failover`` says so."""
    return AppVersion(
        region=settings.region,
        requested_region=region,
        version=settings.app_version,
        failover=region != settings.region,
        timestamp=datetime.now(UTC),
    )
