"""Images into containerd: `ctr import` of the cached `docker save` archives.

Docker 20.10 keeps its images in its own store, so the node's containerd gets them as
archives (`ctr -n k8s.io images import`), where the kubelet finds them with
imagePullPolicy Never. `throwaway_containerd` starts a containerd of its own (private
root, state, socket and config; CRI off) for checking an import without the node's
long-running one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..processes import CallableCheck, DevenvError, ProcessSpec, Supervisor
from .docker import require
from .progress import ImageBuildError, run

NAMESPACE = "k8s.io"
CONTAINERD_APT = "containerd"


def ctr(socket: Path, *args: str, what: str, timeout: float = 600) -> str:
    return run(
        [require("ctr", CONTAINERD_APT), "--address", str(socket), "--namespace", NAMESPACE, *args],
        what,
        timeout=timeout,
    )


def image_refs(socket: Path) -> set[str]:
    """References of the images in the k8s.io namespace of the containerd at ``socket``."""
    return set(ctr(socket, "images", "ls", "--quiet", what="ctr images ls").split())


def import_archive(socket: Path, archive: Path) -> None:
    """Import one `docker save` archive. Unpacking is left to the kubelet's first use."""
    ctr(socket, "images", "import", "--no-unpack", str(archive), what=f"ctr import {archive.name}")


def _config(root: Path, socket: Path) -> str:
    return "\n".join(
        [
            "version = 2",
            f'root = "{root / "root"}"',
            f'state = "{root / "state"}"',
            # A throwaway store for checking imports: no CRI, nothing that serves pods.
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
            "[grpc]",
            f'  address = "{socket}"',
            "[ttrpc]",
            f'  address = "{socket}.ttrpc"',
            "[debug]",
            '  level = "warn"',
            "",
        ]
    )


@contextmanager
def throwaway_containerd(parent: Path | None = None) -> Iterator[Path]:
    """A private containerd for the block's duration; yields its socket, then removes all."""
    binary = require("containerd", CONTAINERD_APT)
    root = Path(tempfile.mkdtemp(prefix="tier0-ctrd-", dir=parent or "/tmp"))
    socket = root / "containerd.sock"
    (root / "config.toml").write_text(_config(root, socket))
    supervisor = Supervisor(root / "supervisor")
    spec = ProcessSpec(
        name="containerd",
        argv=[binary, "--config", str(root / "config.toml")],
        health=CallableCheck(lambda: _answers(socket), f"ctr version on {socket}"),
        start_timeout=30,
        install_hint=f"apt-get install -y {CONTAINERD_APT}",
    )
    try:
        try:
            supervisor.start(spec)
        except DevenvError as exc:
            raise ImageBuildError(f"step 'start throwaway containerd' failed: {exc}") from exc
        yield socket
    finally:
        supervisor.stop("containerd", timeout=20)
        for line in reversed(Path("/proc/self/mountinfo").read_text().splitlines()):
            point = line.split()[4]
            if point.startswith(str(root)):
                subprocess.run(["umount", "-l", point], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _answers(socket: Path) -> bool:
    if not os.path.exists(socket):
        return False
    done = subprocess.run(
        ["ctr", "--address", str(socket), "version"], capture_output=True, timeout=10, check=False
    )
    return done.returncode == 0
