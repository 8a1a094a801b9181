"""The shared failover models: parsing with field-path errors, and their tie to the CRDs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tier0_common.failover_models import (
    FailoverSpec,
    GroupSpec,
    SpecError,
    parse_failover_spec,
    parse_group_spec,
)

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


# -- the models and the CRDs (charts/tier0/crds) describe one schema ------------------

CRDS = Path(__file__).resolve().parents[3] / "charts" / "tier0" / "crds"
#: Fields a model has that are not in the CRD's spec: the group's name is metadata.name.
NOT_IN_SPEC = {GroupSpec: {"name"}}


def _spec_schema(plural: str) -> dict[str, Any]:
    crd = yaml.safe_load((CRDS / f"{plural}.tier0.io.yaml").read_text())
    (version,) = crd["spec"]["versions"]
    return dict(version["schema"]["openAPIV3Schema"]["properties"]["spec"])


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X``, ``X | None`` or ``tuple[X, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _pattern(info: FieldInfo) -> str | None:
    return next((m.pattern for m in info.metadata if getattr(m, "pattern", None)), None)


def _compare(model: type[BaseModel], schema: dict[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    fields = {
        (info.alias or name): info
        for name, info in model.model_fields.items()
        if name not in NOT_IN_SPEC.get(model, set())
    }
    properties = schema.get("properties") or {}
    for missing in sorted(set(properties) - set(fields)):
        problems.append(f"{path}.{missing}: in the CRD, not in {model.__name__}")
    for extra in sorted(set(fields) - set(properties)):
        problems.append(f"{path}.{extra}: in {model.__name__}, not in the CRD")
    for required in schema.get("required") or ():
        if required in fields and not fields[required].is_required():
            problems.append(f"{path}.{required}: required by the CRD, optional in the model")
    for key, info in fields.items():
        prop = properties.get(key)
        if prop is None:
            continue
        if "default" in prop and not isinstance(prop["default"], dict):
            if info.default != prop["default"]:
                problems.append(
                    f"{path}.{key}: default {prop['default']!r} in the CRD, {info.default!r} "
                    "in the model"
                )
        if "pattern" in prop and _pattern(info) != prop["pattern"]:
            problems.append(f"{path}.{key}: pattern {prop['pattern']!r} != {_pattern(info)!r}")
        nested = _nested_model(info.annotation)
        if nested is not None:
            inner = prop.get("items", prop) if prop.get("type") == "array" else prop
            problems += _compare(nested, inner, f"{path}.{key}")
    return problems


@pytest.mark.parametrize(
    ("plural", "model"), [("regionfailovers", FailoverSpec), ("failovergroups", GroupSpec)]
)
def test_the_models_match_the_crd_schema(plural: str, model: type[BaseModel]) -> None:
    assert _compare(model, _spec_schema(plural), "spec") == []


def test_the_comparison_notices_a_drift() -> None:
    """The test above can fail: a schema with one more field and another default."""
    schema = _spec_schema("failovergroups")
    schema["properties"]["policy"]["properties"]["failureThreshold"]["default"] = 7
    schema["properties"]["newField"] = {"type": "string"}
    assert _compare(GroupSpec, schema, "spec") == [
        "spec.newField: in the CRD, not in GroupSpec",
        "spec.policy.failureThreshold: default 7 in the CRD, 3 in the model",
    ]
