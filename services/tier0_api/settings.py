"""Configuration of one region API process, read from documented environment variables.

One ``Settings`` class so a bad value (unknown region name, negative window, unknown
log level) stops the process at start-up instead of surfacing as odd answers later.
docs/api.md lists every variable.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tier0_common.logs import known_level

#: Ingest sources whose freshness /api/status judges (fields of ``ingest:last``); the
#: first is telemetry, reported as the top-level ``last_ingest_utc``.
DEFAULT_FRESHNESS_SOURCES = ("mqtt", "amqp")
#: Longest a failover request may wait for the operator (the request's wait_seconds too).
MAX_FAILOVER_WAIT_SECONDS = 120.0
#: The dashboard's own origin under `make up` (TIER0_DASHBOARD_PORT's default).
DASHBOARD_ORIGINS = ("http://127.0.0.1:3000", "http://localhost:3000")
#: Kubernetes object names: a namespace is a DNS label, a FailoverGroup a DNS subdomain.
DNS_LABEL = r"^$|^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


def _split_csv(value: object) -> object:
    """Accept ``a,b`` as well as a JSON list, so env files stay readable."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    region: Annotated[str, Field(pattern=r"^region[0-9]+$")] = "region1"
    redis_host: str = "localhost"
    redis_port: Annotated[int, Field(ge=1, le=65535)] = 6379
    redis_password: SecretStr | None = None
    #: Seconds a Redis call may take before the API answers 503 instead of hanging.
    redis_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    #: Per-query RediSearch TIMEOUT (ms); above the server default so 100k-device
    #: aggregates are not cut short (the server may return partial results on timeout).
    query_timeout_ms: Annotated[int, Field(ge=100, le=60_000)] = 5_000
    api_host: str = "0.0.0.0"
    api_port: Annotated[int, Field(ge=1, le=65535)] = 8000
    app_base_version: Annotated[str, Field(min_length=1, max_length=64)] = "v1.0.0057"
    #: Full version string; empty means ``{APP_BASE_VERSION}_{REGION}`` as in the seed.
    app_version: str = ""
    active_window_seconds: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    stale_after_seconds: Annotated[float, Field(gt=0, le=86_400)] = 30.0
    freshness_sources: Annotated[tuple[str, ...], NoDecode] = DEFAULT_FRESHNESS_SOURCES
    alerts_max_limit: Annotated[int, Field(ge=1, le=10_000)] = 500
    log_level: str = "INFO"
    #: Browser origins allowed to call this API (CORS); default the dashboard of `make up`.
    cors_origins: Annotated[tuple[str, ...], NoDecode] = DASHBOARD_ORIGINS
    #: Process mode only, never in the chart: POST /api/failover/* without a token from
    #: 127.0.0.1/::1 is let through as user "loopback:<ip>" (logged as a warning on
    #: start and on every such request), for the seed's scripts against `make up`.
    failover_trust_loopback: bool = False
    #: Serve /api/failover/* (they create RegionFailover objects); false answers 503.
    failover_enabled: bool = True
    #: Kubeconfig file(s) for the failover endpoints; empty means the pod's ServiceAccount
    #: when running in Kubernetes, else ~/.kube/config if it exists.
    kubeconfig: str = ""
    #: Namespace of the FailoverGroup and its RegionFailovers; empty means the pod's own
    #: namespace in-cluster, else the kubeconfig context's namespace, else `default`.
    failover_namespace: Annotated[str, Field(pattern=DNS_LABEL)] = ""
    #: The FailoverGroup whose Services the failover endpoints move.
    failover_group: Annotated[str, Field(min_length=1, max_length=253, pattern=DNS_NAME)] = (
        "tier0-api"
    )
    #: Default seconds POST /api/failover/* wait for the operator's verdict (0: do not wait).
    failover_wait_seconds: Annotated[float, Field(ge=0, le=MAX_FAILOVER_WAIT_SECONDS)] = 15.0
    #: Connect/read timeout of one Kubernetes API call; past it the endpoints answer 503.
    kube_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    #: Seconds SIGTERM drains before shutting down: readiness answers 503, requests are
    #: still served and every response says `Connection: close` (0: shut down at once).
    shutdown_drain_seconds: Annotated[float, Field(ge=0, le=300)] = 0.0
    #: Seconds in-flight requests get to finish once the drain is over (uvicorn's
    #: graceful shutdown timeout); the pod's terminationGracePeriodSeconds covers both.
    shutdown_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    #: A keep-alive connection older than this is closed after its next response, so
    #: clients follow a Service that moved to another region (0: never).
    connection_max_age_seconds: Annotated[float, Field(ge=0, le=3600)] = 0.0

    @field_validator("freshness_sources", "cors_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("freshness_sources")
    @classmethod
    def _some_source(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one ingest source (the first is the telemetry one)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        return known_level(value)

    @model_validator(mode="after")
    def _default_version(self) -> Settings:
        if not self.app_version:
            object.__setattr__(self, "app_version", f"{self.app_base_version}_{self.region}")
        return self
