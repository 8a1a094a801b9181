"""The seed's failover endpoints, done the Kubernetes way: they create RegionFailovers.

POST /api/failover/simulate and /restore create a RegionFailover and wait (at most
wait_seconds) for the operator's verdict; GET /api/failover/status reads the
FailoverGroup and its recent RegionFailovers. The API never touches Service selectors
itself: the operator does, with its gates and its lock, so a failover asked for here is
the same as one applied with kubectl. The Kubernetes client is synchronous; each
request's whole exchange runs in one worker thread (``run_in_threadpool``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram

from tier0_api.deps import SettingsDep
from tier0_api.failover import errors
from tier0_api.failover import planning as decisions
from tier0_api.failover.auth.caller import Authorized, FailoverCaller, require
from tier0_api.failover.auth.reviews import VERB_FORCE
from tier0_api.failover.errors import FailoverError
from tier0_api.failover.schemas import (
    FailoverResponse,
    FailoverStatus,
    RestoreRequest,
    SimulateRequest,
)
from tier0_api.failover.store import FailoverStore
from tier0_api.schemas import ErrorResponse
from tier0_api.settings import MAX_FAILOVER_WAIT_SECONDS, Settings

log = structlog.get_logger("tier0_api.failover")

router = APIRouter(prefix="/api/failover", tags=["failover"])

FAILOVER_REQUESTS = Counter(
    "tier0_api_failover_requests_total",
    "Failover endpoint requests by action and outcome (success, refused, timeout, an error code)",
    ["action", "outcome"],
)
FAILOVER_WAIT = Histogram(
    "tier0_api_failover_wait_seconds",
    "Seconds from creating a RegionFailover to seeing the operator's verdict (or giving up)",
    ["action"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
)

WaitSeconds = Annotated[
    float | None,
    Query(
        ge=0,
        le=MAX_FAILOVER_WAIT_SECONDS,
        description="Seconds to wait for the operator's verdict; 0 answers 202 at once. "
        "Default FAILOVER_WAIT_SECONDS.",
    ),
]
HistoryLimit = Annotated[int, Query(ge=1, le=100, description="RegionFailovers to list")]

_ERRORS: dict[int | str, dict[str, Any]] = {
    202: {
        "model": FailoverResponse,
        "description": "RegionFailover created; no verdict awaited (wait_seconds=0)",
    },
    401: {"model": ErrorResponse, "description": "No bearer token, or one Kubernetes rejects"},
    403: {
        "model": ErrorResponse,
        "description": "Kubernetes RBAC refused the caller (the detail names the permission)",
    },
    409: {"model": FailoverResponse, "description": "Refused or Failed by the operator"},
    422: {"description": "Invalid body or region (FastAPI's list, or an ErrorResponse)"},
    503: {"model": ErrorResponse, "description": "Kubernetes not configured or unreachable"},
    504: {"model": FailoverResponse, "description": "No verdict within wait_seconds"},
}


def get_store(request: Request) -> FailoverStore:
    store: FailoverStore = request.app.state.failover_store
    return store


def _require_enabled(settings: Settings) -> None:
    """For the read endpoint; the mutating ones check it in their auth dependency."""
    if not settings.failover_enabled:
        raise errors.disabled()


StoreDep = Annotated[FailoverStore, Depends(get_store)]


async def failover_error(request: Request, exc: Exception) -> JSONResponse:
    """Exception handler (app.py): a FailoverError is the answer, as an ErrorResponse."""
    if not isinstance(exc, FailoverError):  # registered for FailoverError only
        raise exc
    settings: Settings = request.app.state.settings
    log.warning(
        "failover request refused", path=request.url.path, error=exc.error, detail=exc.detail
    )
    body = ErrorResponse(error=exc.error, detail=exc.detail, region=settings.region)
    headers = getattr(exc, "headers", None)
    return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=headers)


def _request_failover(
    store: FailoverStore,
    settings: Settings,
    action: str,
    plan_of: Callable[[dict[str, Any]], decisions.Plan],
    options: SimulateRequest | RestoreRequest,
    wait_seconds: float,
    who: Authorized,
) -> tuple[int, FailoverResponse]:
    """Check force, read the group, create the RegionFailover (naming the caller), wait
    for its verdict (blocking)."""
    session = store.session()
    if options.force:
        require(session, who, VERB_FORCE, settings.kube_timeout_seconds)
    group_name = settings.failover_group
    group = store.group(session, group_name)
    plan = plan_of(group)
    now = datetime.now(UTC)
    if plan.source == plan.target:
        return 200, decisions.noop_response(group_name, plan, namespace=session.namespace, now=now)
    manifest = decisions.failover_manifest(
        group_name,
        plan,
        reason=options.reason,
        dry_run=options.dry_run,
        force=options.force,
        requested_at=now,
        via=f"{settings.region} POST /api/failover/{action}",
        requested_by=who.username,
    )
    started = time.monotonic()
    created = store.create(session, manifest)
    store.record_request(
        session,
        created,
        f"{who.username} asked {settings.region}'s API for {plan.source} -> {plan.target}"
        + (" with force (gates skipped)" if options.force else "")
        + (" as a dry run" if options.dry_run else ""),
    )
    log.info(
        "failover requested",
        user=who.username,
        rfo=created["metadata"]["name"],
        source=plan.source,
        target=plan.target,
        dry_run=options.dry_run,
        force=options.force,
    )
    final = store.wait_terminal(session, created, wait_seconds) if wait_seconds > 0 else created
    waited = time.monotonic() - started
    if wait_seconds > 0:
        FAILOVER_WAIT.labels(action=action).observe(waited)
    return decisions.failover_response(
        final,
        namespace=session.namespace,
        waited=wait_seconds > 0,
        wait_seconds=wait_seconds,
        api_wait_seconds=waited if wait_seconds > 0 else None,
        now=datetime.now(UTC),
    )


async def _answer(
    action: str,
    store: FailoverStore,
    settings: Settings,
    plan_of: Callable[[dict[str, Any]], decisions.Plan],
    options: SimulateRequest | RestoreRequest,
    wait_seconds: float | None,
    who: Authorized,
) -> JSONResponse:
    wait = settings.failover_wait_seconds if wait_seconds is None else wait_seconds
    try:
        code, body = await run_in_threadpool(
            _request_failover, store, settings, action, plan_of, options, wait, who
        )
    except FailoverError as exc:
        FAILOVER_REQUESTS.labels(action=action, outcome=exc.error).inc()
        raise
    FAILOVER_REQUESTS.labels(action=action, outcome=body.status).inc()
    log.info(
        "failover answered",
        action=action,
        rfo=body.name,
        outcome=body.status,
        phase=body.phase,
        latency_seconds=body.failover_latency_seconds,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=code)


@router.post("/simulate", response_model=FailoverResponse, responses=_ERRORS)
async def simulate(
    store: StoreDep,
    settings: SettingsDep,
    who: FailoverCaller,
    body: Annotated[SimulateRequest | None, Body()] = None,
    wait_seconds: WaitSeconds = None,
) -> JSONResponse:
    """Fail the group over from its active region to the other one (a RegionFailover)."""
    options = body or SimulateRequest()
    group = settings.failover_group
    return await _answer(
        "simulate",
        store,
        settings,
        lambda obj: decisions.plan_simulate(group, obj, options),
        options,
        wait_seconds,
        who,
    )


@router.post("/restore", response_model=FailoverResponse, responses=_ERRORS)
async def restore(
    store: StoreDep,
    settings: SettingsDep,
    who: FailoverCaller,
    body: Annotated[RestoreRequest | None, Body()] = None,
    wait_seconds: WaitSeconds = None,
) -> JSONResponse:
    """Move the group back to ``region`` (default its initialRegion); noop if already there."""
    options = body or RestoreRequest()
    group = settings.failover_group
    return await _answer(
        "restore",
        store,
        settings,
        lambda obj: decisions.plan_restore(group, obj, options),
        options,
        wait_seconds,
        who,
    )


def _read_status(store: FailoverStore, settings: Settings, limit: int) -> FailoverStatus:
    session = store.session()
    group = store.group(session, settings.failover_group)
    records = decisions.history(store.list(session), settings.failover_group, limit)
    return decisions.group_status(
        settings.failover_group,
        group,
        records,
        region=settings.region,
        namespace=session.namespace,
        now=datetime.now(UTC),
    )


@router.get("/status", responses={k: v for k, v in _ERRORS.items() if k in (403, 503)})
async def status(
    store: StoreDep, settings: SettingsDep, limit: HistoryLimit = 10
) -> FailoverStatus:
    """The group's active region, region health, automation state and recent failovers."""
    _require_enabled(settings)
    result: FailoverStatus = await run_in_threadpool(_read_status, store, settings, limit)
    return result
