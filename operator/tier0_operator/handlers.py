"""Thin kopf handlers: tuning at startup, then delegate to reconcile.py / automation.py.

Nothing here decides anything. RegionFailovers are handled on creation and again
on resume (operator restart), and both paths call the same idempotent reconciler
that reads the phase from status; FailoverGroups each get a daemon that probes and
decides every probeIntervalSeconds.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import Any

import kopf

from tier0_common.failover_crd import FG_PLURAL, GROUP, RF_PLURAL, VERSION
from tier0_operator.automation import GroupAutomation, GroupState
from tier0_operator.consts import KOPF_PREFIX
from tier0_operator.reconcile import Failover
from tier0_operator.request import GroupLookup, Outcome
from tier0_operator.settings import Settings

#: Retry delay after an unexpected error in a handler (kopf's default is 60 s, far too
#: slow for a failover; the API server being briefly unreachable is the usual cause).
ERROR_BACKOFF_SECONDS = 2.0
#: How often a sleeping automation daemon re-reads its group's probe interval.
WAKE_SECONDS = 0.25


@kopf.on.startup()
def tune(settings: kopf.OperatorSettings, **_: Any) -> None:
    # Our own Events are posted by events.py after the switch; kopf's per-handler
    # "Handler succeeded" Events would only add API writes next to the failover.
    settings.posting.level = logging.WARNING
    # Keep kopf's bookkeeping in annotations under our prefix: the status schema is
    # structural and would prune kopf's status.kopf progress block.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=KOPF_PREFIX, key="last-handled-configuration"
    )
    # Watch only the namespace(s) we were given; no cluster-wide CRD/namespace
    # observation, so the RBAC needs no cluster-scoped list/watch of those.
    settings.scanning.disabled = True
    # Re-establish watches every few minutes (a server-side timeout ends them cleanly)
    # and notice a dead connection within the client timeout, not the default hours.
    settings.watching.server_timeout = 270
    settings.watching.client_timeout = 300
    settings.watching.connect_timeout = 5
    settings.watching.reconnect_backoff = 0.1
    settings.networking.request_timeout = 30
    settings.networking.connect_timeout = 5
    # Sync handlers run in this pool; a failover waiting on EndpointSlices holds a
    # thread, so allow several groups to fail over at once.
    settings.execution.max_workers = 16


def _failover(memo: kopf.Memo) -> Failover:
    failover: Failover = memo["failover"]
    return failover


def _settings(memo: kopf.Memo) -> Settings:
    settings: Settings = memo["settings"]
    return settings


@kopf.index(GROUP, VERSION, FG_PLURAL)
def failover_groups(
    namespace: str | None, name: str, spec: kopf.Spec, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """FailoverGroup specs by (namespace, name), kept from the watch kopf runs anyway.

    A failover reads its group from here instead of a GET on its path.
    """
    return {(namespace or "", name): copy.deepcopy(dict(spec))}


GroupIndex = kopf.Index[tuple[str, str], dict[str, Any]]


def _lookup(index: GroupIndex) -> GroupLookup:
    def lookup(namespace: str, name: str) -> dict[str, Any] | None:
        for spec in index.get((namespace, name), ()):
            return spec
        return None

    return lookup


def _handle(body: kopf.Body, memo: kopf.Memo, kwargs: dict[str, Any]) -> None:
    # kopf passes each index as a keyword argument named after its function; the
    # handler protocols cannot declare it, so it is read from the keyword arguments.
    groups: GroupIndex = kwargs["failover_groups"]
    outcome = _failover(memo).reconcile(copy.deepcopy(dict(body)), _lookup(groups))
    if outcome is Outcome.WAITING:
        raise kopf.TemporaryError(
            "waiting for the failover lock", delay=_settings(memo).lock_retry_seconds
        )


@kopf.on.create(GROUP, VERSION, RF_PLURAL, id="failover", backoff=ERROR_BACKOFF_SECONDS)
def on_create(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    _handle(body, memo, kwargs)


@kopf.on.resume(GROUP, VERSION, RF_PLURAL, id="resume", backoff=ERROR_BACKOFF_SECONDS)
def on_resume(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    _handle(body, memo, kwargs)


@kopf.daemon(
    GROUP,
    VERSION,
    FG_PLURAL,
    id="automation",
    cancellation_timeout=5.0,
    backoff=ERROR_BACKOFF_SECONDS,
)
async def automate(
    name: str,
    namespace: str | None,
    stopped: kopf.DaemonStopped,
    memo: kopf.Memo,
    spec: kopf.Spec,
    logger: kopf.Logger,
    **_: Any,
) -> None:
    automation: GroupAutomation = memo["automation"]
    state = GroupState()
    while not stopped:
        began = time.monotonic()
        try:
            state = await asyncio.to_thread(automation.tick, namespace or "", name, state)
        except Exception as exc:  # one bad tick (API hiccup) must not end the daemon
            logger.warning(f"automation tick failed: {exc!r}")
        # kopf keeps a daemon's `spec` live: waking every WAKE_SECONDS to re-read the
        # interval makes a shortened probeIntervalSeconds count at once, instead of after
        # the rest of the old interval (up to 5 s of blindness on the real node after the
        # benchmark switched to fast probes).
        while not stopped:
            left = _probe_interval(spec) - (time.monotonic() - began)
            if left <= 0:
                break
            await stopped.wait(min(left, WAKE_SECONDS))


def _probe_interval(spec: kopf.Spec) -> float:
    return float((spec.get("policy") or {}).get("probeIntervalSeconds") or 5.0)


@kopf.on.probe(id="handlers")
def liveness(**_: Any) -> str:
    return "ok"
