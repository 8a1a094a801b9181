"""Every knob of `make up`, read from TIER0_* environment variables (docs/local.md).

The defaults are the seed's ports (MQTT 1883, AMQP 5672, Redis 6379/6380, APIs
8000/8100) so the seed's URLs work unchanged; every one can be moved when a port is
taken. The fleet publishes every 10 s rather than every second by default: 100,000
messages a second needs more than the 2 cores of a build machine (docs/local.md).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]

Port = int


class DevenvSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIER0_", extra="ignore")

    run_dir: Path = REPO_ROOT / ".run"
    #: Comma-separated component names to start (default: all); see `status` for names.
    components: str = ""

    mqtt_port: Port = Field(1883, ge=1, le=65535)
    mqtt_bind_all: bool = False
    amqp_port: Port = Field(5672, ge=1, le=65535)
    amqp_dist_port: Port | None = Field(None, ge=1, le=65535)
    epmd_port: Port | None = Field(None, ge=1, le=65535)
    redis1_port: Port = Field(6379, ge=1, le=65535)
    redis2_port: Port = Field(6380, ge=1, le=65535)
    redis_password: str | None = None

    api1_port: Port = Field(8000, ge=1, le=65535)
    api2_port: Port = Field(8100, ge=1, le=65535)
    mqtt_ingest1_metrics_port: Port = Field(9101, ge=1, le=65535)
    mqtt_ingest2_metrics_port: Port = Field(9102, ge=1, le=65535)
    amqp_ingest1_metrics_port: Port = Field(9111, ge=1, le=65535)
    amqp_ingest2_metrics_port: Port = Field(9112, ge=1, le=65535)
    iot_sim_metrics_port: Port = Field(9121, ge=1, le=65535)
    users_sim_metrics_port: Port = Field(9122, ge=1, le=65535)
    #: The SRE web dashboard (the seed's frontend port).
    dashboard_port: Port = Field(3000, ge=1, le=65535)

    #: Let POST /api/failover/* from 127.0.0.1 through without a token (the APIs get
    #: FAILOVER_TRUST_LOOPBACK=true and log it loudly); for the seed's test scripts only.
    failover_trust_loopback: bool = False

    num_devices: int = Field(100_000, ge=1)
    num_sites: int = Field(10, ge=1, le=10)
    publish_interval_seconds: float = Field(10.0, gt=0)

    #: Self-healing (tier0_devenv.watch): a crashed component is started again after a
    #: back-off doubling from FIRST to LIMIT seconds, reset after RESET seconds up.
    restart_backoff_first: float = Field(1.0, gt=0)
    restart_backoff_limit: float = Field(60.0, gt=0)
    restart_backoff_reset: float = Field(60.0, gt=0)
    watch_interval: float = Field(0.5, gt=0)

    @model_validator(mode="after")
    def _ports_distinct(self) -> DevenvSettings:
        derived = {"amqp_dist_port", "epmd_port"}
        ports = [value for name, value in self if name.endswith("_port") and name not in derived]
        ports += [self.dist_port, self.resolved_epmd_port]
        duplicates = sorted({p for p in ports if ports.count(p) > 1})
        if duplicates:
            raise ValueError(f"TIER0_*_PORT settings collide on {duplicates}")
        return self

    @property
    def dist_port(self) -> int:
        """RabbitMQ's inter-node port; RabbitMQ's own convention is AMQP port + 20000."""
        return self.amqp_dist_port if self.amqp_dist_port is not None else self.amqp_port + 20000

    @property
    def resolved_epmd_port(self) -> int:
        """A private epmd, off the system's 4369 so a Debian RabbitMQ never interferes."""
        return self.epmd_port if self.epmd_port is not None else self.amqp_port + 20001

    @property
    def selected(self) -> set[str]:
        return {name.strip() for name in self.components.split(",") if name.strip()}
