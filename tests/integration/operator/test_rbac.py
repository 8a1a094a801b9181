"""The operator's ServiceAccount can do what the operator needs, and nothing more.

"Enough" is proven by every other test in this folder, which runs the operator under
this ServiceAccount's token; here `kubectl auth can-i` pins the exact boundary of the
Role rendered from charts/tier0/templates/operator-rbac.yaml.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.support.k8s_objects import OPERATOR_SA, Namespace

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

ALLOWED = [
    ("watch", "regionfailovers.tier0.io"),
    ("patch", "regionfailovers.tier0.io"),
    ("create", "regionfailovers.tier0.io"),
    ("patch", "regionfailovers.tier0.io", "--subresource=status"),
    ("watch", "failovergroups.tier0.io"),
    ("patch", "failovergroups.tier0.io", "--subresource=status"),
    ("get", "services"),
    ("patch", "services"),
    ("list", "pods"),
    ("watch", "endpointslices.discovery.k8s.io"),
    ("get", "deployments.apps"),
    ("create", "events"),
    ("create", "leases.coordination.k8s.io"),
    ("delete", "leases.coordination.k8s.io"),
]
DENIED = [
    ("delete", "regionfailovers.tier0.io"),
    ("update", "regionfailovers.tier0.io"),
    ("create", "failovergroups.tier0.io"),
    ("delete", "failovergroups.tier0.io"),
    ("create", "services"),
    ("delete", "services"),
    ("update", "services"),
    ("get", "secrets"),
    ("list", "configmaps"),
    ("patch", "pods"),
    ("delete", "pods"),
    ("patch", "deployments.apps"),
    ("create", "endpointslices.discovery.k8s.io"),
    ("update", "leases.coordination.k8s.io"),
    ("create", "rolebindings.rbac.authorization.k8s.io"),
]


def can_i(
    namespace: Namespace, verb: str, resource: str, *extra: str, ns: str | None = None
) -> bool:
    who = f"system:serviceaccount:{namespace.name}:{OPERATOR_SA}"
    result = subprocess.run(
        [
            str(namespace.cluster.kubectl_path),
            "auth",
            "can-i",
            verb,
            resource,
            *extra,
            "--as",
            who,
            "-n",
            ns or namespace.name,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={**namespace.cluster.env()},
    )
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), result.stderr
    return answer == "yes"


def test_operator_may_do_what_it_needs_and_no_more(namespace: Namespace) -> None:
    # One test over both lists (not one per rule): each test pays for a namespace.
    missing = [" ".join(rule) for rule in ALLOWED if not can_i(namespace, *rule)]
    excess = [" ".join(rule) for rule in DENIED if can_i(namespace, *rule)]
    assert (missing, excess) == ([], [])


def test_operator_rights_end_at_its_namespace(namespace: Namespace) -> None:
    assert not can_i(namespace, "patch", "services", ns="default")
    assert not can_i(namespace, "list", "regionfailovers.tier0.io", ns="kube-system")
    assert not can_i(namespace, "list", "nodes")
    assert not can_i(namespace, "list", "customresourcedefinitions.apiextensions.k8s.io")
