"""Response models of the device endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tier0_common.catalog import DeviceState


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
