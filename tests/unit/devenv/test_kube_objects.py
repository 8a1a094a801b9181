"""What `make up` applies to the local control plane: the FailoverGroup follows the
devenv settings, fits the CRD schema, and names objects the demo manifest creates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tier0_devenv.k8s import objects as kube_objects
from tier0_devenv.k8s import stack as kube_stack
from tier0_devenv.k8s.settings import LocalKubeSettings
from tier0_devenv.processes import DevenvError
from tier0_devenv.settings import DevenvSettings

CRD = kube_objects.CRD_DIR / "failovergroups.tier0.io.yaml"


def _schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    version = next(v for v in crd["spec"]["versions"] if v["storage"])
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def _violations(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Fields the API server would prune (unknown) or reject (type, pattern, bounds, enum).

    A small subset of OpenAPI v3, enough for this CRD; the integration test has the
    API server itself validate the object, CEL rules included.
    """
    problems: list[str] = []
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        properties = schema.get("properties", {})
        if properties:  # `metadata: {type: object}` has none and takes anything
            problems += [f"{path}.{k}: unknown field" for k in value if k not in properties]
        problems += [f"{path}.{k}: required" for k in schema.get("required", []) if k not in value]
        for key, sub in value.items():
            if key in properties:
                problems += _violations(sub, properties[key], f"{path}.{key}")
    elif kind == "array":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", 10**6):
            problems.append(f"{path}: {len(value)} items out of bounds")
        for i, item in enumerate(value):
            problems += _violations(item, schema["items"], f"{path}[{i}]")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{path}: not a string"]
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) > schema.get("maxLength", 10**6):
            problems.append(f"{path}: too long")
    elif kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [f"{path}: not a number"]
        if not schema.get("minimum", -(10**12)) <= value <= schema.get("maximum", 10**12):
            problems.append(f"{path}: {value} out of bounds")
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append(f"{path}: not a boolean")
    return problems


def test_failover_group_points_at_the_local_region_apis_and_mosquitto(tmp_path: Path) -> None:
    settings = DevenvSettings(run_dir=tmp_path, api1_port=18000, api2_port=18100, mqtt_port=11883)
    group = kube_stack.local_failover_group(settings, LocalKubeSettings(k8s_namespace="demo"))

    assert group["metadata"]["namespace"] == "demo"
    spec = group["spec"]
    assert [(r["name"], r["deployment"], r["healthURL"], r["apiURL"]) for r in spec["regions"]] == [
        ("region1", "tier0-api-region1", "http://127.0.0.1:18000/health/ready",
         "http://127.0.0.1:18000"),
        ("region2", "tier0-api-region2", "http://127.0.0.1:18100/health/ready",
         "http://127.0.0.1:18100"),
    ]  # fmt: skip
    assert spec["services"] == ["tier0-api"] and spec["initialRegion"] == "region1"
    canary = spec["gates"]["canary"]
    assert (canary["mqttHost"], canary["mqttPort"]) == ("127.0.0.1", 11883)
    assert canary["enabled"] is False
    assert spec["gates"]["freshnessBudgetSeconds"] == 30
    assert spec["policy"]["automatic"] is False


def test_failover_settings_reach_the_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIER0_FAILOVER_CANARY", "true")
    monkeypatch.setenv("TIER0_FAILOVER_AUTOMATIC", "true")
    monkeypatch.setenv("TIER0_FAILOVER_FRESHNESS_BUDGET_SECONDS", "null")
    group = kube_stack.local_failover_group(DevenvSettings(), LocalKubeSettings())
    assert group["spec"]["gates"]["canary"]["enabled"] is True
    assert group["spec"]["policy"]["automatic"] is True
    assert "freshnessBudgetSeconds" not in group["spec"]["gates"]


def test_failover_group_fits_the_crd_schema() -> None:
    group = kube_stack.local_failover_group(DevenvSettings(), LocalKubeSettings())
    assert _violations(group, _schema()) == []
    spec = group["spec"]
    assert spec["initialRegion"] in {r["name"] for r in spec["regions"]}  # the CEL rule
    policy = spec["policy"]
    assert policy["stabilizationWindowSeconds"] >= policy["probeIntervalSeconds"]


def test_schema_check_can_fail() -> None:
    group = kube_stack.local_failover_group(DevenvSettings(), LocalKubeSettings())
    group["spec"]["regions"][0]["name"] = "eu-west"
    group["spec"]["gates"]["canary"]["mqtPort"] = 1
    assert len(_violations(group, _schema())) == 2


def test_group_names_objects_the_demo_creates() -> None:
    objects = kube_objects.region_objects(
        kube_objects.load_demo(), kube_stack.REGIONS, namespace="default"
    )
    group = kube_stack.local_failover_group(DevenvSettings(), LocalKubeSettings())
    deployments = {o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"}
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    assert {r["deployment"] for r in group["spec"]["regions"]} <= deployments
    assert set(group["spec"]["services"]) <= services.keys()
    for region in kube_stack.REGIONS:
        own = services[f"tier0-api-{region}"]["spec"]["selector"]
        assert own["tier0.io/region"] == region
    assert services["tier0-api"]["spec"]["selector"]["tier0.io/region"] == "region1"
    assert {o["metadata"]["namespace"] for o in objects} == {"default"}


def test_rerun_keeps_the_live_region_of_the_group_service() -> None:
    demo = kube_objects.load_demo()
    objects = kube_objects.region_objects(
        demo, kube_stack.REGIONS, namespace="ns1", live_region="region2"
    )
    group_service = next(o for o in objects if o["metadata"]["name"] == "tier0-api")
    assert group_service["spec"]["selector"]["tier0.io/region"] == "region2"
    assert demo == kube_objects.load_demo()  # the input is left as it was


def test_region_services_from_the_demo_file_are_not_duplicated() -> None:
    demo = [*kube_objects.load_demo(), kube_objects.region_service("region1", "x")]
    objects = kube_objects.region_objects(demo, kube_stack.REGIONS, namespace="default")
    names = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(names) == len(set(names))


def test_kubernetes_ports_may_not_collide_with_the_data_plane(tmp_path: Path) -> None:
    from tier0_devenv.k8s.settings import K8sSettings

    settings = DevenvSettings(run_dir=tmp_path)
    kube_stack.check_ports(settings, LocalKubeSettings(), K8sSettings())
    with pytest.raises(DevenvError, match="TIER0_OPERATOR_METRICS_PORT"):
        kube_stack.check_ports(
            settings, LocalKubeSettings(operator_metrics_port=8000), K8sSettings()
        )
    with pytest.raises(DevenvError, match="TIER0_K8S_APISERVER_PORT"):
        kube_stack.check_ports(settings, LocalKubeSettings(), K8sSettings(apiserver_port=9201))


def test_skip_k8s_skips_the_kubernetes_components(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TIER0_SKIP_K8S", "1")
    assert kube_stack.kube_unavailable(DevenvSettings(run_dir=tmp_path)) == "TIER0_SKIP_K8S is set"
