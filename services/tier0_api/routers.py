"""One APIRouter per resource; app.py includes them all (plus any extra routers)."""

from __future__ import annotations

from fastapi import APIRouter

from tier0_api.devices import routes as devices
from tier0_api.failover import routes as failover
from tier0_api.system import canary
from tier0_api.system import routes as core
from tier0_api.users import routes as users


def builtin_routers() -> list[APIRouter]:
    return [core.router, devices.router, users.router, canary.router, failover.router]
