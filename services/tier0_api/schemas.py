"""Response models of every endpoint, so /docs (OpenAPI) is the true contract.

Field names follow the seed's sample responses where the seed shows one (/api/status),
and the Redis layout's short names (``type``, ``site``) for device items. Times are
ISO-8601 UTC unless a field name says ``_epoch`` or ``_seconds``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tier0_common.catalog import DeviceState


class ErrorResponse(BaseModel):
    """Body of 503 answers (Redis unreachable, index missing)."""

    error: str = Field(examples=["redis_unavailable"])
    detail: str
    region: str


class NotFound(BaseModel):
    """Body of 404 answers (FastAPI's standard shape)."""

    detail: str


class Links(BaseModel):
    docs: str = "/docs"
    openapi: str = "/openapi.json"
    health: str = "/health"
    status: str = "/api/status"
    metrics: str = "/metrics"


class RootInfo(BaseModel):
    name: str
    description: str
    region: str
    version: str
    links: Links


class HealthResponse(BaseModel):
    status: Literal["healthy", "unhealthy"]
    region: str
    version: str
    redis: Literal["ok", "error"]
    device_index: Literal["ok", "missing", "unknown"]
    reason: str | None = None
    timestamp: datetime


class LiveResponse(BaseModel):
    status: Literal["alive"]
    region: str
    version: str
    uptime_seconds: float


class IngestSource(BaseModel):
    last_ingest_utc: datetime | None
    data_age_seconds: float | None
    stale: bool


class StatusResponse(BaseModel):
    region: str
    status: Literal["active", "degraded"]
    version: str
    startup_time: datetime
    active_devices: int
    active_users: int
    timestamp: datetime
    last_ingest_utc: datetime | None = Field(
        description="Last telemetry write (ingest:last, first of FRESHNESS_SOURCES, 'mqtt'); "
        "null if never. The operator's freshness gate compares it across regions."
    )
    data_age_seconds: float | None = Field(
        description="Seconds since last_ingest_utc; null if never"
    )
    ingest: dict[str, IngestSource] = Field(description="Freshness of every ingest source")
    stale_after_seconds: float
    degraded_reasons: list[str] = Field(default_factory=list)


class AppVersion(BaseModel):
    region: str = Field(description="Region whose pods answered (this process)")
    requested_region: str = Field(description="Region named in the URL")
    version: str
    failover: bool = Field(
        description="True when the URL names another region: its traffic is being served "
        "by this region (a RegionFailover repointed the Service)"
    )
    timestamp: datetime


class ActiveDevices(BaseModel):
    region: str
    window_seconds: float
    active_devices: int = Field(description="Devices whose last ingest is within the window")
    total_devices: int = Field(description="Devices known to this region (dev:* hashes)")
    by_type: dict[str, int]
    by_site: dict[str, int]
    by_state: dict[str, int]
    timestamp: datetime


class DeviceAlert(BaseModel):
    device_id: str
    type: str
    site: str
    state: DeviceState
    code: str
    message: str
    timestamp: datetime | None = Field(description="Device's own reading time")
    seen: datetime | None = Field(description="When this region ingested the reading")


class AlertPage(BaseModel):
    region: str
    total: int = Field(description="Devices matching the filters, over all pages")
    limit: int
    offset: int
    filters: dict[str, str | None]
    items: list[DeviceAlert]
    timestamp: datetime


class MetricStats(BaseModel):
    avg: float | None
    min: float | None
    max: float | None


class TypeMetrics(BaseModel):
    devices: int
    by_state: dict[str, int]
    last_seen: datetime | None
    metrics: dict[str, MetricStats]


class SiteMetrics(BaseModel):
    region: str
    site_id: str
    site_name: str | None
    total_devices: int
    active_devices: int
    window_seconds: float
    by_state: dict[str, int]
    by_type: dict[str, TypeMetrics]
    last_seen: datetime | None
    timestamp: datetime = Field(description="When these figures were read from Redis")
    age_seconds: float = Field(
        description="Age of the figures when served: 0 when read for this request, more "
        "when a recent answer for the site was reused (at most max_age_seconds)"
    )
    max_age_seconds: float = Field(description="Oldest answer the request accepted")


class Location(BaseModel):
    lat: float | None
    lon: float | None


class DeviceDetail(BaseModel):
    device_id: str
    type: str
    site: str
    state: str
    code: str
    message: str
    firmware: str | None
    timestamp: datetime | None
    seen: datetime | None
    active: bool
    age_seconds: float | None
    location: Location
    metrics: dict[str, float]
    tags: dict[str, str]


class SiteUsers(BaseModel):
    site_id: str
    message_id: str | None
    timestamp_utc: datetime | None
    active_users: int
    active_connections: int
    server_cpu_pct: float | None
    server_memory_gb: float | None
    average_latency_ms: float | None


class ActivityReport(SiteUsers):
    stream_id: str


class ActiveUsers(BaseModel):
    region: str
    active_users: int
    by_site: dict[str, int]
    sites_reporting: int
    timestamp: datetime


class ActiveConnections(BaseModel):
    region: str
    active_connections: int
    by_site: dict[str, int]
    sites_reporting: int
    timestamp: datetime


class UserActivity(BaseModel):
    region: str
    active_users: int
    active_connections: int
    sites: list[SiteUsers]
    recent: list[ActivityReport] = Field(description="Newest first, from users:activity")
    timestamp: datetime


class CanaryReceipt(BaseModel):
    canary_id: str
    region: str
    ingested_at: float = Field(description="Epoch seconds the region's ingest stored it")
    ingested_at_utc: datetime
