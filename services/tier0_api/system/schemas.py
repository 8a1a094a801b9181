"""Response models of the system endpoints (root, probes, status, canary)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


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


class CanaryReceipt(BaseModel):
    canary_id: str
    region: str
    ingested_at: float = Field(description="Epoch seconds the region's ingest stored it")
    ingested_at_utc: datetime
