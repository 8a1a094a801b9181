"""The canary receipt: the operator's end-to-end gate asks whether its probe arrived."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from tier0_api.deps import RedisDep, SettingsDep
from tier0_api.schemas import NotFound
from tier0_api.system import queries as system
from tier0_api.system.schemas import CanaryReceipt

router = APIRouter(prefix="/api/canary", tags=["canary"])

CanaryId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


@router.get("/{canary_id}", responses={404: {"model": NotFound}})
async def get_canary(canary_id: CanaryId, client: RedisDep, settings: SettingsDep) -> CanaryReceipt:
    ingested_at = await system.canary(client, canary_id)
    if ingested_at is None:
        raise HTTPException(
            status_code=404,
            detail=f"canary {canary_id!r} has not been ingested by {settings.region} "
            "(or it expired)",
        )
    return CanaryReceipt(
        canary_id=canary_id,
        region=settings.region,
        ingested_at=ingested_at,
        ingested_at_utc=datetime.fromtimestamp(ingested_at, UTC),
    )
