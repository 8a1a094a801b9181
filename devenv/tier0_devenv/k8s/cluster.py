"""LocalCluster: start, wait for, describe and stop the local control plane.

Start order is the dependency order (etcd, apiserver, then the three clients of the
apiserver); stop is the reverse. "Started" means usable, not just spawned: the
apiserver answers /readyz, every fake node is Ready (kwok works), and the `default`
ServiceAccount exists (the controller manager works), so a test can create a
Deployment right away. The processes run under tier0_devenv's Supervisor, so their
logs are in ``<workdir>/logs`` and `down` from another process stops exactly what `up`
started. The ports are written to ``<workdir>/cluster.json`` for `status` and `env`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

from ..processes import DevenvError, ProcessStatus, StartFailed, Supervisor, tail
from . import components
from .access import write_kubeconfig
from .binaries import K8sBinaries, ensure_binaries
from .nodes import node_list, node_name
from .pki import Pki, ensure_pki

STATE_FILE = "cluster.json"
START_ORDER = ("k8s-etcd", "k8s-apiserver", "k8s-controller-manager", "k8s-scheduler", "k8s-kwok")
_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class ClusterPorts:
    apiserver: int
    etcd_client: int
    etcd_peer: int

    @classmethod
    def fixed(cls) -> ClusterPorts:
        """The well-known ports, for a local run that other tools find by default."""
        return cls(apiserver=6443, etcd_client=2379, etcd_peer=2380)

    @classmethod
    def free(cls) -> ClusterPorts:
        """Ports nothing listens on now (the kernel's picks, held together so they differ)."""
        sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(3)]
        try:
            for sock in sockets:
                sock.bind((components.LOOPBACK, 0))
            a, b, c = (int(sock.getsockname()[1]) for sock in sockets)
        finally:
            for sock in sockets:
                sock.close()
        return cls(apiserver=a, etcd_client=b, etcd_peer=c)


class LocalCluster:
    """A control plane with fake nodes, rooted in ``workdir``.

    ``ports`` defaults to the ones recorded in ``workdir`` by an earlier start, else
    `ClusterPorts.fixed()`. ``build`` lets start() run devenv/k8s/build.sh when the
    binaries are missing (a cold build takes 20-35 minutes). ``service_account_admission``
    turns the apiserver's ServiceAccount admission plugin back on (see components.Layout).
    ``node_ip`` prepares the control plane for a real kubelet at that address
    (tier0_devenv.node): no kwok and no fake nodes, ServiceAccount admission on (real
    pods mount their tokens), and the apiserver reachable from pods.
    """

    def __init__(
        self,
        workdir: Path,
        ports: ClusterPorts | None = None,
        *,
        nodes: int = 1,
        build: bool = False,
        start_timeout: float = 180.0,
        service_account_admission: bool = False,
        node_ip: str | None = None,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self.ports = ports or self._recorded_ports() or ClusterPorts.fixed()
        self.node_ip = node_ip
        self.nodes = 0 if node_ip else nodes
        self.build = build
        self.start_timeout = start_timeout
        self.service_account_admission = service_account_admission or node_ip is not None
        #: The daemons in start order (kwok only plays the kubelet of fake nodes).
        self.daemons = START_ORDER if node_ip is None else START_ORDER[:-1]
        self.kubeconfig = self.workdir / "kubeconfig"
        self.server = f"https://{components.LOOPBACK}:{self.ports.apiserver}"
        self.logs_dir = self.workdir / "logs"
        #: Seconds the last start() took, from spawning etcd to a usable cluster.
        self.start_seconds: float | None = None
        self._supervisor = Supervisor(self.workdir)
        self._binaries: K8sBinaries | None = None
        self._pki: Pki | None = None

    # --- what clients need ------------------------------------------------------------

    @property
    def binaries(self) -> K8sBinaries:
        if self._binaries is None:
            self._binaries = ensure_binaries(build=self.build)
        return self._binaries

    @property
    def bin_dir(self) -> Path:
        return self.binaries.bin_dir

    @property
    def kubectl_path(self) -> Path:
        return self.binaries.kubectl

    @property
    def helm_path(self) -> Path:
        return self.binaries.helm

    @property
    def pki(self) -> Pki:
        if self._pki is None:
            self._pki = ensure_pki(self.workdir / "pki", self.node_ip)
        return self._pki

    @property
    def admin_token(self) -> str:
        return self.pki.admin_token

    @property
    def ca_cert(self) -> Path:
        return self.pki.ca_cert

    def env(self) -> dict[str, str]:
        """Variables that point kubectl, helm and Kubernetes clients at this cluster."""
        helm_home = self.workdir / "helm"
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "HELM_CACHE_HOME": str(helm_home / "cache"),
            "HELM_CONFIG_HOME": str(helm_home / "config"),
            "HELM_DATA_HOME": str(helm_home / "data"),
        }

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 60.0) -> str:
        """Run the built kubectl against this cluster; raise with its stderr on failure."""
        return self._run([str(self.kubectl_path), *args], input, timeout)

    def helm(self, *args: str, timeout: float = 300.0) -> str:
        return self._run([str(self.helm_path), *args], None, timeout)

    def _run(self, argv: list[str], input: str | None, timeout: float) -> str:
        result = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env()},
        )
        if result.returncode != 0:
            raise DevenvError(f"{' '.join(argv[:3])} ... failed: {result.stderr.strip()}")
        return result.stdout

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> LocalCluster:
        """Start whatever is not running and wait until the cluster is usable."""
        began = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        layout = components.Layout(
            workdir=self.workdir,
            binaries=self.binaries,
            pki=self.pki,
            kubeconfig=self.kubeconfig,
            apiserver_port=self.ports.apiserver,
            etcd_client_port=self.ports.etcd_client,
            etcd_peer_port=self.ports.etcd_peer,
            service_account_admission=self.service_account_admission,
            node_ip=self.node_ip,
        )
        write_kubeconfig(self.kubeconfig, self.server, self.pki)
        (self.workdir / STATE_FILE).write_text(json.dumps(asdict(self.ports)) + "\n")
        specs = [
            components.etcd(layout),
            components.apiserver(layout),
            components.controller_manager(layout),
            components.scheduler(layout),
        ]
        if self.node_ip is None:
            specs.append(components.kwok(layout))
        try:
            for spec in specs:
                self._supervisor.start(spec)
            self._wait_usable(layout, began)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        return self

    def _wait_usable(self, layout: components.Layout, began: float) -> None:
        probe = layout.probe()
        if self.nodes:
            self.kubectl("apply", "-f", "-", input=json.dumps(node_list(self.nodes)))

        def nodes_ready() -> bool:
            for index in range(self.nodes):
                node = probe.get_json(f"/api/v1/nodes/{node_name(index)}")
                conditions = node.get("status", {}).get("conditions", [])
                if not any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                    return False
            return True

        self._wait(nodes_ready, began, "fake nodes Ready (kwok)")
        self._wait(
            lambda: probe.ok("/api/v1/namespaces/default/serviceaccounts/default"),
            began,
            "ServiceAccount default/default (controller manager)",
        )

    def _wait(self, predicate: Callable[[], bool], began: float, what: str) -> None:
        deadline = began + self.start_timeout
        while True:
            self._check_alive()
            try:
                if predicate():
                    return
            except (OSError, RuntimeError, KeyError):
                pass  # not there yet; the deadline below decides
            if time.monotonic() >= deadline:
                raise StartFailed(
                    f"local cluster not usable after {self.start_timeout:.0f}s: waiting for "
                    f"{what}; logs in {self.logs_dir}"
                )
            time.sleep(_POLL_SECONDS)

    def _check_alive(self) -> None:
        for name in self.daemons:
            if self._supervisor.owned_pid(name) is None:
                log = self._supervisor.log_path(name)
                raise StartFailed(f"{name} is not running; last lines of {log}:\n{tail(log)}")

    def stop(self) -> None:
        """Stop every daemon this work dir records, in reverse start order."""
        for name in reversed(self.daemons):
            self._supervisor.stop(name)

    def status(self) -> list[ProcessStatus]:
        return [self._supervisor.status(name) for name in self.daemons]

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _recorded_ports(self) -> ClusterPorts | None:
        try:
            data = json.loads((self.workdir / STATE_FILE).read_text())
            return ClusterPorts(**{k: int(v) for k, v in data.items()})
        except (OSError, ValueError, TypeError):
            return None
