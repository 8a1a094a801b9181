"""Request and response models of /api/failover/* (kept apart from schemas.py, which
describes the Redis-backed endpoints).

The response of simulate and restore keeps the seed's fields (status, source_region,
target_region, failover_latency_seconds, message, timestamp) and adds what the
RegionFailover object says: its name, phase, conditions and gates. Request bodies
forbid unknown fields: a typo in a failover request must not silently turn into a
default region.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RegionName = Annotated[str, Field(pattern=r"^region[0-9]+$", max_length=32, examples=["region2"])]
Reason = Annotated[str, Field(min_length=1, max_length=1024)]

#: What happened to the request; the HTTP status says the same (docs/api.md "Failover").
FailoverOutcome = Literal["success", "dry_run", "noop", "accepted", "timeout", "refused", "failed"]


class SimulateRequest(BaseModel):
    """Fail over from the group's active region (or ``source_region``) to the other one."""

    model_config = ConfigDict(extra="forbid")

    target_region: RegionName | None = Field(
        default=None, description="Default: the group's only other region"
    )
    source_region: RegionName | None = Field(
        default=None,
        description="Default: the group's active region. The operator refuses the request "
        "when the Services do not select it.",
    )
    reason: Reason = "simulated failover (POST /api/failover/simulate)"
    dry_run: bool = Field(default=False, description="Run the gates, change nothing")
    force: bool = Field(default=False, description="Skip the health, freshness and canary gates")


class RestoreRequest(BaseModel):
    """Move traffic back to ``region`` (default: the group's initialRegion)."""

    model_config = ConfigDict(extra="forbid")

    region: RegionName | None = Field(default=None, description="Default: the initialRegion")
    target_region: RegionName | None = Field(
        default=None, description="Same as region (the dashboard sends both); must agree"
    )
    source_region: RegionName | None = Field(
        default=None, description="Default: the group's active region"
    )
    reason: Reason = "restore (POST /api/failover/restore)"
    dry_run: bool = False
    force: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> RestoreRequest:
        if self.region and self.target_region and self.region != self.target_region:
            raise ValueError("region and target_region name different regions; send one")
        return self

    @property
    def wanted_region(self) -> str | None:
        return self.region or self.target_region


class ConditionSummary(BaseModel):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None


class GateSummary(BaseModel):
    name: str
    passed: bool
    message: str | None = None


class FailoverResponse(BaseModel):
    status: FailoverOutcome = Field(
        description="success (Completed), dry_run, noop (already there, nothing created), "
        "accepted (wait_seconds=0), timeout (not finished within wait_seconds), "
        "refused or failed (the operator's verdict)"
    )
    source_region: str
    target_region: str
    failover_latency_seconds: float | None = Field(
        description="Measured by the operator: from the request to the Services' "
        "EndpointSlices holding only target-region endpoints (null until Completed)"
    )
    message: str
    timestamp: datetime
    name: str | None = Field(description="The RegionFailover object (null for noop)")
    namespace: str
    group: str
    phase: str | None = Field(description="The RegionFailover's status.phase, null if unset")
    reason: str | None = None
    dry_run: bool = False
    forced: bool = False
    conditions: list[ConditionSummary] = Field(default_factory=list)
    gates: list[GateSummary] = Field(default_factory=list)
    timestamps: dict[str, str] = Field(
        default_factory=dict, description="The operator's phase timestamps (RFC 3339)"
    )
    api_wait_seconds: float | None = Field(
        default=None,
        description="Seconds this API spent from creating the object to seeing its verdict",
    )


class FailoverRecord(BaseModel):
    """One RegionFailover in the history (manual, API-made or automatic)."""

    name: str
    source_region: str | None
    target_region: str | None
    phase: str | None
    failover_latency_seconds: float | None
    created: datetime | None
    reason: str | None
    message: str | None
    dry_run: bool
    forced: bool
    automatic: bool


class RegionHealth(BaseModel):
    name: str
    state: str | None = Field(description="Healthy, Unhealthy or Unknown (operator's probe)")
    since: str | None = None
    message: str | None = None


class FailoverStatus(BaseModel):
    region: str = Field(description="Region of the API that answered")
    group: str
    namespace: str
    services: list[str]
    active_region: str | None = Field(description="FailoverGroup status.activeRegion")
    initial_region: str
    regions: list[RegionHealth]
    automatic: bool = Field(description="policy.automatic: the operator fails over on its own")
    automation_frozen: bool
    frozen_reason: str | None
    failover_in_progress: str | None = Field(description="RegionFailover holding the group's lock")
    last_transition_time: str | None
    conditions: list[ConditionSummary]
    history: list[FailoverRecord] = Field(description="Newest first, at most `limit`")
    timestamp: datetime
