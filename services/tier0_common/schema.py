"""Wire payloads: the seed's telemetry and user-activity messages, as typed models.

These models are the contract between simulators and ingest. The ingest hot path may
use a faster hand-written check, but it must accept and reject exactly what these
models accept and reject (the unit tests hold both to the same cases).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from .catalog import METRICS, DeviceState, DeviceType

#: Largest telemetry payload ingest accepts; the seed's sample is about 400 bytes.
MAX_TELEMETRY_BYTES = 8192
#: Largest user-activity payload ingest accepts (it carries a user list).
MAX_ACTIVITY_BYTES = 1 << 20

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
#: A JSON number: ints are taken (and stored as floats), bools and numeric strings are
#: not. Devices that send ``"12.5"`` or ``true`` have a bug worth a dead letter.
Number = Annotated[float, Field(strict=True)]


class Status(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: DeviceState
    code: Annotated[str, Field(min_length=1, max_length=64)]
    message: Annotated[str, Field(max_length=256)]


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: Annotated[Number, Field(ge=-90, le=90)]
    lon: Annotated[Number, Field(ge=-180, le=180)]


class Telemetry(BaseModel):
    """One device reading, as published on ``og/field/{site}/{type}/{device}``."""

    model_config = ConfigDict(extra="forbid")

    device_id: Identifier
    device_type: DeviceType
    site_id: Identifier
    #: Must carry its zone (``Z`` or an offset): a naive time is ambiguous.
    timestamp_utc: AwareDatetime
    firmware: Annotated[str, Field(min_length=1, max_length=32)]
    metrics: dict[str, Number]
    status: Status
    location: Location
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("metrics")
    @classmethod
    def _finite(cls, metrics: dict[str, float]) -> dict[str, float]:
        for name, value in metrics.items():
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"metric {name} is not a finite number")
        return metrics

    @model_validator(mode="after")
    def _metrics_match_type(self) -> Telemetry:
        expected = set(METRICS[self.device_type])
        got = set(self.metrics)
        if got != expected:
            missing = sorted(expected - got)
            extra = sorted(got - expected)
            raise ValueError(
                f"metrics for {self.device_type.value} must be exactly {sorted(expected)}"
                f" (missing {missing}, unexpected {extra})"
            )
        return self


class ActivityMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active_users: Annotated[int, Field(ge=0)]
    active_connections: Annotated[int, Field(ge=0)]
    server_cpu_pct: Annotated[float, Field(ge=0, le=100)]
    server_memory_gb: Annotated[float, Field(ge=0)]
    average_latency_ms: Annotated[float, Field(ge=0)]


class ActiveUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Identifier
    session_start_utc: datetime
    page: Annotated[str, Field(max_length=256)]


class UserActivity(BaseModel):
    """One web site's user-activity report, published to RabbitMQ every 5 s."""

    model_config = ConfigDict(extra="forbid")

    message_id: Identifier
    timestamp_utc: datetime
    site_id: Identifier
    metrics: ActivityMetrics
    active_users_list: list[ActiveUser] = Field(default_factory=list)


class Canary(BaseModel):
    """A probe message the operator sends through the broker to test a region end to end."""

    model_config = ConfigDict(extra="forbid")

    canary_id: Identifier
    sent_at: float
