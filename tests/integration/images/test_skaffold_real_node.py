"""skaffold (built from its Go module) builds every image of the `real-node` profile
through tier0_devenv.images and imports them into a containerd; `skaffold render`
puts the references skaffold will deploy into the chart.

No cluster is involved: `skaffold run`/`dev` against the real node add only the helm
install of what is checked here (docs/kubernetes.md says what was and was not run).
The skaffold binary is built once (~10+ minutes cold, then cached by
devenv/images/skaffold/build.sh); the image cache is used as it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tier0_devenv.images.containerd import image_refs, throwaway_containerd
from tier0_devenv.images.specs import SPECS

from .test_local_images import require_tools

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[3]


def images_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tier0_devenv.images", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )


def test_skaffold_builds_imports_and_renders_the_real_node_profile(tmp_path: Path) -> None:
    require_tools()
    builds_file = tmp_path / "builds.json"
    with throwaway_containerd() as socket:
        built = images_cli(
            "skaffold", "build", "-p", "real-node", "--file-output", str(builds_file),
            env={"TIER0_IMAGES_IMPORT_TO": str(socket)},
        )  # fmt: skip
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        refs = image_refs(socket)
    builds = json.loads(builds_file.read_text())["builds"]
    assert {b["imageName"] for b in builds} == {s.repository for s in SPECS if s.values_key}
    # What skaffold deploys (<repository>:<image id>) is in containerd under that name.
    assert {b["tag"] for b in builds} <= refs, (builds, refs)

    rendered = images_cli(
        "skaffold", "render", "-p", "real-node", "--offline=true", "--digest-source=tag",
        "--build-artifacts", str(builds_file), env={},
    )  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    images = {
        container["image"]
        for doc in yaml.safe_load_all(rendered.stdout)
        if doc and doc.get("kind") in ("Deployment", "StatefulSet", "Job")
        for container in doc["spec"]["template"]["spec"]["containers"]
    }
    assert images and images <= {b["tag"] for b in builds}, images
