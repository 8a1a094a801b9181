"""Where the control-plane binaries are, and building them when they are not there.

The binaries are not in the repo or in a package: devenv/k8s/build.sh compiles them
from Go modules into a cache folder keyed by versions, and prints that folder. This
module asks the script for the folder (cheap: it builds nothing with
--print-bin-dir) and, when allowed, runs the full build with its progress shown, so a
fresh machine or CI gets the binaries instead of a skipped test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..processes import BinaryMissing

BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "k8s" / "build.sh"
BINARY_NAMES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kwok",
    "helm",
)
BUILD_HINT = f"run {BUILD_SCRIPT} (20-35 minutes cold; cached afterwards)"
#: The real node's own binaries (`build.sh --node`, a cache dir of their own).
NODE_BINARY_NAMES = ("kubelet", "kube-proxy", "coredns")
NODE_BUILD_HINT = f"run {BUILD_SCRIPT} --node (5-10 minutes cold; cached afterwards)"


@dataclass(frozen=True)
class K8sBinaries:
    """The cache folder build.sh filled: ``bin/`` plus the kwok stage files."""

    bin_dir: Path

    def path(self, name: str) -> Path:
        return self.bin_dir / name

    @property
    def kubectl(self) -> Path:
        return self.path("kubectl")

    @property
    def helm(self) -> Path:
        return self.path("helm")

    @property
    def kwok_stages_dir(self) -> Path:
        return self.bin_dir.parent / "kwok-stages"

    def missing(self) -> list[str]:
        names = _missing(self.bin_dir, BINARY_NAMES)
        if not self.kwok_stages_dir.is_dir():
            names.append("kwok-stages/")
        return names


def bin_dir(*, node: bool = False) -> Path:
    """The folder build.sh would fill now; $TIER0_K8S_BIN_DIR (control plane) or
    $TIER0_NODE_BIN_DIR (node binaries) overrides it."""
    override = os.environ.get("TIER0_NODE_BIN_DIR" if node else "TIER0_K8S_BIN_DIR")
    if override:
        return Path(override)
    target = ["--node"] if node else []
    out = subprocess.run(
        [str(BUILD_SCRIPT), *target, "--print-bin-dir"], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip())


def _build(*args: str) -> Path:
    """Run build.sh with its progress on stderr; return the bin dir it printed last."""
    result = subprocess.run([str(BUILD_SCRIPT), *args], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise BinaryMissing(
            f"{BUILD_SCRIPT} {' '.join(args)} failed with code {result.returncode} (its output "
            "above names the step); re-run it to resume"
        )
    return Path(result.stdout.strip().splitlines()[-1])


def _missing(directory: Path, names: tuple[str, ...]) -> list[str]:
    return [n for n in names if not os.access(directory / n, os.X_OK)]


def ensure_node_binaries(*, build: bool = True) -> Path:
    """The bin dir holding kubelet, kube-proxy and coredns, built first if allowed."""
    found = bin_dir(node=True)
    missing = _missing(found, NODE_BINARY_NAMES)
    if not missing:
        return found
    if not build:
        raise BinaryMissing(f"missing {', '.join(missing)} in {found}: {NODE_BUILD_HINT}")
    print(
        f"[tier0_devenv.k8s] building {', '.join(missing)} via {BUILD_SCRIPT} --node",
        file=sys.stderr,
    )
    built = _build("--node")
    still = _missing(built, NODE_BINARY_NAMES)
    if still:
        raise BinaryMissing(f"build finished but {', '.join(still)} missing in {built}")
    return built


def ensure_binaries(*, build: bool = True) -> K8sBinaries:
    """The binaries, built first when some are missing and ``build`` is true.

    The build's progress goes to stderr (it can take half an hour cold), and a failed
    build raises with the step that failed, as build.sh prints it.
    """
    found = K8sBinaries(bin_dir())
    missing = found.missing()
    if not missing:
        return found
    if not build:
        raise BinaryMissing(f"missing {', '.join(missing)} in {found.bin_dir}: {BUILD_HINT}")
    print(f"[tier0_devenv.k8s] building {', '.join(missing)} via {BUILD_SCRIPT}", file=sys.stderr)
    built = K8sBinaries(_build())
    still = built.missing()
    if still:
        raise BinaryMissing(f"build finished but {', '.join(still)} missing in {built.bin_dir}")
    return built
