"""Pure builders of what `make up` applies to the local control plane.

The chart installs, per region, an API Deployment and Service, plus the group Service
the operator repoints and a FailoverGroup. Locally the region APIs are processes on
127.0.0.1, so the Kubernetes side is the region Deployments and the group Service of
operator/examples/local-demo.yaml (kwok makes their pods Ready, so EndpointSlices
fill), the per-region Services the chart adds, and a FailoverGroup generated from the
devenv settings: its health and API URLs are the local region APIs and its canary is
the local Mosquitto, so moving a port with TIER0_*_PORT moves them too.
Nothing here talks to a server; kube_stack.py applies the result.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..settings import REPO_ROOT

Manifest = dict[str, Any]

CRD_DIR = REPO_ROOT / "charts" / "tier0" / "crds"
DEMO_MANIFEST = REPO_ROOT / "operator" / "examples" / "local-demo.yaml"
GROUP_SERVICE = "tier0-api"
REGION_LABEL = "tier0.io/region"
API_PORT = 8000
_SELECTOR = {"app.kubernetes.io/name": "tier0", "app.kubernetes.io/component": "api"}


def deployment_name(region: str) -> str:
    return f"{GROUP_SERVICE}-{region}"


def failover_group(
    api_urls: Mapping[str, str],
    *,
    namespace: str,
    mqtt_host: str,
    mqtt_port: int,
    initial_region: str = "region1",
    automatic: bool = False,
    canary: bool = False,
    freshness_budget_seconds: float | None = 30.0,
) -> Manifest:
    """The tier0-api FailoverGroup; ``api_urls`` maps each region to its API base URL.

    Health is /health/ready, as in the chart: it fails while the region's Redis or
    device index is missing, so the operator never fails over to a region that cannot
    serve. Policy values are the chart's defaults.
    """
    if initial_region not in api_urls:
        raise ValueError(f"initial region {initial_region!r} is not one of {sorted(api_urls)}")
    gates: dict[str, Any] = {
        "canary": {
            "enabled": canary,
            "mqttHost": mqtt_host,
            "mqttPort": mqtt_port,
            "timeoutSeconds": 5,
        }
    }
    if freshness_budget_seconds is not None:
        gates["freshnessBudgetSeconds"] = freshness_budget_seconds
    return {
        "apiVersion": "tier0.io/v1alpha1",
        "kind": "FailoverGroup",
        "metadata": {
            "name": GROUP_SERVICE,
            "namespace": namespace,
            "labels": {**_SELECTOR, "app.kubernetes.io/component": "failover"},
        },
        "spec": {
            "services": [GROUP_SERVICE],
            "regionLabel": REGION_LABEL,
            "initialRegion": initial_region,
            "regions": [
                {
                    "name": region,
                    "deployment": deployment_name(region),
                    "healthURL": f"{url.rstrip('/')}/health/ready",
                    "apiURL": url.rstrip("/"),
                }
                for region, url in api_urls.items()
            ],
            "policy": {
                "automatic": automatic,
                "probeIntervalSeconds": 5,
                "failureThreshold": 3,
                "successThreshold": 2,
                "stabilizationWindowSeconds": 30,
                "minDwellSeconds": 300,
                "maxTransitionsPerHour": 4,
                "autoFailback": {"enabled": False, "delaySeconds": 600},
            },
            "gates": gates,
        },
    }


def region_service(region: str, namespace: str) -> Manifest:
    """The per-region Service of the chart: always reaches its own region's pods."""
    labels = {**_SELECTOR, REGION_LABEL: region}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": deployment_name(region), "namespace": namespace, "labels": labels},
        "spec": {
            "selector": labels,
            "ports": [{"name": "http", "port": API_PORT, "targetPort": "http"}],
        },
    }


def load_demo(path: Path = DEMO_MANIFEST) -> list[Manifest]:
    """The objects of operator/examples/local-demo.yaml (its documents, in order)."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def region_objects(
    demo: Sequence[Manifest],
    regions: Sequence[str],
    *,
    namespace: str,
    live_region: str | None = None,
) -> list[Manifest]:
    """The demo objects plus any per-region Service the demo file lacks, in ``namespace``.

    ``live_region`` is where the group Service points now, if it exists: a re-run of
    `make up` after a failover must not move traffic back (the chart keeps the live
    selector on upgrade for the same reason).
    """
    objects = [copy.deepcopy(obj) for obj in demo]
    present = {(obj["kind"], obj["metadata"]["name"]) for obj in objects}
    objects += [
        region_service(region, namespace)
        for region in regions
        if ("Service", deployment_name(region)) not in present
    ]
    for obj in objects:
        obj["metadata"]["namespace"] = namespace
        if live_region and obj["kind"] == "Service" and obj["metadata"]["name"] == GROUP_SERVICE:
            obj["spec"]["selector"][REGION_LABEL] = live_region
    return objects


def as_list(objects: Sequence[Manifest]) -> Manifest:
    """One v1 List, so a single `kubectl apply -f -` applies everything."""
    return {"apiVersion": "v1", "kind": "List", "items": list(objects)}
