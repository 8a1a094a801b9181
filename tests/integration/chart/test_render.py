"""`helm lint` and `helm template` of the chart with its default and ci/ values, and
checks that the rendered objects fit together (tests/integration/chart/checks.py).

Every scenario in charts/tier0/ci/ is linted and rendered, so a new scenario file is
tested without touching this module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.helm import CHART_DIR, Helm

from . import checks

pytestmark = pytest.mark.integration

SCENARIOS = sorted((CHART_DIR / "ci").glob("*-values.yaml"))
SCENARIO_IDS = ["default", *(p.name.removesuffix("-values.yaml") for p in SCENARIOS)]
SCENARIO_FILES: list[tuple[Path, ...]] = [(), *((p,) for p in SCENARIOS)]


def merge(base: Any, override: Any) -> Any:
    """Helm's coalescing: maps merge key by key, anything else (lists too) replaces."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {
            k: merge(base.get(k), override[k]) if k in override else base[k]
            for k in {**base, **override}
        }
    return override


def load_values(files: tuple[Path, ...]) -> dict[str, Any]:
    merged: dict[str, Any] = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    for path in files:
        merged = merge(merged, yaml.safe_load(path.read_text()) or {})
    return merged


@pytest.fixture(scope="module", params=SCENARIO_FILES, ids=SCENARIO_IDS)
def rendered(
    request: pytest.FixtureRequest, helm_cli: Helm
) -> tuple[list[checks.Obj], dict[str, Any]]:
    files: tuple[Path, ...] = request.param
    return helm_cli.template(files), load_values(files)


def test_ci_scenarios_exist() -> None:
    assert {"fake-node", "kind"} <= set(SCENARIO_IDS), SCENARIO_IDS


@pytest.mark.parametrize("files", SCENARIO_FILES, ids=SCENARIO_IDS)
def test_helm_lint_strict(helm_cli: Helm, files: tuple[Path, ...]) -> None:
    args = ["lint", str(CHART_DIR), "--strict"]
    for path in files:
        args += ["-f", str(path)]
    result = helm_cli.run(*args)
    assert "0 chart(s) failed" in result.stdout


def test_objects_fit_together(rendered: tuple[list[checks.Obj], dict[str, Any]]) -> None:
    objects, values = rendered
    problems = (
        checks.basic_shape(objects)
        + checks.selectors_match_templates(objects)
        + checks.services_select_pods(objects)
        + checks.probes_use_declared_ports(objects)
        + checks.label_values_are_valid(objects)
        + checks.root_filesystems_read_only(objects)
        + checks.tier0_containers_are_consistent(objects)
        + checks.tokens_only_where_bound(objects)
        + checks.secrets_hold_no_values_literals(objects, values)
    )
    assert problems == []


def test_every_region_gets_its_stack(rendered: tuple[list[checks.Obj], dict[str, Any]]) -> None:
    objects, values = rendered
    for region in (r["name"] for r in values["regions"]):
        api = checks.by_name(objects, "Deployment", f"tier0-api-{region}")
        labels = api["spec"]["template"]["metadata"]["labels"]
        assert labels[values["regionLabel"]] == region
        env = {e["name"]: e for e in api["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["REGION"]["value"] == region
        assert env["REDIS_HOST"]["value"] == f"tier0-redis-{region}"
        probes = api["spec"]["template"]["spec"]["containers"][0]
        assert probes["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert probes["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert probes["startupProbe"]["httpGet"]["path"] == "/health/live"
        redis = checks.by_name(objects, "StatefulSet", f"tier0-redis-{region}")
        assert redis["spec"]["template"]["spec"]["containers"][0]["image"].startswith("redis:8")
        assert (
            checks.by_name(objects, "Service", f"tier0-redis-{region}")["spec"]["clusterIP"]
            == "None"
        )
        checks.by_name(objects, "Service", f"tier0-api-{region}")
        if values["ingest"]["mqtt"]["enabled"]:
            mqtt = checks.by_name(objects, "Deployment", f"tier0-ingest-mqtt-{region}")
            env = {
                e["name"]: e.get("value")
                for e in mqtt["spec"]["template"]["spec"]["containers"][0]["env"]
            }
            assert env["MQTT_SHARE_GROUP"].endswith(region)
            assert mqtt["spec"]["replicas"] == values["ingest"]["mqtt"]["replicas"]


def test_api_drains_within_its_grace_period(
    rendered: tuple[list[checks.Obj], dict[str, Any]],
) -> None:
    """SIGTERM drains, then in-flight requests finish; the kill must come after both."""
    objects, values = rendered
    shutdown = values["api"]["shutdown"]
    for region in (r["name"] for r in values["regions"]):
        spec = checks.by_name(objects, "Deployment", f"tier0-api-{region}")["spec"]["template"][
            "spec"
        ]
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        assert float(env["SHUTDOWN_DRAIN_SECONDS"]) == shutdown["drainSeconds"]
        assert float(env["SHUTDOWN_TIMEOUT_SECONDS"]) == shutdown["timeoutSeconds"]
        assert float(env["CONNECTION_MAX_AGE_SECONDS"]) == values["api"]["connectionMaxAgeSeconds"]
        assert spec["terminationGracePeriodSeconds"] > (
            shutdown["drainSeconds"] + shutdown["timeoutSeconds"]
        )


def test_group_service_starts_on_the_initial_region(
    rendered: tuple[list[checks.Obj], dict[str, Any]],
) -> None:
    objects, values = rendered
    group = checks.by_name(objects, "Service", "tier0-api")
    assert group["spec"]["selector"][values["regionLabel"]] == values["failover"]["initialRegion"]
    assert group["spec"]["selector"]["app.kubernetes.io/component"] == "api"


def test_persistence_switch(rendered: tuple[list[checks.Obj], dict[str, Any]]) -> None:
    objects, values = rendered
    for sts in checks.of_kind(objects, "StatefulSet"):
        component = sts["metadata"]["labels"]["app.kubernetes.io/component"]
        persistent = values[component]["persistence"]["enabled"]
        volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"].get("volumes", [])}
        if persistent:
            assert [c["metadata"]["name"] for c in sts["spec"]["volumeClaimTemplates"]] == ["data"]
            assert "data" not in volumes
        else:
            assert "volumeClaimTemplates" not in sts["spec"]
            assert volumes["data"] == {"name": "data", "emptyDir": {}}


def test_iot_simulator_is_an_indexed_job(rendered: tuple[list[checks.Obj], dict[str, Any]]) -> None:
    objects, values = rendered
    jobs = [j for j in checks.of_kind(objects, "Job") if "-sim-iot-" in j["metadata"]["name"]]
    if not values["simulators"]["iot"]["enabled"]:
        assert jobs == []
        return
    (job,) = jobs
    shards = values["simulators"]["iot"]["shards"]
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["parallelism"] == job["spec"]["completions"] == shards
    env = {e["name"]: e for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["SHARD_COUNT"]["value"] == str(shards)
    assert "job-completion-index" in env["SHARD_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"]


def test_failover_group_matches_its_crd(rendered: tuple[list[checks.Obj], dict[str, Any]]) -> None:
    objects, values = rendered
    groups = checks.of_kind(objects, "FailoverGroup")
    if not values["failover"]["enabled"]:
        assert groups == []
        return
    (group,) = groups
    crd = yaml.safe_load((CHART_DIR / "crds" / "failovergroups.tier0.io.yaml").read_text())
    version = next(
        v for v in crd["spec"]["versions"] if v["name"] == group["apiVersion"].split("/")[1]
    )
    schema = version["schema"]["openAPIV3Schema"]
    assert checks.unknown_fields(group, schema) == []
    spec = group["spec"]
    assert spec["services"] == ["tier0-api"]
    assert [r["name"] for r in spec["regions"]] == [r["name"] for r in values["regions"]]
    for region in spec["regions"]:
        checks.by_name(objects, "Deployment", region["deployment"])
        assert region["healthURL"] == f"http://tier0-api-{region['name']}:8000/health/ready"
    checks.by_name(objects, "Service", spec["gates"]["canary"]["mqttHost"])


def test_dashboards_are_grafana_json(rendered: tuple[list[checks.Obj], dict[str, Any]]) -> None:
    objects, values = rendered
    maps = [
        c for c in checks.of_kind(objects, "ConfigMap") if "-dashboard-" in c["metadata"]["name"]
    ]
    if not values["dashboards"]["enabled"]:
        assert maps == []
        return
    assert len(maps) == len(list((CHART_DIR / "dashboards").glob("*.json"))) == 3
    uids = set()
    for cm in maps:
        assert (
            cm["metadata"]["labels"][values["dashboards"]["label"]]
            == values["dashboards"]["labelValue"]
        )
        ((filename, text),) = cm["data"].items()
        dashboard = json.loads(text)
        uids.add(dashboard["uid"])
        exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
        assert exprs and all("tier0_" in e for e in exprs), filename
    assert len(uids) == len(maps)


def test_job_names_follow_their_spec(helm_cli: Helm) -> None:
    """A Job's template is immutable: a new image must give a new Job name."""

    def job_names(tag: str) -> set[str]:
        return {
            j["metadata"]["name"]
            for j in checks.of_kind(helm_cli.template(set_values=[f"image.tag={tag}"]), "Job")
        }

    assert job_names("a") == job_names("a")
    assert job_names("a").isdisjoint(job_names("b"))


def test_checks_catch_broken_manifests(helm_cli: Helm) -> None:
    """The checks above can fail: each one flags a deliberately broken object."""
    objects = helm_cli.template()
    api = checks.by_name(objects, "Deployment", "tier0-api-region1")
    api["spec"]["selector"]["matchLabels"]["extra"] = "x"
    checks.by_name(objects, "Service", "tier0-mosquitto")["spec"]["selector"][
        "app.kubernetes.io/component"
    ] = "nope"
    api["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "REDIS_URL", "value": "x"}
    )
    api["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = "web"
    ingest = checks.by_name(objects, "Deployment", "tier0-ingest-mqtt-region1")
    del ingest["spec"]["template"]["spec"]["automountServiceAccountToken"]
    ingest["metadata"]["labels"]["app.kubernetes.io/version"] = "v1@sha256:abc"
    broker = checks.by_name(objects, "StatefulSet", "tier0-rabbitmq")
    del broker["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert checks.label_values_are_valid(objects) == [
        "Deployment/tier0-ingest-mqtt-region1: label "
        "app.kubernetes.io/version='v1@sha256:abc' is not a valid value"
    ]
    assert checks.root_filesystems_read_only(objects) == [
        "StatefulSet/tier0-rabbitmq: container rabbitmq has a writable root filesystem"
    ]
    assert checks.selectors_match_templates(objects)
    assert checks.tokens_only_where_bound(objects) == [
        "Deployment/tier0-ingest-mqtt-region1: mounts the token of unbound account tier0"
    ]
    assert checks.services_select_pods(objects)
    assert checks.tier0_containers_are_consistent(objects)
    assert checks.probes_use_declared_ports(objects)
    leaked = checks.secrets_hold_no_values_literals(
        objects, {"x": checks.secret_values(objects)["tier0-rabbitmq/password"]}
    )
    assert leaked
    group = checks.of_kind(objects, "FailoverGroup")[0]
    group["spec"]["regions"][0]["healthUrl"] = group["spec"]["regions"][0].pop("healthURL")
    crd = yaml.safe_load((CHART_DIR / "crds" / "failovergroups.tier0.io.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert checks.unknown_fields(group, schema) == [".spec.regions[0].healthUrl"]
