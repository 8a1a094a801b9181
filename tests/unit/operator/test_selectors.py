"""Selector plans and the EndpointSlice verdict, from the API's JSON shape."""

from __future__ import annotations

from typing import Any

from tier0_operator.endpoints import judge_endpoints
from tier0_operator.selectors import plan_selectors, selector_patch

LABEL = "tier0.io/region"


def test_plan_patches_services_on_source_and_keeps_other_keys() -> None:
    plan = plan_selectors(
        {"api": {"app": "tier0-api", LABEL: "region1"}, "web": {"app": "web", LABEL: "region2"}},
        LABEL,
        "region1",
        "region2",
    )
    assert plan.to_patch == ("api",)
    assert plan.already_on_target == ("web",)
    assert plan.after["api"] == {"app": "tier0-api", LABEL: "region2"}
    assert plan.before["api"][LABEL] == "region1"
    assert not plan.mismatched


def test_plan_flags_services_on_a_third_region_or_without_the_label() -> None:
    plan = plan_selectors(
        {"a": {LABEL: "region3"}, "b": {"app": "x"}, "c": None}, LABEL, "region1", "region2"
    )
    assert set(plan.mismatched) == {"a", "b", "c"}
    assert "region3" in plan.mismatched["a"]


def test_selector_patch_touches_only_the_region_key() -> None:
    assert selector_patch(LABEL, "region2") == {"spec": {"selector": {LABEL: "region2"}}}


def _endpoint(pod: str, ready: bool | None = True) -> dict[str, Any]:
    conditions = {} if ready is None else {"ready": ready}
    return {
        "addresses": ["10.0.0.1"],
        "conditions": conditions,
        "targetRef": {"kind": "Pod", "name": pod},
    }


def test_switched_only_when_every_endpoint_is_a_ready_target_pod() -> None:
    targets = {"r2-a", "r2-b"}
    assert judge_endpoints(
        [{"endpoints": [_endpoint("r2-a"), _endpoint("r2-b", None)]}], targets
    ).switched
    mixed = judge_endpoints(
        [{"endpoints": [_endpoint("r2-a")]}, {"endpoints": [_endpoint("r1-a")]}], targets
    )
    assert not mixed.switched
    assert mixed.unknown_pods == frozenset({"r1-a"})
    unready = judge_endpoints([{"endpoints": [_endpoint("r2-a", False)]}], targets)
    assert not unready.switched and "not ready" in unready.detail


def test_no_endpoints_is_not_switched() -> None:
    assert not judge_endpoints([{"endpoints": None}, {}], {"r2-a"}).switched
    assert not judge_endpoints([], {"r2-a"}).switched
