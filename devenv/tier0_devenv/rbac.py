"""Who may do what on the local control plane: the same identities as the chart.

`make up` used to run the operator and the region APIs with the cluster-admin
kubeconfig, which proves nothing about least privilege. Now each runs under its own
ServiceAccount token, with the chart's rules (the operator's Role is rendered from
charts/tier0/templates/operator-rbac.yaml, so the two cannot drift), and the person
at the keyboard gets a token of a ServiceAccount bound to the failover requester Role
only (docs/security.md). These are pure builders; k8s/stack.py applies them.
"""

from __future__ import annotations

from typing import Any, Final

from tier0_common.failover_crd import FG_PLURAL, GROUP, RF_PLURAL

Manifest = dict[str, Any]
Rules = list[dict[str, Any]]

OPERATOR_ACCOUNT: Final = "tier0-operator"
API_ACCOUNT: Final = "tier0-api"
#: The local user's identity: an SRE who may request failovers but not force them.
USER_ACCOUNT: Final = "tier0-sre"
REQUESTER_ROLE: Final = "tier0-failover-requester"
FORCER_ROLE: Final = "tier0-failover-forcer"
AUTH_DELEGATOR: Final = "system:auth-delegator"

#: The region APIs: create a RegionFailover and watch it, read the group, post the
#: FailoverRequested Event naming the caller. Reviewing callers' tokens is the
#: built-in ClusterRole system:auth-delegator (tokenreviews, subjectaccessreviews).
API_RULES: Final[Rules] = [
    {"apiGroups": [GROUP], "resources": [RF_PLURAL], "verbs": ["create", "get", "list", "watch"]},
    {"apiGroups": [GROUP], "resources": [FG_PLURAL], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
]
#: A person who may ask for a failover (the dashboard's button, POST /api/failover/*,
#: `kubectl create regionfailover`) and watch the history; the gates still apply.
REQUESTER_RULES: Final[Rules] = [
    {"apiGroups": [GROUP], "resources": [RF_PLURAL], "verbs": ["create", "get", "list", "watch"]},
    {"apiGroups": [GROUP], "resources": [FG_PLURAL], "verbs": ["get", "list", "watch"]},
]
#: ``force: true`` skips every gate, so it is a verb of its own that no built-in Role
#: grants (Kubernetes accepts any verb in a rule; the API checks it by SubjectAccessReview).
FORCER_RULES: Final[Rules] = [
    {"apiGroups": [GROUP], "resources": [RF_PLURAL], "verbs": ["force"]},
]


def _meta(name: str, namespace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"app.kubernetes.io/part-of": "tier0"}}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def service_account(name: str, namespace: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace)}


def role(name: str, namespace: str, rules: Rules) -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta(name, namespace),
        "rules": rules,
    }


def binding(
    name: str, namespace: str | None, account: str, account_namespace: str, role_name: str
) -> Manifest:
    """A RoleBinding (namespace given) or ClusterRoleBinding (None) of one account."""
    kind = "RoleBinding" if namespace is not None else "ClusterRoleBinding"
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": _meta(name, namespace),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role" if namespace is not None else "ClusterRole",
            "name": role_name,
        },
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": account_namespace}],
    }


def local_identities(namespace: str) -> list[Manifest]:
    """The API's and the local user's accounts, the failover Roles, their bindings.

    The operator's come from the chart (k8s/stack.py renders them)."""
    return [
        service_account(API_ACCOUNT, namespace),
        role(API_ACCOUNT, namespace, API_RULES),
        binding(API_ACCOUNT, namespace, API_ACCOUNT, namespace, API_ACCOUNT),
        binding(
            f"{API_ACCOUNT}-{namespace}-auth-delegator",
            None,
            API_ACCOUNT,
            namespace,
            AUTH_DELEGATOR,
        ),  # fmt: skip
        role(REQUESTER_ROLE, namespace, REQUESTER_RULES),
        role(FORCER_ROLE, namespace, FORCER_RULES),
        service_account(USER_ACCOUNT, namespace),
        binding(USER_ACCOUNT, namespace, USER_ACCOUNT, namespace, REQUESTER_ROLE),
    ]
