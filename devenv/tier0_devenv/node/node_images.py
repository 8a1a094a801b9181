"""The node's own images: the pod sandbox (pause) and CoreDNS, built without a registry.

Both are single static binaries, so each image is one layer on an empty base:
umoci builds the OCI image, skopeo turns it into a docker-archive tarball carrying
the image name, and `ctr images import` loads that into our containerd. The tarballs
are cached under ~/.cache/tier0/node-images keyed by the hash of what went in (the C
source and gcc's version; the CoreDNS binary), so a warm `make cluster` only imports.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..processes import BinaryMissing, DevenvError
from .containerd import PAUSE_IMAGE, ctr
from .layout import NodeLayout

PAUSE_SOURCE = Path(__file__).with_name("pause.c")
COREDNS_IMAGE = "docker.io/tier0/coredns:v1.15.0"
#: Bump when the way images are assembled changes, so cached tarballs are rebuilt.
BUILDER_REV = "1"
HINT = "apt-get install umoci skopeo gcc libc6-dev"


def cache_dir() -> Path:
    root = Path(os.environ.get("TIER0_CACHE", Path.home() / ".cache" / "tier0"))
    return root / "node-images"


@dataclass(frozen=True)
class ImageRecipe:
    """A one-layer image whose content is fully determined by ``inputs``.

    ``files(folder)`` produces the files (path in the image -> file on the host) in a
    scratch folder; it only runs when the cache has no tarball for these inputs.
    """

    ref: str
    entrypoint: Sequence[str]
    inputs: bytes
    files: Callable[[Path], dict[str, Path]]

    def key(self) -> str:
        digest = hashlib.sha256(f"{self.ref}\n{list(self.entrypoint)}\n{BUILDER_REV}\n".encode())
        digest.update(self.inputs)
        return digest.hexdigest()[:16]

    def tarball(self) -> Path:
        name = self.ref.rsplit("/", 1)[-1].replace(":", "-")
        return cache_dir() / f"{name}-{self.key()}.tar"


def _run(argv: Sequence[str], what: str) -> str:
    if shutil.which(argv[0]) is None:
        raise BinaryMissing(f"{argv[0]} not found ({what}): {HINT}")
    result = subprocess.run(list(argv), capture_output=True, text=True)
    if result.returncode != 0:
        raise DevenvError(f"{what}: {' '.join(argv[:3])} failed: {result.stderr.strip()[-800:]}")
    return result.stdout


def build(recipe: ImageRecipe) -> Path:
    """The recipe's docker-archive tarball, built unless the cache has it."""
    out = recipe.tarball()
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tier0-node-image-") as tmp:
        layout = f"{tmp}/oci"
        image = f"{layout}:image"
        files = recipe.files(Path(tmp))
        _run(["umoci", "init", "--layout", layout], f"{recipe.ref}: umoci init")
        _run(["umoci", "new", "--image", image], f"{recipe.ref}: umoci new")
        for dest, src in sorted(files.items()):
            _run(["umoci", "insert", "--image", image, str(src), dest], f"{recipe.ref}: insert")
        config = ["umoci", "config", "--image", image, "--os", "linux", "--architecture", "amd64"]
        config += [f"--config.entrypoint={part}" for part in recipe.entrypoint]
        _run(config, f"{recipe.ref}: umoci config")
        partial = out.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        _run(
            ["skopeo", "copy", f"oci:{image}", f"docker-archive:{partial}:{recipe.ref}"],
            f"{recipe.ref}: skopeo copy",
        )
        partial.rename(out)
    return out


def pause_recipe() -> ImageRecipe:
    def compile_pause(folder: Path) -> dict[str, Path]:
        binary = folder / "pause"
        _run(["gcc", "-Os", "-static", "-s", "-o", str(binary), str(PAUSE_SOURCE)], "gcc pause.c")
        return {"/pause": binary}

    gcc = _run(["gcc", "--version"], "gcc --version")
    inputs = PAUSE_SOURCE.read_bytes() + gcc.encode()
    return ImageRecipe(PAUSE_IMAGE, ["/pause"], inputs, compile_pause)


def coredns_recipe(bin_dir: Path) -> ImageRecipe:
    binary = bin_dir / "coredns"
    return ImageRecipe(
        COREDNS_IMAGE, ["/coredns"], binary.read_bytes(), lambda _folder: {"/coredns": binary}
    )


def ensure_node_images(layout: NodeLayout, bin_dir: Path) -> list[str]:
    """Build (or take from the cache) and import pause and CoreDNS; returns their refs."""
    recipes = [pause_recipe(), coredns_recipe(bin_dir)]
    for recipe in recipes:
        ctr(layout, "images", "import", str(build(recipe)), timeout=300.0)
    return [recipe.ref for recipe in recipes]
