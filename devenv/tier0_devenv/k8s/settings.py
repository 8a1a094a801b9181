"""Knobs of `python -m tier0_devenv.k8s`, read from TIER0_K8S_* environment variables.

The defaults are the well-known ports (apiserver 6443, etcd 2379/2380) so a local run
is found where Kubernetes tools look by default; tests do not read these and pick
free ports instead.
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
