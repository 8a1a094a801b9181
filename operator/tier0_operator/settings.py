"""The operator's configuration, read once from the environment and checked at start.

Kubernetes credentials are not here: the client reads KUBECONFIG (or the in-cluster
ServiceAccount) the usual way. Everything else an operator of the operator may tune
is one documented environment variable (docs/operator.md, "Configuration").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from paho.mqtt.publish import AuthParameter


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    #: Namespace to watch; empty means every namespace (needs the ClusterRole variant).
    watch_namespace: str = Field(default="", alias="WATCH_NAMESPACE")
    #: Port of the Prometheus /metrics endpoint (0 disables it).
    operator_metrics_port: int = Field(default=9200, ge=0, le=65535, alias="OPERATOR_METRICS_PORT")
    #: Port of kopf's liveness endpoint /healthz (0 disables it).
    operator_health_port: int = Field(default=9201, ge=0, le=65535, alias="OPERATOR_HEALTH_PORT")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")

    #: Timeout of one HTTP health/freshness probe of a region.
    probe_timeout_seconds: float = Field(default=2.0, gt=0, alias="PROBE_TIMEOUT_SECONDS")
    #: How long to wait for the EndpointSlices to follow the new selectors before
    #: rolling the selectors back and marking the failover Failed.
    endpoints_timeout_seconds: float = Field(default=60.0, gt=0, alias="ENDPOINTS_TIMEOUT_SECONDS")
    #: How long to keep trying the first request through the target after the switch.
    first_request_timeout_seconds: float = Field(
        default=10.0, gt=0, alias="FIRST_REQUEST_TIMEOUT_SECONDS"
    )
    #: How often a failover waiting for another one on the same Services retries.
    lock_retry_seconds: float = Field(default=0.5, gt=0, alias="LOCK_RETRY_SECONDS")
    #: The canary gate's MQTT identity; the broker lets it publish canaries only
    #: (docs/security.md). Unset: connect without credentials (an open broker).
    canary_mqtt_username: str | None = Field(default=None, alias="CANARY_MQTT_USERNAME")
    canary_mqtt_password: SecretStr | None = Field(default=None, alias="CANARY_MQTT_PASSWORD")

    @property
    def canary_mqtt_auth(self) -> AuthParameter | None:
        """paho's ``auth`` argument (None when no user name is configured)."""
        if not self.canary_mqtt_username:
            return None
        auth: AuthParameter = {"username": self.canary_mqtt_username}
        if self.canary_mqtt_password is not None:
            auth["password"] = self.canary_mqtt_password.get_secret_value()
        return auth
