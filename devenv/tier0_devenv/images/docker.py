"""A private dockerd for the duration of one build, touching nothing of the host's.

docker.io 20.10 is Debian's container builder (its legacy builder: no BuildKit, no
buildx). It runs here as a daemon of our own: data root in the cache (its layer
cache survives between builds), exec root, pidfile, socket and config file in a
private folder, and `--iptables=false --ip-forward=false --ip-masq=false
--bridge=none`, so it creates no bridge, no firewall rule and no sysctl change. Builds
use `--network host` (RUN steps reach the apt mirror and PyPI as the host does).
It is stopped when the build ends, failed or not; a lock file serialises builds
that would share the data root.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ..processes import CallableCheck, DevenvError, ProcessSpec, Supervisor
from .progress import ImageBuildError, Progress, run, step
from .settings import ImagesSettings

DOCKER_APT = "docker.io"
#: cgroup (under every v1 controller) that build containers run in, suffixed with the
#: building process's pid (builds of other checkouts may run at the same time); removed
#: on stop.
CGROUP_PREFIX = "tier0-images"
#: Host paths dockerd 20.10 creates whatever its flags say (a trust key, plugin and
#: shim socket folders); the ones that did not exist before start are removed on stop.
HOST_LEFTOVERS = (
    Path("/etc/docker/key.json"),
    Path("/run/docker/plugins"),
    Path("/run/docker"),
    Path("/run/containerd/s"),
    Path("/run/containerd"),
)
CGROUP_ROOT = Path("/sys/fs/cgroup")


def require(program: str, apt_package: str) -> str:
    """The program's path, or an error naming the Debian package that provides it."""
    found = shutil.which(program)
    if found is None:
        raise ImageBuildError(
            f"{program} not found: install it with `apt-get install -y {apt_package}`"
        )
    return found


class PrivateDocker:
    """dockerd + its managed containerd on private paths; use as a context manager."""

    def __init__(self, settings: ImagesSettings, progress: Progress) -> None:
        self.settings = settings
        self.progress = progress
        self.dockerd = require("dockerd", DOCKER_APT)
        self.docker_cli = require("docker", DOCKER_APT)
        self.state = settings.run_dir / str(os.getpid())
        self.socket = self.state / "docker.sock"
        self.data_root = settings.cache / "docker"
        self.log_dir = settings.cache / "logs"
        self.cgroup = f"{CGROUP_PREFIX}-{os.getpid()}"
        self._supervisor = Supervisor(self.state / "supervisor")
        self._preexisting = {path for path in HOST_LEFTOVERS if path.exists()}

    def attach(self, host: str) -> None:
        """Use a dockerd that another process started (and will stop)."""
        if not host.startswith("unix://"):
            raise ImageBuildError(f"TIER0_IMAGES_DOCKER_HOST must be unix://PATH, not {host!r}")
        self.socket = Path(host.removeprefix("unix://"))
        self.state = self.socket.parent

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.socket}",
            # The CLI's own config (~/.docker) stays untouched.
            "DOCKER_CONFIG": str(self.state / "cli"),
            "DOCKER_BUILDKIT": "0",
        }

    def argv(self) -> list[str]:
        return [
            self.dockerd,
            f"--data-root={self.data_root}",
            f"--exec-root={self.state / 'exec'}",
            f"--pidfile={self.state / 'dockerd.pid'}",
            f"--host=unix://{self.socket}",
            f"--config-file={self.state / 'daemon.json'}",
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--bridge=none",
            "--storage-driver=overlay2",
            f"--cgroup-parent=/{self.cgroup}",
            "--log-level=warn",
        ]

    def docker(self, *args: str, what: str, log: Path | None = None, **kwargs: object) -> str:
        return run([self.docker_cli, *args], what, env=self.env(), log=log, **kwargs)  # type: ignore[arg-type]

    def _answers(self) -> bool:
        done = subprocess.run(
            [self.docker_cli, "version", "--format", "{{.Server.Version}}"],
            env=self.env(),
            capture_output=True,
            timeout=10,
            check=False,
        )
        return done.returncode == 0

    def start(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "daemon.json").write_text(json.dumps({}))
        self.data_root.mkdir(parents=True, exist_ok=True)
        spec = ProcessSpec(
            name="dockerd",
            argv=self.argv(),
            health=CallableCheck(self._answers, f"docker version on {self.socket}"),
            start_timeout=self.settings.docker_start_timeout,
            stop_timeout=30,
            install_hint=f"apt-get install -y {DOCKER_APT}",
        )
        try:
            self._supervisor.start(spec)
        except DevenvError as exc:
            raise ImageBuildError(f"step 'start private dockerd' failed: {exc}") from exc

    def stop(self) -> None:
        self._supervisor.stop("dockerd", timeout=30)
        leftovers = [p for p in _mounts() if p.startswith((str(self.state), str(self.data_root)))]
        for point in sorted(leftovers, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)
        shutil.rmtree(self.state, ignore_errors=True)
        _rmdir_quietly(self.settings.run_dir)  # another build may still use it
        self._remove_host_leftovers()

    def _remove_host_leftovers(self) -> None:
        # Another containerd (the node's) shares /run/containerd/s for its shims: its
        # folders are then left to it, even when they appeared during this build.
        shared = _other_containerd_running()
        for path in HOST_LEFTOVERS:
            if path in self._preexisting or not path.exists():
                continue
            if shared and path.is_relative_to("/run/containerd"):
                continue
            if path.is_dir():
                _rmdir_quietly(path)  # only when empty: something else may use it now
            else:
                path.unlink()
        for controller in CGROUP_ROOT.iterdir() if CGROUP_ROOT.is_dir() else ():
            group = controller / self.cgroup
            if group.is_dir():
                for child in sorted(group.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                    if child.is_dir():
                        _rmdir_quietly(child)
                _rmdir_quietly(group)

    # --- image operations ------------------------------------------------------------

    def has_image(self, ref: str) -> bool:
        done = subprocess.run(
            [self.docker_cli, "image", "inspect", "--format", "{{.Id}}", ref],
            env=self.env(),
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def image_size(self, ref: str) -> int:
        return int(self.docker("image", "inspect", "--format", "{{.Size}}", ref, what="inspect"))

    def build(
        self,
        ref: str,
        context_tar: bytes,
        dockerfile: str,
        *,
        target: str | None,
        build_args: dict[str, str],
        log: Path,
    ) -> None:
        args = ["build", "--network", "host", "--force-rm", "-t", ref, "-f", dockerfile]
        if target:
            args += ["--target", target]
        for key, value in sorted(build_args.items()):
            args += ["--build-arg", f"{key}={value}"]
        self.docker(*args, "-", what=f"docker build {ref}", log=log, input_bytes=context_tar)

    def import_rootfs(self, tarball: Path, ref: str, changes: Sequence[str]) -> None:
        args = ["import"]
        for change in changes:
            args += ["--change", change]
        self.docker(*args, str(tarball), ref, what=f"docker import {ref}")

    def save(self, refs: Sequence[str], out: Path) -> None:
        partial = out.with_suffix(".partial")
        self.docker("save", "-o", str(partial), *refs, what=f"docker save {' '.join(refs)}")
        partial.rename(out)

    def load(self, archive: Path) -> None:
        self.docker("load", "-i", str(archive), what=f"docker load {archive.name}")

    def remove_tags_except(self, repository: str, keep: set[str]) -> None:
        """Drop the repository's other tags (and the layers only they used)."""
        listed = self.docker("image", "ls", "--format", "{{.Tag}}", repository, what="image ls")
        stale = [f"{repository}:{tag}" for tag in listed.split() if tag not in keep | {"<none>"}]
        if stale:
            self.docker("rmi", *stale, what=f"remove old tags of {repository}")

    def run_smoke(self, ref: str, argv: Sequence[str], flags: Sequence[str] = ()) -> str:
        """Run ``argv`` in the image with no network at all, and return its output."""
        return self.docker(
            "run",
            "--rm",
            "--network",
            "none",
            *flags,
            ref,
            *argv,
            what=f"run {' '.join(argv)} in {ref}",
            timeout=120,
        )


def _other_containerd_running() -> bool:
    """Is a containerd running? (Ours has stopped by the time this is asked.)"""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "containerd":
                    return True
            except OSError:
                continue
    return False


def _rmdir_quietly(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


def _mounts() -> list[str]:
    return [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]


@contextmanager
def build_lock(settings: ImagesSettings) -> Iterator[None]:
    """One build at a time per cache (they would share the dockerd data root).

    A build attached to another process's dockerd (settings.docker_host) runs under
    that process's lock, so it takes none itself.
    """
    if settings.docker_host:
        yield
        return
    settings.cache.mkdir(parents=True, exist_ok=True)
    with (settings.cache / "build.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def private_docker(settings: ImagesSettings, progress: Progress) -> Iterator[PrivateDocker]:
    """Start the private dockerd, yield it, and always stop it (or attach to the
    running one named by settings.docker_host, and leave it running)."""
    docker = PrivateDocker(settings, progress)
    if settings.docker_host:
        docker.attach(settings.docker_host)
        yield docker
        return
    try:
        with step(progress, "start private dockerd"):
            docker.start()
        yield docker
    finally:
        with step(progress, "stop private dockerd"):
            docker.stop()
