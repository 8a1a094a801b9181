"""The base image's root filesystem: `debootstrap --variant=minbase`, made small.

No image registry is reachable, but Debian's apt mirror is, so every image starts
from a Debian 12 root filesystem bootstrapped here and imported into the private
dockerd (`docker import`). The tarball is cached by its inputs (suite, mirror, the
apt sources put into the image, and the trimming recipe below): a change to any of
them makes a new key, an unchanged machine bootstraps once (about a minute cold).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .docker import require
from .progress import ImageBuildError, Progress, run, step
from .settings import ImagesSettings

VARIANT = "minbase"
#: Like the official Debian images: no docs, man pages or translations in layers,
#: no recommended packages, no services started by package scripts during builds.
DPKG_EXCLUDES = (
    "path-exclude /usr/share/doc/*",
    "path-include /usr/share/doc/*/copyright",
    "path-exclude /usr/share/man/*",
    "path-exclude /usr/share/info/*",
    "path-exclude /usr/share/locale/*",
    "path-include /usr/share/locale/locale.alias",
    "path-exclude /usr/share/lintian/*",
)
APT_CONF = (
    'APT::Install-Recommends "false";',
    'APT::Install-Suggests "false";',
    'Acquire::Languages "none";',
    # Downloaded .deb files and apt's binary caches never stay in a layer.
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb'
    ' /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'Dir::Cache::pkgcache "";',
    'Dir::Cache::srcpkgcache "";',
)
POLICY_RC = "#!/bin/sh\n# Services are never started while an image is built.\nexit 101\n"
#: Emptied after bootstrap: caches and logs that only add bytes to every layer.
TRIM = (
    "var/cache/apt",
    "var/lib/apt/lists",
    "var/log",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
)
#: Kept inside the trimmed folders (as DPKG_EXCLUDES keeps them for later packages).
TRIM_KEEP = frozenset({"locale.alias"})


@dataclass(frozen=True)
class AptSources:
    text: str
    mirror: str


def read_apt_sources(path: Path, suite: str) -> AptSources:
    """The sources file (deb822 or one-line format) and the mirror serving ``suite``."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ImageBuildError(
            f"apt sources {path} not readable ({exc}); set TIER0_IMAGES_APT_SOURCES"
        ) from exc
    if path.suffix == ".sources":
        for stanza in text.split("\n\n"):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line and not line.startswith("#") and ":" in line:
                    key, value = line.split(":", 1)
                    fields[key.strip().lower()] = value.strip()
            if suite in fields.get("suites", "").split() and fields.get("uris"):
                return AptSources(text, fields["uris"].split()[0])
    else:
        for line in text.splitlines():
            parts = [p for p in line.split() if not p.startswith("[")]
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == suite:
                return AptSources(text, parts[1])
    raise ImageBuildError(f"no apt source for suite {suite!r} in {path}")


def base_key(settings: ImagesSettings) -> str:
    """Hash of everything the base tarball is made from."""
    sources = read_apt_sources(settings.apt_sources, settings.suite)
    recipe = {
        "suite": settings.suite,
        "variant": VARIANT,
        "mirror": sources.mirror,
        "sources_name": settings.apt_sources.name,
        "sources": sources.text,
        "dpkg_excludes": DPKG_EXCLUDES,
        "apt_conf": APT_CONF,
        "policy_rc": POLICY_RC,
        "trim": TRIM,
        "trim_keep": sorted(TRIM_KEEP),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def ensure_base_tarball(settings: ImagesSettings, progress: Progress) -> Path:
    """The cached rootfs tarball, bootstrapped first when it is not there."""
    key = base_key(settings)
    out = settings.cache / "base" / f"{settings.suite}-{key[:16]}.tar"
    if out.is_file():
        progress(f"base rootfs: cached {out.name}")
        return out
    debootstrap = require("debootstrap", "debootstrap")
    sources = read_apt_sources(settings.apt_sources, settings.suite)
    work = out.parent / f"rootfs-{os.getpid()}"
    try:
        with step(progress, f"base rootfs: debootstrap --variant={VARIANT} {settings.suite}"):
            _remove_tree(work)
            work.mkdir(parents=True)
            run(
                [debootstrap, f"--variant={VARIANT}", settings.suite, work, sources.mirror],
                "debootstrap",
                log=out.parent / "debootstrap.log",
                timeout=1800,
            )
        with step(progress, "base rootfs: trim and tar"):
            _trim(work, settings, sources)
            partial = out.with_suffix(".partial")
            run(
                [
                    "tar",
                    "--numeric-owner",
                    "-C",
                    work,
                    "-cf",
                    partial,
                    "--exclude=./dev/*",
                    "--exclude=./proc/*",
                    "--exclude=./sys/*",
                    "--exclude=./run/*",
                    ".",
                ],
                "tar the base rootfs",
            )
            partial.rename(out)
            # Tarballs of other inputs are never used again.
            for old in out.parent.glob(f"{settings.suite}-*.tar"):
                if old != out:
                    old.unlink()
    finally:
        _remove_tree(work)
    return out


def _trim(root: Path, settings: ImagesSettings, sources: AptSources) -> None:
    (root / "etc/dpkg/dpkg.cfg.d/01-tier0-nodoc").write_text("\n".join(DPKG_EXCLUDES) + "\n")
    (root / "etc/apt/apt.conf.d/01-tier0").write_text("\n".join(APT_CONF) + "\n")
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text(POLICY_RC)
    policy.chmod(0o755)
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    (root / "etc/apt/sources.list.d" / settings.apt_sources.name).write_text(sources.text)
    for rel in TRIM:
        folder = root / rel
        for child in folder.iterdir() if folder.is_dir() else ():
            if child.name in TRIM_KEEP:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    # Keep the folders apt and dpkg expect, now empty.
    for rel in ("var/cache/apt/archives/partial", "var/lib/apt/lists/partial"):
        (root / rel).mkdir(parents=True, exist_ok=True)


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve()) + "/"
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefix):
            found.append(point)
    return found


def _remove_tree(root: Path) -> None:
    """Remove a bootstrap folder, unmounting first what a failed debootstrap left mounted."""
    if not root.exists():
        return
    for point in sorted(_mounts_under(root), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)
    if _mounts_under(root):
        raise ImageBuildError(f"cannot unmount {_mounts_under(root)}; remove {root} by hand")
    subprocess.run(["rm", "-rf", "--one-file-system", str(root)], check=True)
