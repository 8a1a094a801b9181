"""Configuration of the AMQP ingest worker, read from environment variables.

One typed class so a missing REGION or a bad port stops the worker at start-up with a
message naming the variable, instead of a worker writing to the wrong place.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tier0_common.keys import USERS_ACTIVITY_MAXLEN


class AmqpIngestSettings(BaseSettings):
    """Every field is read from the upper-cased environment variable of the same name."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    region: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="region this worker feeds (region1, region2); names its queue",
    )
    redis_host: str = Field("localhost", description="this region's Redis host")
    redis_port: int = Field(6379, ge=1, le=65535, description="this region's Redis port")
    redis_password: SecretStr | None = Field(None, description="Redis AUTH password, if any")
    amqp_url: str = Field(
        "amqp://guest:guest@localhost:5672/%2F",
        description="RabbitMQ URL; pika URL query options (heartbeat=30, ...) are honoured",
    )
    amqp_exchange: str = Field(
        "tier0.user-activity",
        min_length=1,
        max_length=200,
        description="topic exchange the simulator publishes to",
    )
    amqp_queue: str | None = Field(
        None,
        max_length=200,
        description="queue name; default <AMQP_EXCHANGE>.<REGION> (tier0.user-activity.region1)",
    )
    prefetch: int = Field(200, ge=1, le=65535, description="unacked messages RabbitMQ may send")
    ingest_batch_max: int = Field(
        100, ge=1, le=10_000, description="messages per Redis pipeline and per multi-ack"
    )
    ingest_batch_wait_ms: int = Field(
        50, ge=0, le=10_000, description="longest a message waits for its batch to fill"
    )
    users_activity_maxlen: int = Field(
        USERS_ACTIVITY_MAXLEN, ge=1, description="approximate cap of the users:activity stream"
    )
    metrics_port: int = Field(
        9111, ge=0, le=65535, description="Prometheus /metrics port; 0 disables it"
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")

    @property
    def queue(self) -> str:
        return self.amqp_queue or f"{self.amqp_exchange}.{self.region}"


def env_help(settings_class: type[BaseSettings]) -> str:
    """One line per environment variable (name, default, meaning), for ``--help``."""
    lines = ["environment variables:"]
    for name, info in settings_class.model_fields.items():
        default = "(required)" if info.is_required() else f"[default: {info.default}]"
        lines.append(f"  {name.upper():<24} {info.description or ''} {default}")
    return "\n".join(lines) + "\n"
