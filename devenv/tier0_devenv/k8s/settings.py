"""Knobs of the local Kubernetes: the control plane's and the `make up` steps' on it.

K8sSettings (TIER0_K8S_* variables) is `python -m tier0_devenv.k8s`'s: the defaults
are the well-known ports (apiserver 6443, etcd 2379/2380) so a local run is found
where Kubernetes tools look by default; tests do not read these and pick free ports
instead.

LocalKubeSettings (TIER0_* variables) holds what `make up` adds on that control
plane (stack.py): kept apart from DevenvSettings (the data plane's ports) because
they matter only when the local control plane runs, while the control plane's own
ports and node count stay K8sSettings', so the same variable moves the apiserver for
`make up` and for `python -m tier0_devenv.k8s`. The failover defaults match the
chart's values.yaml.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]


class K8sSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIER0_K8S_", extra="ignore")

    #: Work dir: PKI, kubeconfig, etcd data, logs and pidfiles.
    workdir: Path = REPO_ROOT / ".run" / "k8s"
    apiserver_port: int = Field(6443, ge=1, le=65535)
    etcd_client_port: int = Field(2379, ge=1, le=65535)
    etcd_peer_port: int = Field(2380, ge=1, le=65535)
    #: Number of fake (kwok) nodes.
    nodes: int = Field(1, ge=1, le=100)
    #: Seconds `up` waits for a usable cluster.
    start_timeout: float = Field(180.0, gt=0)


Port = int


class LocalKubeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TIER0_", extra="ignore", env_parse_none_str="null"
    )

    #: Leave the control plane, the demo objects and the operator out (data plane only);
    #: scripts/install.sh reads the same variable and then does not build the binaries.
    skip_k8s: bool = False
    #: Namespace of the demo objects and the operator's WATCH_NAMESPACE.
    k8s_namespace: str = Field("default", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    operator_metrics_port: Port = Field(9200, ge=1, le=65535)
    #: kopf's liveness endpoint (/healthz), which is also the operator's health check.
    operator_health_port: Port = Field(9201, ge=1, le=65535)

    failover_automatic: bool = False
    #: Require a canary MQTT message through the local Mosquitto to reach the target.
    failover_canary: bool = False
    #: Freshness gate budget in seconds; `null` disables the gate (as in values.yaml).
    failover_freshness_budget_seconds: float | None = Field(30.0, ge=0, le=86400)
