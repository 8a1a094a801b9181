"""The product on the node: build and import its images, then `helm install` the chart.

Images come from the images component (`python -m tier0_devenv.images build
--import-to SOCKET --out FILE`, see the contract in docs/kubernetes.md): it builds
every product image locally, imports it into our containerd, and writes a JSON map
from chart values paths ("image", "operator.image", ...) to repository/tag. That map
becomes a values file, layered over the chart's charts/tier0/ci/real-node-values.yaml
(small fleet, pullPolicy Never, StorageClass tier0-local, NodePorts).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..k8s.cluster import LocalCluster
from ..processes import DevenvError
from ..settings import REPO_ROOT
from .layout import NodeLayout

CHART_DIR = REPO_ROOT / "charts" / "tier0"
REAL_NODE_VALUES = CHART_DIR / "ci" / "real-node-values.yaml"


def images_manifest(layout: NodeLayout) -> Path:
    return layout.images_dir / "images.json"


def images_values(layout: NodeLayout) -> Path:
    return layout.images_dir / "images-values.json"


def nest(manifest: dict[str, Any]) -> dict[str, Any]:
    """{"operator.image": {...}} -> {"operator": {"image": {...}}} (a values file)."""
    values: dict[str, Any] = {}
    for path, value in manifest.items():
        node = values
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return values


def build_images(layout: NodeLayout) -> Path:
    """Build and import the product images; return the generated values file."""
    layout.images_dir.mkdir(parents=True, exist_ok=True)
    manifest = images_manifest(layout)
    argv = [
        sys.executable, "-m", "tier0_devenv.images", "build",
        "--import-to", str(layout.containerd_socket), "--out", str(manifest),
    ]  # fmt: skip
    # Its progress (stderr) goes straight to the terminal: a cold build takes minutes.
    # stdout repeats the manifest that --out writes.
    result = subprocess.run(argv, stdout=subprocess.DEVNULL)
    if result.returncode != 0:
        raise DevenvError(
            f"`{' '.join(argv[1:4])}` exited with {result.returncode} (its output above names "
            "the image that failed)"
        )
    values = nest(json.loads(manifest.read_text()))
    images_values(layout).write_text(json.dumps(values, indent=2) + "\n")
    return images_values(layout)


def install(layout: NodeLayout, cluster: LocalCluster, values: Path) -> None:
    settings = layout.settings
    if not REAL_NODE_VALUES.exists():
        raise DevenvError(f"{REAL_NODE_VALUES} missing: the chart has no real-node values yet")
    cluster.helm(
        "upgrade", "--install", settings.release, str(CHART_DIR),
        "--namespace", settings.namespace, "--create-namespace",
        "-f", str(REAL_NODE_VALUES), "-f", str(values),
        "--wait", "--timeout", f"{int(settings.timeout)}s",
        timeout=settings.timeout + 60,
    )  # fmt: skip


def node_ports(cluster: LocalCluster, namespace: str) -> list[tuple[str, str, int]]:
    """(service, port name, nodePort) of every NodePort Service in ``namespace``."""
    services = json.loads(cluster.kubectl("get", "services", "-n", namespace, "-o", "json"))
    found = []
    for svc in services["items"]:
        for port in svc["spec"].get("ports", []):
            if port.get("nodePort"):
                name = port.get("name") or str(port["port"])
                found.append((svc["metadata"]["name"], name, int(port["nodePort"])))
    return found
