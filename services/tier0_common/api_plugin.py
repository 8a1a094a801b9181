"""The seam through which optional components add routes to a region's API.

The region API (tier0_api) and the AI features (tier0_ai) are independent packages
(the import contracts in .importlinter keep them so): the API never imports AI code
and the AI code never reaches into the API's ``app.state``. Instead a component is
a plugin - a module with a ``routers(services)`` function - and the API hands it
what the region offers (:class:`RegionServices`) and mounts the routers it returns.
Which plugin modules a region loads is the API's choice (tier0_api.__main__).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import redis.asyncio as aioredis
from fastapi import APIRouter, Request


@dataclass(frozen=True)
class RegionServices:
    """What a region's API lends its plugins."""

    #: FastAPI dependency returning the region's Redis client (RESP2, decoded strings).
    redis: Callable[[Request], aioredis.Redis]


@runtime_checkable
class ApiPlugin(Protocol):
    """A module (or object) whose routers a region API mounts."""

    def routers(self, services: RegionServices) -> Sequence[APIRouter]: ...
