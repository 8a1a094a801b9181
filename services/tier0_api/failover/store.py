"""The blocking Kubernetes calls of the failover endpoints (run in a worker thread).

Waiting for the operator's verdict is a watch on the one object, started from the
resourceVersion the create returned: no event between create and watch is lost, and
the thread sleeps in the socket instead of polling. Every call has a client-side
timeout, and the wait is bounded by the request's wait_seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tier0_api.failover.connection import Connection, Session
from tier0_api.failover.errors import FailoverError, is_object_missing, translate
from tier0_common import kube_client
from tier0_common.failover_crd import FG_PLURAL, GROUP, RF_PLURAL, TERMINAL_PHASES, VERSION

#: A watch is not reopened for less than this: the server's timeout has 1 s resolution.
MIN_REWATCH_SECONDS = 0.05
#: Read timeout beyond the watch's own server-side timeout, for a server that hangs.
WATCH_READ_GRACE_SECONDS = 5.0

Obj = dict[str, Any]
#: The Events' source: which region API asked is in the message.
EVENT_COMPONENT = "tier0-api"
log = structlog.get_logger("tier0_api.failover")


def phase_of(obj: Obj) -> str | None:
    phase = (obj.get("status") or {}).get("phase")
    return str(phase) if phase else None


def is_terminal(obj: Obj) -> bool:
    return phase_of(obj) in TERMINAL_PHASES


class FailoverStore:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def session(self) -> Session:
        return self.connection.session()

    def _call(self, session: Session, method: Callable[..., Any], *args: Any) -> Any:
        timeout = self.connection.settings.kube_timeout_seconds
        try:
            return method(*args, _request_timeout=(timeout, timeout))
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise translate(exc, session.server) from exc

    def group(self, session: Session, name: str) -> Obj:
        try:
            obj: Obj = self._call(
                session,
                session.custom.get_namespaced_custom_object,
                GROUP,
                VERSION,
                session.namespace,
                FG_PLURAL,
                name,
            )
        except FailoverError as exc:
            cause = exc.__cause__
            if isinstance(cause, ApiException) and is_object_missing(cause):
                raise FailoverError(
                    503,
                    "failover_group_not_found",
                    f"FailoverGroup {name!r} not found in namespace {session.namespace!r} "
                    f"of {session.server}: apply it (operator/examples/failovergroup.yaml or "
                    "the chart), or set FAILOVER_GROUP / FAILOVER_NAMESPACE to an existing one",
                ) from exc
            raise
        return obj

    def create(self, session: Session, manifest: Obj) -> Obj:
        created: Obj = self._call(
            session,
            session.custom.create_namespaced_custom_object,
            GROUP,
            VERSION,
            session.namespace,
            RF_PLURAL,
            manifest,
        )
        return created

    def record_request(self, session: Session, created: Obj, message: str) -> None:
        """A Normal Event ``FailoverRequested`` on the new RegionFailover naming the caller
        (`kubectl describe` shows it next to the operator's). An Event is a courtesy: a
        failure is logged, never the request's failure; the annotation is the record."""
        meta = created["metadata"]
        now = datetime.now(UTC)
        event = client.CoreV1Event(
            metadata=client.V1ObjectMeta(
                generate_name=f"{meta['name']}.", namespace=session.namespace
            ),
            involved_object=client.V1ObjectReference(
                api_version=created.get("apiVersion"),
                kind=created.get("kind"),
                name=meta["name"],
                namespace=session.namespace,
                uid=meta.get("uid"),
                resource_version=meta.get("resourceVersion"),
            ),
            reason="FailoverRequested",
            message=message[:1000],
            type="Normal",
            source=client.V1EventSource(component=EVENT_COMPONENT),
            reporting_component=EVENT_COMPONENT,
            reporting_instance=EVENT_COMPONENT,
            first_timestamp=now,
            last_timestamp=now,
            count=1,
        )
        try:
            self._call(
                session,
                client.CoreV1Api(session.api).create_namespaced_event,
                session.namespace,
                event,
            )
        except FailoverError as exc:
            log.warning("failover_event_not_posted", rfo=meta["name"], error=exc.detail)

    def get(self, session: Session, name: str) -> Obj:
        obj: Obj = self._call(
            session,
            session.custom.get_namespaced_custom_object,
            GROUP,
            VERSION,
            session.namespace,
            RF_PLURAL,
            name,
        )
        return obj

    def list(self, session: Session) -> list[Obj]:
        listing = self._call(
            session,
            session.custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            session.namespace,
            RF_PLURAL,
        )
        return list(listing.get("items") or ())

    def wait_terminal(self, session: Session, created: Obj, timeout: float) -> Obj:
        """The object once its phase is terminal, or as last seen when ``timeout`` passes."""
        name = str(created["metadata"]["name"])
        version = str(created["metadata"]["resourceVersion"])
        latest = created
        deadline = time.monotonic() + timeout
        while not is_terminal(latest):
            remaining = deadline - time.monotonic()
            if remaining < MIN_REWATCH_SECONDS:
                break
            try:
                with kube_client.watch_stream(
                    session.custom.list_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    session.namespace,
                    RF_PLURAL,
                    field_selector=f"metadata.name={name}",
                    resource_version=version,
                    allow_watch_bookmarks=True,
                    timeout_seconds=max(1, math.ceil(remaining)),
                    _request_timeout=(
                        self.connection.settings.kube_timeout_seconds,
                        remaining + WATCH_READ_GRACE_SECONDS,
                    ),
                ) as events:
                    for event in events:
                        obj = event["raw_object"]
                        version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
                        if event["type"] == "DELETED":
                            raise FailoverError(
                                409,
                                "failover_deleted",
                                f"RegionFailover {name} was deleted before the operator "
                                "finished it",
                            )
                        if event["type"] in ("ADDED", "MODIFIED"):
                            latest = obj
                        if is_terminal(latest) or time.monotonic() >= deadline:
                            break
            except ApiException as exc:
                if exc.status != 410:  # 410 Gone: history compacted; read afresh
                    raise translate(exc, session.server) from exc
                latest = self.get(session, name)
                version = str(latest["metadata"]["resourceVersion"])
            except urllib3.exceptions.ReadTimeoutError as exc:
                if time.monotonic() < deadline:
                    raise translate(exc, session.server) from exc
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise translate(exc, session.server) from exc
        return latest
