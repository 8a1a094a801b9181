"""Knobs of `python -m tier0_devenv.images`, read from TIER0_IMAGES_* variables.

The defaults suit a Debian 12 machine: the base image is bootstrapped from the apt
sources this machine already uses (so it works wherever apt works, mirrors included),
and every cache lives outside the checkout so a fresh clone reuses it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _cache_root() -> Path:
    return Path(os.environ.get("TIER0_CACHE", Path.home() / ".cache" / "tier0")) / "images"


class ImagesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIER0_IMAGES_", extra="ignore")

    #: Cache: the base rootfs tarball, the private dockerd's data root (layer cache),
    #: the wheelhouse and one `docker save` archive per built image. Empty means
    #: $TIER0_CACHE/images ($TIER0_CACHE defaults to ~/.cache/tier0).
    cache_dir: Path | None = None
    #: Debian suite of the base image (Debian 12: its python3 is the 3.11 the locks target).
    suite: str = "bookworm"
    #: deb822 apt sources copied into the base image; the first URI of the suite is
    #: debootstrap's mirror. Default: this machine's own.
    apt_sources: Path = Path("/etc/apt/sources.list.d/debian.sources")
    #: Folder for the private dockerd's exec root and socket (short: socket paths
    #: are limited to 108 bytes).
    run_dir: Path = Path("/run/tier0-images")
    #: Seconds the private dockerd may take to answer after start.
    docker_start_timeout: float = Field(60.0, gt=0)
    #: unix:// address of a running private dockerd to build with instead of starting
    #: one (`python -m tier0_devenv.images skaffold` sets it for skaffold's custom
    #: build step, which must find its images in that daemon).
    docker_host: str | None = None
    #: containerd socket (the node's) that skaffold's custom build step imports into;
    #: empty: it only builds.
    import_to: Path | None = None

    @property
    def cache(self) -> Path:
        """The cache folder in use (cache_dir, or its default)."""
        return self.cache_dir if self.cache_dir is not None else _cache_root()
