"""One APIRouter per resource; app.py includes them all (plus any extra routers)."""

from __future__ import annotations

from fastapi import APIRouter

from . import canary, core, devices, failover, users


def builtin_routers() -> list[APIRouter]:
    return [core.router, devices.router, users.router, canary.router, failover.router]
