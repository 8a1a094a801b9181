"""The RegionFailover and FailoverGroup specs as typed models, shared by operator and API.

The schema is the CRDs' (charts/tier0/crds, OpenAPI + CEL, which the API server
enforces); these models are its one Python twin, and tests/unit/common/
test_failover_models.py fails when the two disagree on a field, a default or a
pattern. The operator parses what it acts on with them (a spec that slips through -
an older CRD installed, a hand-edited object - fails with the field path, e.g.
`spec.policy.failureThreshold: ...`); the region API reads FailoverGroups and builds
RegionFailovers with them (:func:`failover_manifest`), so neither writes the schema
again as raw dict keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from tier0_common.failover_crd import (
    API_VERSION,
    DEFAULT_REGION_LABEL,
    GROUP_LABEL,
    RF_KIND,
)

REGION_PATTERN = r"^region[0-9]+$"
#: A DNS subdomain: the name of an object (a FailoverGroup).
OBJECT_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


class SpecError(ValueError):
    """A spec the operator cannot act on; the message names the field path."""


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore"
    )


class RegionSpec(_Model):
    name: str = Field(pattern=REGION_PATTERN)
    deployment: str | None = None
    health_url: str | None = Field(default=None, alias="healthURL")
    api_url: str | None = Field(default=None, alias="apiURL")


class CanarySpec(_Model):
    enabled: bool = False
    mqtt_host: str | None = None
    mqtt_port: int = Field(default=1883, ge=1, le=65535)
    timeout_seconds: float = Field(default=5.0, gt=0)


class GatesSpec(_Model):
    freshness_budget_seconds: float | None = Field(default=None, ge=0)
    canary: CanarySpec = CanarySpec()


class AutoFailbackSpec(_Model):
    enabled: bool = False
    delay_seconds: float = Field(default=600.0, ge=0)


class PolicySpec(_Model):
    automatic: bool = False
    probe_interval_seconds: float = Field(default=5.0, gt=0)
    failure_threshold: int = Field(default=3, ge=1)
    success_threshold: int = Field(default=2, ge=1)
    stabilization_window_seconds: float = Field(default=30.0, ge=0)
    min_dwell_seconds: float = Field(default=300.0, ge=0)
    max_transitions_per_hour: int = Field(default=4, ge=1)
    auto_failback: AutoFailbackSpec = AutoFailbackSpec()


class GroupSpec(_Model):
    """A failover group: from a FailoverGroup object, or built from an inline request."""

    name: str
    services: tuple[str, ...] = Field(min_length=1)
    region_label: str = DEFAULT_REGION_LABEL
    initial_region: str = Field(pattern=REGION_PATTERN)
    regions: tuple[RegionSpec, ...] = Field(min_length=2)
    policy: PolicySpec = PolicySpec()
    gates: GatesSpec = GatesSpec()

    @model_validator(mode="after")
    def _regions_consistent(self) -> GroupSpec:
        names = [r.name for r in self.regions]
        if len(set(names)) != len(names):
            raise ValueError(f"regions: names must be unique, got {names}")
        if self.initial_region not in names:
            raise ValueError(f"initialRegion {self.initial_region!r} is not one of {names}")
        return self

    def region(self, name: str) -> RegionSpec | None:
        return next((r for r in self.regions if r.name == name), None)

    def other_regions(self, name: str) -> tuple[RegionSpec, ...]:
        return tuple(r for r in self.regions if r.name != name)


class FailoverSpec(_Model):
    group: str | None = Field(
        default=None, min_length=1, max_length=253, pattern=OBJECT_NAME_PATTERN
    )
    services: tuple[str, ...] | None = None
    region_label: str | None = None
    source_region: str = Field(pattern=REGION_PATTERN)
    target_region: str = Field(pattern=REGION_PATTERN)
    reason: str = Field(min_length=1)
    dry_run: bool = False
    force: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> FailoverSpec:
        if self.source_region == self.target_region:
            raise ValueError("targetRegion must differ from sourceRegion")
        if (self.group is None) == (self.services is None):
            raise ValueError("set exactly one of group or services")
        return self

    def inline_group(self) -> GroupSpec:
        """The ad-hoc group of an inline request: its Services and the two regions only."""
        if self.services is None:
            raise SpecError("spec.services: not an inline request")
        return GroupSpec(
            name="",
            services=self.services,
            region_label=self.region_label or DEFAULT_REGION_LABEL,
            initial_region=self.source_region,
            regions=(RegionSpec(name=self.source_region), RegionSpec(name=self.target_region)),
        )


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _spec_error(exc: ValidationError, prefix: str) -> SpecError:
    problems = [f"{_path((prefix, *e['loc']))}: {e['msg']}" for e in exc.errors()]
    return SpecError("; ".join(problems))


def parse_failover_spec(spec: Mapping[str, Any]) -> FailoverSpec:
    try:
        return FailoverSpec.model_validate(dict(spec))
    except ValidationError as exc:
        raise _spec_error(exc, "spec") from exc


def parse_group_spec(name: str, spec: Mapping[str, Any]) -> GroupSpec:
    try:
        return GroupSpec.model_validate({**spec, "name": name})
    except ValidationError as exc:
        raise _spec_error(exc, "spec") from exc


#: Label values are at most 63 characters; longer group names go unlabelled.
MAX_LABEL_VALUE = 63
#: generateName plus the 5 random characters must stay a valid object name.
MAX_GENERATE_NAME = 200


def failover_manifest(
    spec: FailoverSpec,
    *,
    generate_name: str,
    annotations: Mapping[str, str],
    namespace: str | None = None,
) -> dict[str, Any]:
    """A RegionFailover with a generated name (every request is a new history entry),
    labelled with its group when the name fits in a label value."""
    metadata: dict[str, Any] = {
        "generateName": generate_name[:MAX_GENERATE_NAME],
        "annotations": dict(annotations),
    }
    if namespace is not None:
        metadata["namespace"] = namespace
    if spec.group is not None and len(spec.group) <= MAX_LABEL_VALUE:
        metadata["labels"] = {GROUP_LABEL: spec.group}
    return {
        "apiVersion": API_VERSION,
        "kind": RF_KIND,
        "metadata": metadata,
        "spec": spec.model_dump(by_alias=True, exclude_none=True),
    }
