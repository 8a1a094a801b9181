"""Models every part of the API shares: the error bodies.

Each domain (system, devices, users, failover) keeps its own response models in
its ``schemas`` module, so /docs (OpenAPI) is the true contract; times are
ISO-8601 UTC unless a field name says ``_epoch`` or ``_seconds``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """Body of 503 answers (Redis unreachable, index missing)."""

    error: str = Field(examples=["redis_unavailable"])
    detail: str
    region: str


class NotFound(BaseModel):
    """Body of 404 answers (FastAPI's standard shape)."""

    detail: str
