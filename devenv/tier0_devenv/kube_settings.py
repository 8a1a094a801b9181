"""The knobs of the Kubernetes part of `make up`, read from TIER0_* variables.

Kept apart from DevenvSettings (the data plane's ports) because they matter only when
the local control plane runs, and the control plane's own ports and node count are
the TIER0_K8S_* variables tier0_devenv.k8s already reads (K8sSettings), so the same
variable moves the apiserver for `make up` and for `python -m tier0_devenv.k8s`.
The failover defaults match the chart's values.yaml.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
