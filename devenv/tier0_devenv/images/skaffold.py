"""skaffold against the registry-free node: a custom build step and the run wrapper.

skaffold's local builder (push: false) insists on a Docker daemon: it checks the daemon
answers, reads the built image's ID from it, and deploys `<repository>:<image id>`.
So `python -m tier0_devenv.images skaffold ARGS...` keeps the private dockerd running
for the whole skaffold session and hands its socket down; skaffold's custom build step
(`devenv/images/skaffold-build.sh`, profile `real-node` of skaffold.yaml) then builds
the artifact with build_all in that daemon, tags it with skaffold's name, and imports
it into the node's containerd under both names skaffold may deploy.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..k8s.binaries import bin_dir as k8s_bin_dir
from ..settings import REPO_ROOT
from . import containerd
from .build import build_all, plan
from .docker import build_lock, private_docker
from .progress import ImageBuildError, Progress, run
from .settings import ImagesSettings

SKAFFOLD_BUILD = REPO_ROOT / "devenv" / "images" / "skaffold" / "build.sh"
#: skaffold's global config for these sessions: no metrics export, no update check,
#: no survey prompt (each would call out to the internet).
GLOBAL_CONFIG = """global:
  collect-metrics: false
  update-check: false
  survey:
    disable-prompt: true
kubeContexts: []
"""


def skaffold_binary() -> Path:
    """The skaffold built from its Go module (built first when missing, ~10 min cold)."""
    return Path(run([SKAFFOLD_BUILD], "build skaffold", timeout=3600).strip().splitlines()[-1])


def custom_build(
    settings: ImagesSettings, image: str, import_to: Path | None, progress: Progress
) -> str:
    """skaffold's custom build step for artifact ``image`` (repository:tag).

    Returns the reference skaffold will deploy: ``<repository>:<image id hex>``.
    """
    if not settings.docker_host:
        raise ImageBuildError(
            "no TIER0_IMAGES_DOCKER_HOST: run skaffold as `python -m tier0_devenv.images "
            "skaffold ...`, which starts the dockerd it needs"
        )
    repository = image.rpartition(":")[0]
    name = repository.rsplit("/", 1)[-1]
    manifest = build_all(settings, names=[name], import_to=import_to, progress=progress)
    built = next(f"{v['repository']}:{v['tag']}" for v in manifest.values())
    archive = next(
        p.archive(settings) for p in plan(settings, [name]).images if p.spec.name == name
    )
    with private_docker(settings, progress) as docker:
        if not docker.has_image(built):
            docker.load(archive)
        docker.docker("tag", built, image, what=f"docker tag {built} {image}")
        image_id = docker.docker(
            "image", "inspect", "--format", "{{.Id}}", image, what=f"inspect {image}"
        ).strip()
    deployed = f"{repository}:{image_id.removeprefix('sha256:')}"
    if import_to is not None:
        for alias in (image, deployed):
            containerd.ctr(
                import_to, "images", "tag", "--force", built, alias, what=f"ctr tag {alias}"
            )
    progress(f"{image}: built as {built}; skaffold deploys {deployed}")
    return deployed


def run_skaffold(settings: ImagesSettings, args: Sequence[str], progress: Progress) -> int:
    """Run skaffold with a private dockerd up for its whole session; its exit code."""
    binary = skaffold_binary()
    with build_lock(settings), private_docker(settings, progress) as docker:
        config = docker.state / "skaffold-global.yaml"
        config.write_text(GLOBAL_CONFIG)
        env = {
            **docker.env(),
            "TIER0_IMAGES_DOCKER_HOST": f"unix://{docker.socket}",
            "SKAFFOLD_CONFIG": str(config),
            "SKAFFOLD_UPDATE_CHECK": "false",
            "SKAFFOLD_INTERACTIVE": "false",
            # skaffold's own artifact cache would skip the build step, and with it the
            # import into a containerd that lacks the image (a re-created node);
            # tier0_devenv.images' cache already makes an unchanged build cheap.
            "SKAFFOLD_CACHE_ARTIFACTS": "false",
            "SKAFFOLD_CACHE_FILE": str(docker.state / "skaffold-cache.yaml"),
            # helm and kubectl of the local control-plane build.
            "PATH": f"{k8s_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        progress(f"skaffold {' '.join(args)} (dockerd at {docker.socket})")
        return subprocess.run([str(binary), *args], env=env, cwd=REPO_ROOT, check=False).returncode
