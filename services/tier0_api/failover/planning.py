"""Pure decisions of the failover endpoints: which regions, which manifest, which answer.

Kept free of I/O so the rules (default target, restore no-op, status code per phase,
history order) are tested without a cluster. The objects are the API's JSON (dicts),
as the Kubernetes client returns custom objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tier0_api.failover.errors import FailoverError
from tier0_api.failover.schemas import (
    ConditionSummary,
    FailoverOutcome,
    FailoverRecord,
    FailoverResponse,
    FailoverStatus,
    GateSummary,
    RegionHealth,
    RestoreRequest,
    SimulateRequest,
)
from tier0_common.failover_crd import (
    AUTOMATIC_REASON,
    PHASE_COMPLETED,
    PHASE_FAILED,
    PHASE_REFUSED,
    REQUESTED_AT_ANNOTATION,
    REQUESTED_BY_ANNOTATION,
    REQUESTED_VIA_ANNOTATION,
)
from tier0_common.failover_models import (
    MAX_GENERATE_NAME,
    FailoverSpec,
    GroupSpec,
    SpecError,
    parse_group_spec,
)
from tier0_common.failover_models import failover_manifest as build_manifest
from tier0_common.rfc3339 import format_rfc3339, parse_rfc3339

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Plan:
    source: str
    target: str


def _spec(obj: Obj) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _status(obj: Obj) -> Mapping[str, Any]:
    return obj.get("status") or {}


def group_spec(group_name: str, group: Obj) -> GroupSpec:
    """The FailoverGroup's spec, typed; one the CRD would not admit is a 409 naming the field."""
    try:
        return parse_group_spec(group_name, _spec(group))
    except SpecError as exc:
        raise FailoverError(409, "invalid_group", f"FailoverGroup {group_name}: {exc}") from exc


def group_regions(spec: GroupSpec) -> list[str]:
    return [r.name for r in spec.regions]


def active_region(group: Obj, spec: GroupSpec) -> str:
    """status.activeRegion, or the initialRegion before the operator has written one."""
    return str(_status(group).get("activeRegion") or spec.initial_region)


def _check_known(group_name: str, regions: list[str], *names: str | None) -> None:
    for name in names:
        if name is not None and name not in regions:
            raise FailoverError(
                422,
                "unknown_region",
                f"{name} is not a region of FailoverGroup {group_name} "
                f"(regions: {', '.join(regions)})",
            )


def plan_simulate(group_name: str, group: Obj, request: SimulateRequest) -> Plan:
    spec = group_spec(group_name, group)
    regions = group_regions(spec)
    _check_known(group_name, regions, request.source_region, request.target_region)
    active = active_region(group, spec)
    source = request.source_region or active
    target = request.target_region
    if target is None:
        others = [r for r in regions if r != source]
        if len(others) != 1:
            raise FailoverError(
                422,
                "target_region_required",
                f"FailoverGroup {group_name} has {len(regions)} regions; name target_region "
                f"(one of {', '.join(others)})",
            )
        target = others[0]
    if target == source:
        if source == active:
            raise FailoverError(
                409,
                "already_active",
                f"{target} is already the active region of {group_name}; nothing to fail over",
            )
        raise FailoverError(
            422, "same_region", f"source_region and target_region are both {target}"
        )
    return Plan(source=source, target=target)


def plan_restore(group_name: str, group: Obj, request: RestoreRequest) -> Plan:
    """The plan; source == target means there is nothing to restore (a no-op answer)."""
    spec = group_spec(group_name, group)
    _check_known(group_name, group_regions(spec), request.wanted_region, request.source_region)
    target = request.wanted_region or spec.initial_region
    return Plan(source=request.source_region or active_region(group, spec), target=target)


def failover_manifest(
    group_name: str,
    plan: Plan,
    *,
    reason: str,
    dry_run: bool,
    force: bool,
    requested_at: datetime,
    via: str,
    requested_by: str = "",
) -> dict[str, Any]:
    """The RegionFailover an endpoint creates (tier0_common.failover_models builds it)."""
    action = via.rsplit("/", 1)[-1]
    spec = FailoverSpec(
        group=group_name,
        source_region=plan.source,
        target_region=plan.target,
        reason=reason,
        dry_run=dry_run,
        force=force,
    )
    return build_manifest(
        spec,
        generate_name=f"{group_name[: MAX_GENERATE_NAME - len(action) - 2]}-{action}-",
        annotations={
            REQUESTED_AT_ANNOTATION: format_rfc3339(requested_at),
            REQUESTED_VIA_ANNOTATION: via,
            # The caller's Kubernetes user (auth/caller.py); absent for tokenless callers.
            **({REQUESTED_BY_ANNOTATION: requested_by} if requested_by else {}),
        },
    )


def outcome(obj: Obj, *, waited: bool) -> tuple[int, FailoverOutcome]:
    """HTTP status and outcome for a RegionFailover as last seen."""
    phase = _status(obj).get("phase")
    if phase == PHASE_COMPLETED:
        return 200, "dry_run" if _spec(obj).get("dryRun") else "success"
    if phase == PHASE_REFUSED:
        return 409, "refused"
    if phase == PHASE_FAILED:
        return 409, "failed"
    return (504, "timeout") if waited else (202, "accepted")


def _message(obj: Obj, result: FailoverOutcome, namespace: str, wait_seconds: float) -> str:
    spec, status = _spec(obj), _status(obj)
    name = obj["metadata"]["name"]
    route = f"from {spec.get('sourceRegion')} to {spec.get('targetRegion')}"
    said = status.get("message") or ""
    phase = status.get("phase")
    if result == "success":
        return f"Failover completed {route}: {said}"
    if result == "dry_run":
        return f"Dry run of the failover {route}: {said}"
    if result == "refused":
        return f"Failover {route} refused by the operator: {said}"
    if result == "failed":
        return f"Failover {route} failed: {said}"
    follow = f"follow it with GET /api/failover/status or `kubectl -n {namespace} get rfo {name}`"
    if result == "accepted":
        return f"RegionFailover {name} created; the operator carries it out ({follow})"
    if phase is None:
        return (
            f"RegionFailover {name} was not picked up within {wait_seconds:g}s: is the tier0 "
            f"operator running and watching namespace {namespace}? The object stays; {follow}"
        )
    return (
        f"RegionFailover {name} did not finish within {wait_seconds:g}s (phase {phase}: "
        f"{said}); it continues, {follow}"
    )


def conditions(obj: Obj) -> list[ConditionSummary]:
    return [
        ConditionSummary(
            type=str(c.get("type")),
            status=str(c.get("status")),
            reason=c.get("reason"),
            message=c.get("message"),
        )
        for c in _status(obj).get("conditions") or ()
    ]


def _latency(status: Mapping[str, Any]) -> float | None:
    value = status.get("latencySeconds")
    return float(value) if value is not None else None


def failover_response(
    obj: Obj,
    *,
    namespace: str,
    waited: bool,
    wait_seconds: float,
    api_wait_seconds: float | None,
    now: datetime,
) -> tuple[int, FailoverResponse]:
    spec, status = _spec(obj), _status(obj)
    code, result = outcome(obj, waited=waited)
    return code, FailoverResponse(
        status=result,
        source_region=str(spec.get("sourceRegion")),
        target_region=str(spec.get("targetRegion")),
        failover_latency_seconds=_latency(status),
        message=_message(obj, result, namespace, wait_seconds),
        timestamp=now,
        name=str(obj["metadata"]["name"]),
        namespace=namespace,
        group=str(spec.get("group") or ""),
        phase=status.get("phase"),
        reason=spec.get("reason"),
        dry_run=bool(spec.get("dryRun")),
        forced=bool(status.get("forced", spec.get("force"))),
        conditions=conditions(obj),
        gates=[
            GateSummary(
                name=str(g.get("name")), passed=bool(g.get("passed")), message=g.get("message")
            )
            for g in status.get("gates") or ()
        ],
        timestamps={str(k): str(v) for k, v in (status.get("timestamps") or {}).items()},
        api_wait_seconds=round(api_wait_seconds, 4) if api_wait_seconds is not None else None,
    )


def noop_response(
    group_name: str, plan: Plan, *, namespace: str, now: datetime
) -> FailoverResponse:
    return FailoverResponse(
        status="noop",
        source_region=plan.source,
        target_region=plan.target,
        failover_latency_seconds=None,
        message=f"{plan.target} is already the active region of {group_name}; nothing to restore",
        timestamp=now,
        name=None,
        namespace=namespace,
        group=group_name,
        phase=None,
    )


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None


def _requested(obj: Obj) -> datetime:
    """When it was asked for: the annotation (microseconds) else creationTimestamp."""
    meta = obj.get("metadata") or {}
    return (
        _parse_time((meta.get("annotations") or {}).get(REQUESTED_AT_ANNOTATION))
        or _parse_time((_status(obj).get("timestamps") or {}).get("requestedAt"))
        or _parse_time(meta.get("creationTimestamp"))
        or datetime.min.replace(tzinfo=UTC)
    )


def record(obj: Obj) -> FailoverRecord:
    spec, status, meta = _spec(obj), _status(obj), obj.get("metadata") or {}
    return FailoverRecord(
        name=str(meta.get("name")),
        source_region=spec.get("sourceRegion"),
        target_region=spec.get("targetRegion"),
        phase=status.get("phase"),
        failover_latency_seconds=_latency(status),
        created=_parse_time(meta.get("creationTimestamp")),
        reason=spec.get("reason"),
        message=status.get("message"),
        dry_run=bool(spec.get("dryRun")),
        forced=bool(status.get("forced", spec.get("force"))),
        automatic=spec.get("reason") == AUTOMATIC_REASON,
    )


def history(objs: Iterable[Obj], group_name: str, limit: int) -> list[FailoverRecord]:
    """The group's RegionFailovers, newest request first (manual, API-made, automatic)."""
    mine = [o for o in objs if _spec(o).get("group") == group_name]
    mine.sort(key=_requested, reverse=True)
    return [record(o) for o in mine[:limit]]


def group_status(
    group_name: str,
    group: Obj,
    records: list[FailoverRecord],
    *,
    region: str,
    namespace: str,
    now: datetime,
) -> FailoverStatus:
    spec, status = group_spec(group_name, group), _status(group)
    health = {str(r.get("name")): r for r in status.get("regions") or ()}
    return FailoverStatus(
        region=region,
        group=group_name,
        namespace=namespace,
        services=list(spec.services),
        active_region=status.get("activeRegion"),
        initial_region=spec.initial_region,
        regions=[
            RegionHealth(
                name=name,
                state=health.get(name, {}).get("state"),
                since=health.get(name, {}).get("since"),
                message=health.get(name, {}).get("message"),
            )
            for name in group_regions(spec)
        ],
        automatic=spec.policy.automatic,
        automation_frozen=bool(status.get("automationFrozen")),
        frozen_reason=status.get("frozenReason"),
        failover_in_progress=status.get("failoverInProgress") or None,
        last_transition_time=status.get("lastTransitionTime"),
        conditions=conditions(group),
        history=records,
        timestamp=now,
    )
