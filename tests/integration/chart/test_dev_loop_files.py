"""skaffold.yaml, kind-config.yaml and the Dockerfile agree with the chart.

No skaffold, kind or Docker engine runs here, so these check what can drift: the
names skaffold forwards to are Services the chart renders, the host ports are the
seed's, kind maps the NodePorts the kind scenario uses, and the image's entrypoints
and user are the ones the chart runs.
"""

from __future__ import annotations

import pytest
import yaml

from tests.support.helm import CHART_DIR, REPO_ROOT, Helm

from . import checks

pytestmark = pytest.mark.integration

SKAFFOLD = yaml.safe_load((REPO_ROOT / "skaffold.yaml").read_text())
KIND = yaml.safe_load((REPO_ROOT / "kind-config.yaml").read_text())


def tier0_release() -> dict:
    return next(r for r in SKAFFOLD["deploy"]["helm"]["releases"] if r["name"] == "tier0")


def test_skaffold_deploys_the_chart_with_the_built_image() -> None:
    release = tier0_release()
    assert (REPO_ROOT / release["chartPath"]).resolve() == CHART_DIR
    (artifact,) = SKAFFOLD["build"]["artifacts"]
    assert artifact["image"] == "tier0"
    assert (REPO_ROOT / artifact["docker"]["dockerfile"]).is_file()
    assert release["setValueTemplates"] == {
        "image.repository": "{{.IMAGE_REPO_tier0}}",
        "image.tag": "{{.IMAGE_TAG_tier0}}",
    }


def test_port_forwards_point_at_rendered_services(helm_cli: Helm) -> None:
    release = tier0_release()
    sets = [f"{k}={v}" for k, v in release["setValues"].items()]
    objects = helm_cli.template(
        set_values=sets, release=release["name"], namespace=release["namespace"]
    )
    services = {s["metadata"]["name"]: s for s in checks.of_kind(objects, "Service")}
    forwards = {f["localPort"]: f for f in SKAFFOLD["portForward"]}
    assert {8000, 8100, 3000} <= set(forwards)
    for local, region in ((8000, "region1"), (8100, "region2")):
        forward = forwards[local]
        service = services[forward["resourceName"]]
        assert service["spec"]["selector"]["tier0.io/region"] == region
        assert forward["port"] in [p["port"] for p in service["spec"]["ports"]]
        assert forward["namespace"] == release["namespace"]


def test_kind_maps_the_kind_scenario_node_ports(helm_cli: Helm) -> None:
    objects = helm_cli.template([CHART_DIR / "ci" / "kind-values.yaml"])
    node_ports = {
        p["nodePort"]
        for s in checks.of_kind(objects, "Service")
        if s["spec"].get("type") == "NodePort"
        for p in s["spec"]["ports"]
    }
    roles = [n["role"] for n in KIND["nodes"]]
    assert roles.count("control-plane") == 1 and roles.count("worker") >= 1
    mapped = {m["containerPort"] for n in KIND["nodes"] for m in n.get("extraPortMappings", [])}
    assert node_ports and node_ports <= mapped
    host_ports = {m["hostPort"] for n in KIND["nodes"] for m in n.get("extraPortMappings", [])}
    assert host_ports.isdisjoint(f["localPort"] for f in SKAFFOLD["portForward"])


def test_dockerfile_matches_what_the_chart_runs() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "ARG BASE_IMAGE=python:3.11-slim" in dockerfile
    assert "PYTHONPATH=/app/services:/app/simulators:/app/operator" in dockerfile
    assert "USER 10001:10001" in dockerfile  # the chart's runAsUser
    for folder in ("services", "simulators", "operator"):
        assert f"COPY {folder}/ {folder}/" in dockerfile
        assert (REPO_ROOT / folder).is_dir()
    ignore = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") + 1 :][:4] == [
        "!requirements.txt",
        "!services/",
        "!simulators/",
        "!operator/",
    ]


def test_every_chart_entrypoint_runs_from_the_image_folders() -> None:
    """`python -m X` works for each command the chart gives (X/__main__.py exists)."""
    roots = [REPO_ROOT / "services", REPO_ROOT / "simulators", REPO_ROOT / "operator"]
    missing = [
        module
        for module in sorted(checks.TIER0_MODULES)
        if not any((root / module.replace(".", "/") / "__main__.py").is_file() for root in roots)
    ]
    assert missing == []
