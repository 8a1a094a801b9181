"""The API server itself rejects bad RegionFailovers and FailoverGroups (OpenAPI + CEL).

No operator runs here: what is tested is that `kubectl apply` fails, with a message
a person can act on, before anything could act on the object.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.k8s_objects import Namespace, failover

pytestmark = [pytest.mark.k8s, pytest.mark.integration]


def _without(manifest: dict[str, Any], field: str) -> dict[str, Any]:
    out = copy.deepcopy(manifest)
    del out["spec"][field]
    return out


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (failover("same", "region1", "region1"), "sourceRegion and targetRegion must differ"),
        (failover("unknown", "region1", "eu-west-1"), "spec.targetRegion"),
        (
            _without(failover("no-reason", "region1", "region2"), "reason"),
            "spec.reason: Required value",
        ),
        (
            _without(failover("no-target", "region1", "region2"), "targetRegion"),
            "spec.targetRegion: Required value",
        ),
        (
            failover("both", "region1", "region2", services=["tier0-api"]),
            "set exactly one of group (a FailoverGroup name) or services",
        ),
        (
            _without(failover("neither", "region1", "region2"), "group"),
            "set exactly one of group (a FailoverGroup name) or services",
        ),
        (
            failover("label", "region1", "region2", regionLabel="x"),
            "regionLabel is only used with inline services",
        ),
    ],
    ids=[
        "source-equals-target",
        "unknown-region",
        "missing-reason",
        "missing-target",
        "group-and-services",
        "neither",
        "label-without-services",
    ],
)
def test_invalid_region_failover_is_rejected_by_kubectl_apply(
    namespace: Namespace, manifest: dict[str, Any], message: str
) -> None:
    result = namespace.try_apply(manifest)
    assert result.returncode != 0, f"accepted: {result.stdout}"
    assert message in result.stderr, result.stderr
    assert namespace.rfos() == []


def test_spec_is_immutable(namespace: Namespace) -> None:
    namespace.apply(failover("fixed", "region1", "region2"))
    result = namespace.try_apply(failover("fixed", "region1", "region3"))
    assert result.returncode != 0
    assert "spec is immutable" in result.stderr


def test_invalid_failover_group_is_rejected(namespace: Namespace) -> None:
    group = {
        "apiVersion": "tier0.io/v1alpha1",
        "kind": "FailoverGroup",
        "metadata": {"name": "g"},
        "spec": {
            "services": ["tier0-api"],
            "initialRegion": "region9",
            "regions": [{"name": "region1"}, {"name": "region2"}],
            "policy": {"failureThreshold": 0},
        },
    }
    result = namespace.try_apply(group)
    assert result.returncode != 0
    assert "initialRegion must be one of regions[].name" in result.stderr
    assert "spec.policy.failureThreshold" in result.stderr
