"""TokenReview and SubjectAccessReview against the API server (blocking; worker thread).

The API's own credentials make the reviews (its ServiceAccount is bound to the
built-in ClusterRole ``system:auth-delegator``, which allows exactly these two
creates). Nothing is cached: failover requests are rare, and a revoked token or a
removed RoleBinding must take effect on the next click.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from kubernetes import client

from tier0_api.failover.connection import Session
from tier0_common.failover_crd import GROUP, RF_PLURAL

#: The verbs on regionfailovers.tier0.io a caller needs: create for every failover,
#: force (a custom verb no built-in Role grants) to skip the gates.
VERB_CREATE: Final = "create"
VERB_FORCE: Final = "force"


@dataclass(frozen=True)
class Caller:
    """An authenticated user as the API server knows it."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Permission:
    verb: str
    namespace: str
    resource: str = RF_PLURAL
    group: str = GROUP

    def __str__(self) -> str:
        return f"{self.verb} {self.resource}.{self.group} in namespace {self.namespace!r}"


def review_token(session: Session, token: str, timeout: float) -> tuple[Caller | None, str]:
    """The token's user, or None and the API server's reason."""
    body = client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token))
    result: Any = client.AuthenticationV1Api(session.api).create_token_review(
        body, _request_timeout=(timeout, timeout)
    )
    status = result.status
    if not status or not status.authenticated or status.user is None:
        return None, (status.error if status and status.error else "token not authenticated")
    user = status.user
    return (
        Caller(
            username=user.username or "",
            uid=user.uid or "",
            groups=tuple(user.groups or ()),
            extra={k: list(v) for k, v in (user.extra or {}).items()},
        ),
        "",
    )


def may(session: Session, caller: Caller, permission: Permission, timeout: float) -> bool:
    """Whether RBAC (or any authorizer the server runs) allows ``permission``."""
    body = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=caller.username,
            uid=caller.uid or None,
            groups=list(caller.groups) or None,
            extra=caller.extra or None,
            resource_attributes=client.V1ResourceAttributes(
                group=permission.group,
                resource=permission.resource,
                verb=permission.verb,
                namespace=permission.namespace,
            ),
        )
    )
    result: Any = client.AuthorizationV1Api(session.api).create_subject_access_review(
        body, _request_timeout=(timeout, timeout)
    )
    return bool(result.status and result.status.allowed)
