"""Response models of the user-activity endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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
