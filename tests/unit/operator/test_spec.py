"""Spec parsing: typed views of the CRDs and errors that name the field path."""

from __future__ import annotations

import pytest

from tier0_operator.spec import SpecError, parse_failover_spec, parse_group_spec

GROUP = {
    "services": ["tier0-api"],
    "initialRegion": "region1",
    "regions": [
        {"name": "region1", "deployment": "tier0-api-region1", "healthURL": "http://a/health"},
        {"name": "region2", "deployment": "tier0-api-region2", "apiURL": "http://b"},
    ],
    "policy": {"automatic": True, "failureThreshold": 2, "autoFailback": {"enabled": True}},
    "gates": {"freshnessBudgetSeconds": 30, "canary": {"enabled": True, "mqttHost": "mq"}},
}


def test_group_spec_parses_camel_case_and_defaults() -> None:
    group = parse_group_spec("g", GROUP)
    assert group.region_label == "tier0.io/region"
    assert group.policy.failure_threshold == 2
    assert group.policy.success_threshold == 2
    assert group.policy.auto_failback.enabled is True
    assert group.gates.canary.mqtt_port == 1883
    assert group.region("region1") is not None
    assert group.region("region1").health_url == "http://a/health"  # type: ignore[union-attr]
    assert [r.name for r in group.other_regions("region1")] == ["region2"]


def test_group_spec_error_names_the_field() -> None:
    bad = {**GROUP, "policy": {"failureThreshold": 0}}
    with pytest.raises(SpecError, match=r"spec\.policy\.failureThreshold"):
        parse_group_spec("g", bad)


def test_group_initial_region_must_be_a_region() -> None:
    with pytest.raises(SpecError, match="initialRegion"):
        parse_group_spec("g", {**GROUP, "initialRegion": "region7"})


def test_failover_spec_with_group() -> None:
    spec = parse_failover_spec(
        {"group": "g", "sourceRegion": "region1", "targetRegion": "region2", "reason": "drill"}
    )
    assert (spec.group, spec.dry_run, spec.force) == ("g", False, False)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (
            {"group": "g", "sourceRegion": "region1", "targetRegion": "region1", "reason": "x"},
            "differ",
        ),
        (
            {"group": "g", "sourceRegion": "region1", "targetRegion": "eu-west", "reason": "x"},
            "targetRegion",
        ),
        ({"group": "g", "sourceRegion": "region1", "targetRegion": "region2"}, r"spec\.reason"),
        ({"sourceRegion": "region1", "targetRegion": "region2", "reason": "x"}, "exactly one"),
    ],
)
def test_failover_spec_rejections(spec: dict[str, object], match: str) -> None:
    with pytest.raises(SpecError, match=match):
        parse_failover_spec(spec)


def test_inline_request_builds_a_two_region_group() -> None:
    spec = parse_failover_spec(
        {
            "services": ["a", "b"],
            "sourceRegion": "region2",
            "targetRegion": "region1",
            "reason": "x",
        }
    )
    group = spec.inline_group()
    assert group.services == ("a", "b")
    assert group.region_label == "tier0.io/region"
    assert {r.name for r in group.regions} == {"region1", "region2"}
