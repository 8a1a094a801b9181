"""Configuration of the AMQP ingest worker, read from environment variables.

One typed class so a missing REGION or a bad port stops the worker at start-up with a
message naming the variable, instead of a worker writing to the wrong place.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from tier0_common.catalog import ACTIVITY_EXCHANGE, activity_queue
from tier0_common.keys import USERS_ACTIVITY_MAXLEN

from ..settings_base import IngestSettingsBase


class AmqpIngestSettings(IngestSettingsBase):
    """REGION, REDIS_* and LOG_LEVEL come from IngestSettingsBase; the rest is AMQP's."""

    amqp_url: SecretStr = Field(
        SecretStr("amqp://localhost:5672/%2F"),
        description="RabbitMQ URL with this component's user and password "
        "(amqp://USER:PASSWORD@HOST:5672/%2F; a secret, never logged); pika URL query "
        "options (heartbeat=30, ...) are honoured",
    )
    amqp_exchange: str = Field(
        ACTIVITY_EXCHANGE,
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

    @property
    def queue(self) -> str:
        return self.amqp_queue or activity_queue(self.amqp_exchange, self.region)
