"""Every product image built here with no registry, imported into a containerd, run.

Real tools throughout: debootstrap, a private dockerd (docker.io), a throwaway
containerd with its own root and socket. With the cache warm (after one
`python -m tier0_devenv.images build`) nothing is downloaded or rebuilt: the build
starts one dockerd only to run each image's self-check with no network, and the
import reads the cached archives. Cold, the first run bootstraps and builds
everything (several minutes; docs/kubernetes.md has the figures).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tier0_devenv.images import ImageBuildError, ImagesSettings, build_all, plan
from tier0_devenv.images.containerd import image_refs, throwaway_containerd
from tier0_devenv.images.docker import CGROUP_PREFIX, CGROUP_ROOT
from tier0_devenv.images.specs import BASE, SPECS, ImageSpec
from tier0_devenv.processes import process_cmdline

pytestmark = pytest.mark.integration

#: program -> the Debian package that provides it
PREREQUISITES = {
    "debootstrap": "debootstrap",
    "dockerd": "docker.io",
    "docker": "docker.io",
    "containerd": "containerd",
    "ctr": "containerd",
}


def require_tools() -> None:
    missing = {prog: pkg for prog, pkg in PREREQUISITES.items() if shutil.which(prog) is None}
    if missing:
        pytest.fail(
            f"missing {sorted(missing)}: apt-get install -y {' '.join(sorted(set(missing.values())))}"
        )


def leftovers(settings: ImagesSettings, pid: int | None = None) -> list[str]:
    """Processes, folders and cgroups of the private dockerd of the build run by ``pid``
    (default: this process) that should be gone. Builds of other checkouts may run
    at the same time, under their own pid's folder and cgroup."""
    pid = os.getpid() if pid is None else pid
    state = str(settings.run_dir / str(pid))
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and any(state in part for part in process_cmdline(int(entry.name))):
            found.append(f"process {entry.name}")
    if Path(state).exists():
        found.append(state)
    found += [str(p) for p in CGROUP_ROOT.glob(f"*/{CGROUP_PREFIX}-{pid}")]
    return found


@dataclass
class Built:
    settings: ImagesSettings
    manifest: dict[str, dict[str, str]]
    out_file: Path
    lines: list[str]
    refs: set[str]
    warm_lines: list[str]
    warm_manifest: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    require_tools()
    settings = ImagesSettings()
    out_file = tmp_path_factory.mktemp("images") / "images.json"
    lines: list[str] = []
    warm_lines: list[str] = []
    with throwaway_containerd() as socket:
        manifest = build_all(
            settings, import_to=socket, out=out_file, smoke=True, progress=lines.append
        )
        refs = image_refs(socket)
        warm_manifest = build_all(settings, import_to=socket, progress=warm_lines.append)
    yield Built(settings, manifest, out_file, lines, refs, warm_lines, warm_manifest)


def test_every_image_is_imported_under_the_manifests_name(built: Built) -> None:
    wanted = {f"{v['repository']}:{v['tag']}" for v in built.manifest.values()}
    assert len(wanted) == 5
    assert wanted <= built.refs, built.refs
    assert json.loads(built.out_file.read_text()) == built.manifest


def test_every_image_runs_its_component(built: Built) -> None:
    """Each image's self-check ran in it with no network (`docker run --network none`)."""
    checked = {line.split(":")[0].removeprefix("check ") for line in built.lines if "done" in line}
    assert {spec.name for spec in SPECS} <= checked, built.lines


def test_warm_build_starts_no_daemon_and_reimports_nothing(built: Built) -> None:
    assert built.warm_manifest == built.manifest
    assert not any("dockerd" in line for line in built.warm_lines), built.warm_lines
    assert sum("already in containerd" in line for line in built.warm_lines) == 5


def test_nothing_is_left_running(built: Built) -> None:
    assert leftovers(built.settings) == []


def image_config(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        return json.load(tar.extractfile(manifest[0]["Config"]))["config"]  # type: ignore[arg-type]


def test_broker_images_match_what_the_chart_runs(built: Built) -> None:
    """Users, commands and paths of charts/tier0/templates/{mosquitto,rabbitmq,redis}.yaml."""
    the_plan = plan(built.settings)
    config = {p.spec.name: image_config(p.archive(built.settings)) for p in the_plan.images}
    assert config["mosquitto"]["User"] == "1883:1883"
    assert config["mosquitto"]["Cmd"][0] == "mosquitto"
    assert config["rabbitmq"]["User"] == "999:999"
    assert config["rabbitmq"]["Cmd"] == ["rabbitmq-server"]
    env = dict(item.split("=", 1) for item in config["rabbitmq"]["Env"])
    assert env["HOME"] == "/var/lib/rabbitmq" and env["PATH"].startswith("/usr/lib/rabbitmq/bin")
    assert config["redis"]["User"] == "999:999"
    assert config["redis"]["Entrypoint"] == ["tier0-redis-entrypoint"]
    assert config["redis"]["WorkingDir"] == "/data"
    for name in ("tier0", "tier0-operator"):
        assert config[name]["User"] == "10001:10001"
    assert config["tier0-operator"]["Cmd"] == ["python", "-m", "tier0_operator"]


def test_a_failed_build_names_its_step_and_leaves_nothing_running(
    built: Built, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo breaking on purpose && exit 3\n"
    )
    broken = ImageSpec(name="broken", dockerfile="Dockerfile", parents={"BASE_IMAGE": BASE})
    settings = ImagesSettings()
    with pytest.raises(ImageBuildError) as failure:
        build_all(settings, specs=(broken,), root=tmp_path, progress=lambda line: None)
    message = str(failure.value)
    assert message.startswith("step 'build broken"), message
    assert "returned a non-zero code: 3" in message
    assert leftovers(settings) == []
    assert not any((settings.cache / "archives" / "broken").glob("*.tar"))


def test_sigterm_mid_build_stops_the_private_dockerd(built: Built) -> None:
    """A build killed (as a bring-up stopping on Ctrl-C or a timeout would) cleans up."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tier0_devenv.images", "build", "--check", "--only", "mosquitto"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "start private dockerd: done" in line:
            break
    proc.send_signal(signal.SIGTERM)
    seen += proc.stderr.readlines()
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM, "".join(seen)
    assert any("stop private dockerd: done" in line for line in seen), "".join(seen)
    assert leftovers(built.settings, proc.pid) == []
