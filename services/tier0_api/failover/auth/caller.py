"""The failover endpoints' gate: a FastAPI dependency, then one check per permission.

The dependency answers 401 before the body is even looked at (no token, or one the
API server does not accept) and 403 when the caller may not ``create``
regionfailovers; the route asks for ``force`` only when the body sets it. Every
refusal names the missing permission, so the answer tells an SRE which Role to ask
for. With FAILOVER_TRUST_LOOPBACK (process mode only, never in the chart) a request
without a token from 127.0.0.1 or ::1 is let through as ``loopback``, loudly logged,
so the seed's scripts still run against `make up`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import structlog
import urllib3
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from kubernetes.client.exceptions import ApiException

from tier0_api.deps import SettingsDep
from tier0_api.failover.auth.reviews import (
    VERB_CREATE,
    VERB_FORCE,
    Caller,
    Permission,
    may,
    review_token,
)
from tier0_api.failover.connection import Session
from tier0_api.failover.errors import FailoverError, disabled, translate
from tier0_api.failover.store import FailoverStore
from tier0_api.settings import Settings

log = structlog.get_logger("tier0_api.auth")

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})
#: The roles docs/security.md defines (chart and `make up` create them).
ROLE_HINTS = {
    VERB_CREATE: "the Role tier0-failover-requester",
    VERB_FORCE: "the Role tier0-failover-forcer",
}

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="KubernetesToken",
    description="A Kubernetes bearer token (a user's or a ServiceAccount's); the API "
    "checks it with a TokenReview and asks RBAC (SubjectAccessReview) whether its user "
    "may create regionfailovers.tier0.io (and, for force: true, the verb force).",
)


class AuthError(FailoverError):
    """401: no usable credentials. Carries the WWW-Authenticate challenge."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(401, error, detail)
        self.headers = {"WWW-Authenticate": 'Bearer realm="tier0"'}


@dataclass(frozen=True)
class Authorized:
    """A caller that passed authentication and the ``create`` check."""

    caller: Caller
    #: Let in by FAILOVER_TRUST_LOOPBACK without a token: no further checks apply.
    trusted_loopback: bool = False

    @property
    def username(self) -> str:
        return self.caller.username


def _review(exc: Exception, session: Session) -> FailoverError:
    """A failed review call. A 403 here is the API's own identity lacking the right to
    review (not the caller's fault): a 503 that says which binding is missing."""
    if isinstance(exc, ApiException) and exc.status == 403:
        return FailoverError(
            503,
            "auth_unavailable",
            f"this API's own identity may not create tokenreviews and subjectaccessreviews "
            f"on {session.server}: bind its ServiceAccount to the ClusterRole "
            "system:auth-delegator (the chart and `make up` do)",
        )
    return translate(exc, session.server)


def require(session: Session, who: Authorized, verb: str, timeout: float) -> None:
    """403 unless ``who`` may ``verb`` regionfailovers in the session's namespace."""
    if who.trusted_loopback:
        return
    permission = Permission(verb, session.namespace)
    try:
        allowed = may(session, who.caller, permission, timeout)
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _review(exc, session) from exc
    if not allowed:
        log.warning("failover_forbidden", user=who.username, permission=str(permission))
        raise FailoverError(
            403,
            "forbidden",
            f"user {who.username!r} lacks the permission to {permission} (RBAC verb "
            f"{verb!r} on resource {permission.resource!r} of API group "
            f"{permission.group!r}); ask a cluster admin for {ROLE_HINTS[verb]} "
            "(docs/security.md)",
        )


def _authorize(store: FailoverStore, settings: Settings, token: str) -> Authorized:
    session = store.session()
    timeout = settings.kube_timeout_seconds
    try:
        caller, reason = review_token(session, token, timeout)
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _review(exc, session) from exc
    if caller is None:
        raise AuthError(
            "invalid_token",
            f"the Kubernetes API server {session.server} did not accept the bearer token "
            f"({reason}); get a fresh one (`make up` prints how, docs/security.md)",
        )
    who = Authorized(caller)
    require(session, who, VERB_CREATE, timeout)
    return who


async def failover_caller(
    request: Request,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Authorized:
    """The authorized caller. Runs before the body is validated: a caller who may not
    fail over learns nothing from this endpoint but that (503 while it is off)."""
    if not settings.failover_enabled:
        raise disabled()
    if credentials is None:
        host = request.client.host if request.client else ""
        if settings.failover_trust_loopback and host in LOOPBACK_HOSTS:
            log.warning(
                "failover_loopback_trusted",
                path=request.url.path,
                client=host,
                note="FAILOVER_TRUST_LOOPBACK is on: no token checked",
            )
            return Authorized(Caller(username=f"loopback:{host}"), trusted_loopback=True)
        raise AuthError(
            "unauthenticated",
            f"{request.method} {request.url.path} changes where traffic goes and needs a "
            "Kubernetes bearer token: send 'Authorization: Bearer <token>' (`make up` "
            "writes one to .run/secrets/failover-user.token; docs/security.md)",
        )
    store: FailoverStore = request.app.state.failover_store
    return await run_in_threadpool(_authorize, store, settings, credentials.credentials)


FailoverCaller = Annotated[Authorized, Depends(failover_caller)]
