"""Build every product image locally, cache them by inputs, import them into containerd.

The order of work: compute every image's tag from its inputs (specs.py); if each has
its `docker save` archive in the cache, no daemon is started at all (the warm path);
otherwise start the private dockerd, make sure the debootstrap base is imported,
build what is missing in dependency order, and save each new image to its archive.
With a containerd socket, archives whose image that containerd lacks are imported.
The result maps chart values paths to repository and tag (CONTRACT.md), e.g.
``{"image": {"repository": "docker.io/tier0/tier0", "tag": "3f0c..."}}``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..settings import REPO_ROOT
from . import base, containerd, wheels
from .docker import PrivateDocker, build_lock, private_docker
from .progress import ImageBuildError, Progress, step
from .settings import ImagesSettings
from .specs import (
    BASE,
    REGISTRY_PREFIX,
    SPECS,
    ImageSpec,
    context_files,
    context_tar,
    image_key,
    tag_of,
)
from .specs import select as select_specs

Manifest = dict[str, dict[str, str]]
#: Archives kept per image: the most recently used ones (builds of other checkouts
#: sharing the cache count as uses).
KEEP_PER_IMAGE = 3
BASE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["bash"]',
)


@dataclass(frozen=True)
class PlannedImage:
    spec: ImageSpec
    tag: str
    files: dict[str, tuple[bytes, int]]

    @property
    def ref(self) -> str:
        return f"{self.spec.repository}:{self.tag}"

    def archive(self, settings: ImagesSettings) -> Path:
        return settings.cache / "archives" / self.spec.name / f"{self.tag}.tar"


@dataclass(frozen=True)
class Plan:
    base_tag: str
    images: list[PlannedImage]

    @property
    def base_ref(self) -> str:
        return f"{REGISTRY_PREFIX}/{BASE}:{self.base_tag}"

    def ref_of(self, name: str) -> str:
        if name == BASE:
            return self.base_ref
        return next(p.ref for p in self.images if p.spec.name == name)


def plan(
    settings: ImagesSettings,
    names: Iterable[str] | None = None,
    *,
    specs: Sequence[ImageSpec] = SPECS,
    root: Path = REPO_ROOT,
) -> Plan:
    """Every selected image (parents included) with its tag; reads files, builds nothing.

    ``specs`` and ``root`` default to the repo's images; tests pass others.
    """
    base_tag = tag_of(base.base_key(settings))
    tags: dict[str, str] = {BASE: base_tag}
    planned: list[PlannedImage] = []
    for spec in select_specs(names, specs):
        files = context_files(spec, root)
        tag = tag_of(image_key(spec, files, tags))
        tags[spec.name] = tag
        planned.append(PlannedImage(spec, tag, files))
    return Plan(base_tag, planned)


def manifest_of(planned: Iterable[PlannedImage]) -> Manifest:
    return {
        p.spec.values_key: {"repository": p.spec.repository, "tag": p.tag}
        for p in planned
        if p.spec.values_key is not None
    }


def image_sizes(settings: ImagesSettings, planned: Iterable[PlannedImage]) -> dict[str, int]:
    """Image name -> bytes (docker's uncompressed size, recorded when it was built)."""
    sizes = {}
    for p in planned:
        try:
            sizes[p.spec.name] = int(json.loads(_meta_path(p, settings).read_text())["size"])
        except (OSError, ValueError, KeyError):
            continue
    return sizes


def _meta_path(p: PlannedImage, settings: ImagesSettings) -> Path:
    return p.archive(settings).with_suffix(".json")


def build_all(
    settings: ImagesSettings | None = None,
    *,
    names: Iterable[str] | None = None,
    import_to: Path | None = None,
    out: Path | None = None,
    smoke: bool = False,
    progress: Progress = print,
    specs: Sequence[ImageSpec] = SPECS,
    root: Path = REPO_ROOT,
) -> Manifest:
    """Build (or find cached) the selected images, optionally import and smoke-test them.

    ``names``: image names (specs.SPECS) to build with their parents; None = all.
    ``import_to``: a containerd socket; missing images are imported into ns k8s.io.
    ``out``: write the manifest there as JSON. ``smoke``: run each image's self-check
    command (no network) in the private dockerd. Raises ImageBuildError naming the
    failed step; the private dockerd is stopped either way.
    """
    settings = settings or ImagesSettings()
    started = time.monotonic()
    with step(progress, "compute image tags from inputs"):
        the_plan = plan(settings, names, specs=specs, root=root)
    # What to import and report: the named images, or else every product image (the
    # internal python parent is built and checked but not imported).
    chosen = set(names) if names is not None else None
    wanted = [
        p
        for p in the_plan.images
        if (p.spec.name in chosen if chosen is not None else p.spec.values_key is not None)
    ]
    missing = [p for p in the_plan.images if not p.archive(settings).is_file()]
    for p in the_plan.images:
        if p not in missing:
            os.utime(p.archive(settings))  # used now: kept by _keep_recent
        state = "to build" if p in missing else "cached"
        progress(f"{p.spec.name}: {p.ref} ({state})")
    if missing or smoke:
        with build_lock(settings), private_docker(settings, progress) as docker:
            _build_missing(settings, docker, the_plan, missing, progress)
            if smoke:
                for p in the_plan.images:
                    _smoke(settings, docker, the_plan, p, progress)
    if import_to is not None:
        _import(import_to, settings, wanted, progress)
    manifest = manifest_of(wanted)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        progress(f"manifest written to {out}")
    sizes = image_sizes(settings, wanted)
    for p in wanted:
        size = f"{sizes[p.spec.name] / 1e6:.0f} MB" if p.spec.name in sizes else "size unknown"
        progress(f"{p.spec.name}: {p.ref} {size}")
    progress(f"images ready ({time.monotonic() - started:.1f}s)")
    return manifest


def _ensure_present(
    settings: ImagesSettings, docker: PrivateDocker, the_plan: Plan, name: str, progress: Progress
) -> None:
    """A parent image inside dockerd: the imported base, or loaded from its archive."""
    ref = the_plan.ref_of(name)
    if docker.has_image(ref):
        return
    if name == BASE:
        tarball = base.ensure_base_tarball(settings, progress)
        with step(progress, f"import base rootfs as {ref}"):
            docker.import_rootfs(tarball, ref, BASE_CHANGES)
        return
    p = next(p for p in the_plan.images if p.spec.name == name)
    with step(progress, f"load {p.archive(settings).name} into dockerd"):
        docker.load(p.archive(settings))


def _build_missing(
    settings: ImagesSettings,
    docker: PrivateDocker,
    the_plan: Plan,
    missing: list[PlannedImage],
    progress: Progress,
) -> None:
    wheelhouse = settings.cache / "wheels"
    for p in missing:
        p.archive(settings).parent.mkdir(parents=True, exist_ok=True)
        for parent in p.spec.parents.values():
            _ensure_present(settings, docker, the_plan, parent, progress)
        build_args = {arg: the_plan.ref_of(name) for arg, name in p.spec.parents.items()}
        log = settings.cache / "logs" / f"{p.spec.name}.log"
        log.unlink(missing_ok=True)
        started = time.monotonic()
        if not docker.has_image(p.ref):
            for lock in p.spec.locks:
                copy = settings.cache / "locks" / f"{p.spec.name}-{Path(lock).name}"
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_bytes(p.files[lock][0])
                wheels.download(copy, wheelhouse, progress)
            with (
                wheels.serve(wheelhouse) as url,
                step(progress, f"build {p.spec.name} (log: {log})"),
            ):
                if p.spec.locks:
                    build_args |= {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": url}
                docker.build(
                    p.ref,
                    context_tar(p.files),
                    p.spec.dockerfile,
                    target=p.spec.target,
                    build_args=build_args,
                    log=log,
                )
        with step(progress, f"save {p.spec.name} to {p.archive(settings).name}"):
            docker.save([p.ref], p.archive(settings))
            size = docker.image_size(p.ref)
            _meta_path(p, settings).write_text(
                json.dumps({"size": size, "seconds": round(time.monotonic() - started, 1)})
            )
            _keep_recent(settings, docker, p)


def _keep_recent(settings: ImagesSettings, docker: PrivateDocker, p: PlannedImage) -> None:
    """Keep the most recently used archives (and dockerd tags) of this image, drop the
    rest. Several checkouts share the cache (each with its own tree, so its own tags):
    keeping only the newest would make them delete each other's images."""
    archives = sorted(
        p.archive(settings).parent.glob("*.tar"), key=lambda a: a.stat().st_mtime, reverse=True
    )
    for old in archives[KEEP_PER_IMAGE:]:
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)
    docker.remove_tags_except(p.spec.repository, {a.stem for a in archives[:KEEP_PER_IMAGE]})


def _smoke(
    settings: ImagesSettings,
    docker: PrivateDocker,
    the_plan: Plan,
    p: PlannedImage,
    progress: Progress,
) -> None:
    argv, expected = p.spec.smoke
    if not argv:
        return
    _ensure_present(settings, docker, the_plan, p.spec.name, progress)
    with step(progress, f"check {p.spec.name}: {' '.join(argv)}"):
        output = docker.run_smoke(p.ref, argv, p.spec.smoke_flags)
        if expected not in output:
            raise ImageBuildError(
                f"check of {p.ref}: {' '.join(argv)} printed no {expected!r}:\n{output[-2000:]}"
            )


def _import(
    socket: Path, settings: ImagesSettings, wanted: list[PlannedImage], progress: Progress
) -> None:
    present = containerd.image_refs(socket)
    for p in wanted:
        if p.ref in present:
            progress(f"{p.spec.name}: already in containerd at {socket}")
            continue
        with step(progress, f"import {p.spec.name} into containerd at {socket}"):
            containerd.import_archive(socket, p.archive(settings))
