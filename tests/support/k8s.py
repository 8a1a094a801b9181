"""One local Kubernetes control plane per test session (tier0_devenv.k8s.LocalCluster).

Tests that need a real API server get it here rather than a skip: when the binaries
are missing the fixture runs devenv/k8s/build.sh with its progress shown live (a cold
build takes 20-35 minutes on 2 cores; CI normally has them from scripts/install.sh).
The cluster runs on free ports in a pytest tmp dir and is stopped at session end.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from tier0_devenv.k8s import ClusterPorts, LocalCluster

FAKE_NODES = 2


@contextmanager
def session_cluster(
    workdir: Path, *, config: pytest.Config | None = None
) -> Iterator[LocalCluster]:
    """Build the binaries if needed (output not captured), start a cluster, stop it after."""
    capture: Any = config.pluginmanager.getplugin("capturemanager") if config else None
    live_output = capture.global_and_fixture_disabled() if capture else nullcontext()
    cluster = LocalCluster(workdir, ClusterPorts.free(), nodes=FAKE_NODES, build=True)
    with live_output:
        print(f"\n[k8s] binaries: {cluster.bin_dir}", file=sys.stderr)
    cluster.start()
    print(
        f"\n[k8s] control plane usable in {cluster.start_seconds:.1f}s at {cluster.server} "
        f"(logs: {cluster.logs_dir})",
        file=sys.stderr,
    )
    try:
        yield cluster
    finally:
        cluster.stop()


class _SharedCluster:
    """One cluster per pytest process, however many places import the fixture.

    pytest keeps a separate session-scoped instance for every conftest or module that
    imports `k8s_cluster`; counting users here makes them all share one control plane,
    stopped when the last of them tears down.
    """

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._cluster: LocalCluster | None = None
        self._users = 0

    @contextmanager
    def use(
        self, tmp_path_factory: pytest.TempPathFactory, config: pytest.Config
    ) -> Iterator[LocalCluster]:
        if self._cluster is None:
            workdir = tmp_path_factory.mktemp("k8s")
            self._cluster = self._stack.enter_context(session_cluster(workdir, config=config))
        self._users += 1
        try:
            yield self._cluster
        finally:
            self._users -= 1
            if self._users == 0:
                self._cluster = None
                self._stack.close()


_SHARED = _SharedCluster()


def shared_cluster(
    tmp_path_factory: pytest.TempPathFactory, config: pytest.Config
) -> contextlib.AbstractContextManager[LocalCluster]:
    """The process-wide cluster, started on first use; what `k8s_cluster` yields."""
    return _SHARED.use(tmp_path_factory, config)


@pytest.fixture(scope="session")
def k8s_cluster(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[LocalCluster]:
    """Session-wide LocalCluster, shared by every module or conftest that imports it."""
    with shared_cluster(tmp_path_factory, pytestconfig) as cluster:
        yield cluster
