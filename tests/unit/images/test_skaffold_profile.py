"""skaffold.yaml's `real-node` profile agrees with tier0_devenv.images.

skaffold itself runs in tests/integration/images; these check what can drift without
it: every product image is a custom artifact built by the repo's step, its file
dependencies exist, and the chart values it sets are the manifest's keys, filled from
the template variables skaffold derives from each artifact's name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from tier0_devenv.images import __main__ as cli
from tier0_devenv.images.progress import ImageBuildError
from tier0_devenv.images.settings import ImagesSettings
from tier0_devenv.images.skaffold import custom_build
from tier0_devenv.images.specs import SPECS

REPO_ROOT = Path(__file__).resolve().parents[3]
SKAFFOLD = yaml.safe_load((REPO_ROOT / "skaffold.yaml").read_text())


def profile_patch(path: str) -> dict | list:
    (profile,) = [p for p in SKAFFOLD["profiles"] if p["name"] == "real-node"]
    (patch,) = [p for p in profile["patches"] if p["path"] == path and p["op"] != "remove"]
    return patch["value"]


def template_name(image: str) -> str:
    """skaffold's SanitizeHelmTemplateValue: '.', '-', '/', ':' become '_'."""
    return re.sub(r"[.\-/:]", "_", image)


def test_every_product_image_is_a_custom_artifact_of_the_repo_step() -> None:
    build = profile_patch("/build")
    assert isinstance(build, dict) and build["local"]["push"] is False
    images = {a["image"]: a for a in build["artifacts"]}
    assert set(images) == {s.repository for s in SPECS if s.values_key}
    for artifact in images.values():
        command = REPO_ROOT / artifact["custom"]["buildCommand"]
        assert command.is_file() and os.access(command, os.X_OK)
        for rel in artifact["custom"]["dependencies"]["paths"]:
            assert (REPO_ROOT / rel).exists(), rel


def test_values_it_sets_are_the_manifest_keys() -> None:
    templates = profile_patch("/deploy/helm/releases/0/setValueTemplates")
    assert isinstance(templates, dict)
    for spec in SPECS:
        if spec.values_key is None:
            continue
        name = template_name(spec.repository)
        assert templates[f"{spec.values_key}.repository"] == f"{{{{.IMAGE_REPO_{name}}}}}"
        assert templates[f"{spec.values_key}.tag"] == f"{{{{.IMAGE_TAG_{name}}}}}"
    assert profile_patch("/deploy/helm/releases/0/valuesFiles") == [
        "charts/tier0/ci/real-node-values.yaml"
    ]


def test_custom_build_outside_the_wrapper_says_how_to_run_it(tmp_path: Path) -> None:
    settings = ImagesSettings(cache_dir=tmp_path)
    with pytest.raises(ImageBuildError, match="python -m tier0_devenv.images skaffold"):
        custom_build(settings, "docker.io/tier0/tier0:x", None, lambda line: None)


def test_skaffold_build_step_needs_image(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMAGE", raising=False)
    assert cli.main(["skaffold-build"]) == 2
