"""The API server itself refuses a RegionFailover naming a region its FailoverGroup
lacks (charts/tier0/templates/failover-admission-policy.yaml, applied as `make up`
applies it), against the REAL local API server, with no operator running."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.support.k8s_objects import (  # noqa: F401  (fixtures)
    SERVICE,
    Namespace,
    admin,
    bare_group,
    cluster,
    failover,
    namespace,
)
from tests.support.wait import wait_for
from tier0_devenv.k8s import stack as kube_stack
from tier0_devenv.processes import DevenvError

pytestmark = [pytest.mark.k8s, pytest.mark.integration]


def _create(ns: Namespace, manifest: dict[str, Any], *extra: str) -> str:
    """kubectl create; the API server's refusal as text, or "" when admitted."""
    try:
        ns.kubectl("create", *extra, "-f", "-", input=json.dumps(manifest))
    except (DevenvError, subprocess.CalledProcessError) as exc:
        return str(exc)
    return ""


def test_a_failover_to_a_region_the_group_lacks_is_refused_by_the_api_server(
    namespace: Namespace,  # noqa: F811
) -> None:
    kube_stack.apply_admission_policy(namespace.cluster, namespace.name)
    namespace.apply(bare_group(SERVICE, ("region1", "region2")))
    namespace.apply(bare_group("other", ("region1", "region3")))
    bad = failover("to-region3", "region1", "region3")
    # A new policy takes effect once the API server has compiled it: wait on dry runs.
    refusal = wait_for(
        lambda: _create(namespace, bad, "--dry-run=server"),
        60,
        what="the admission policy to refuse region3",
    )
    assert "ValidatingAdmissionPolicy" in refusal
    assert f"targetRegion region3 is not a region of FailoverGroup {SERVICE}" in refusal
    assert "(it has region1, region2)" in refusal
    assert _create(namespace, bad) != ""
    unknown_source = failover("from-region9", "region9", "region2")
    assert "sourceRegion region9 is not a region" in _create(namespace, unknown_source)
    assert namespace.rfos() == []
    # The group it names decides, not the other group of the namespace.
    assert _create(namespace, failover("to-region2", "region1", "region2")) == ""
    assert [r["metadata"]["name"] for r in namespace.rfos()] == ["to-region2"]
