"""Annotated dependency aliases: routes declare what they need, app.py decides how.

The Redis client and settings live on ``app.state`` (created in the lifespan), so a
test can build an app with its own Settings and get a client pointed at its own Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Request

from tier0_api.settings import Settings
from tier0_api.shutdown import Drain


@dataclass(frozen=True)
class Runtime:
    """Facts about this process that endpoints report (startup time for /api/status)."""

    startup_time: datetime
    started_monotonic: float


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_redis(request: Request) -> aioredis.Redis:
    client: aioredis.Redis = request.app.state.redis
    return client


def get_drain(request: Request) -> Drain:
    drain: Drain = request.app.state.drain
    return drain


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


SettingsDep = Annotated[Settings, Depends(get_settings)]
RedisDep = Annotated[aioredis.Redis, Depends(get_redis)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
DrainDep = Annotated[Drain, Depends(get_drain)]
