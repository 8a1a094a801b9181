"""User-activity endpoints: active users, connections and detailed per-site activity."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from tier0_api.deps import RedisDep, SettingsDep
from tier0_api.users import queries as users
from tier0_api.users.schemas import (
    ActiveConnections,
    ActiveUsers,
    ActivityReport,
    SiteUsers,
    UserActivity,
)
from tier0_common.keys import USERS_ACTIVITY_MAXLEN

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("/active")
async def active_users(client: RedisDep, settings: SettingsDep) -> ActiveUsers:
    """Active users over all web sites (each site's latest report) and per site."""
    sites = await users.latest_by_site(client)
    by_site = {site["site_id"]: site["active_users"] for site in sites}
    return ActiveUsers(
        region=settings.region,
        active_users=sum(by_site.values()),
        by_site=by_site,
        sites_reporting=len(sites),
        timestamp=datetime.now(UTC),
    )


@router.get("/connections")
async def active_connections(client: RedisDep, settings: SettingsDep) -> ActiveConnections:
    """Active connections over all web sites and per site."""
    sites = await users.latest_by_site(client)
    by_site = {site["site_id"]: site["active_connections"] for site in sites}
    return ActiveConnections(
        region=settings.region,
        active_connections=sum(by_site.values()),
        by_site=by_site,
        sites_reporting=len(sites),
        timestamp=datetime.now(UTC),
    )


@router.get("/activity")
async def activity(
    client: RedisDep,
    settings: SettingsDep,
    limit: Annotated[
        int, Query(ge=0, le=USERS_ACTIVITY_MAXLEN, description="Recent reports to include")
    ] = 20,
) -> UserActivity:
    """Each site's latest report (with server metrics) and the newest stream reports."""
    sites, recent = await asyncio.gather(
        users.latest_by_site(client),
        users.recent_reports(client, limit) if limit else _no_reports(),
    )
    return UserActivity(
        region=settings.region,
        active_users=sum(site["active_users"] for site in sites),
        active_connections=sum(site["active_connections"] for site in sites),
        sites=[SiteUsers(**site) for site in sites],
        recent=[ActivityReport(**report) for report in recent],
        timestamp=datetime.now(UTC),
    )


async def _no_reports() -> list[dict[str, object]]:
    return []
