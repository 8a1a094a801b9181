"""Configuration of the user-activity simulator, read from environment variables.

One typed class so a typo'd or out-of-range value stops the process at start-up with a
message naming the variable, instead of surfacing as odd behaviour minutes later.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tier0_common.catalog import ACTIVITY_EXCHANGE


class UserSimSettings(BaseSettings):
    """Every field is read from the upper-cased environment variable of the same name."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

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
        description="durable topic exchange; routing key is activity.<site_id>",
    )
    user_sim_interval_seconds: float = Field(
        5.0, ge=0, le=3600, description="seconds between two reports of the same site"
    )
    user_sim_seed: int = Field(0, description="random seed; same seed and clock, same reports")
    user_sim_rounds: int = Field(0, ge=0, description="rounds to publish then exit; 0 = forever")
    user_sim_max_listed_users: int = Field(
        100,
        ge=0,
        le=5000,
        description="cap on active_users_list length (the count in metrics is never capped)",
    )
    user_sim_publish_attempts: int = Field(
        5, ge=1, le=100, description="tries per message when RabbitMQ nacks it or cannot route it"
    )
    metrics_port: int = Field(
        9110, ge=0, le=65535, description="Prometheus /metrics port; 0 disables it"
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
