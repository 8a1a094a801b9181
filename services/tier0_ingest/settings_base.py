"""Settings both ingest workers read the same way: their region, its Redis and logs.

Each worker still has one ``Settings`` class (AmqpIngestSettings, MqttIngestSettings);
they derive from this base so REGION and REDIS_* are validated identically and a fix
to one is a fix to both.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettingsBase(BaseSettings):
    """Every field is read from the upper-cased environment variable of the same name."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    region: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="region this worker feeds (region1, region2); names its queue (AMQP) "
        "or its share group (MQTT)",
    )
    redis_host: str = Field("localhost", description="this region's Redis host")
    redis_port: int = Field(6379, ge=1, le=65535, description="this region's Redis port")
    redis_password: SecretStr | None = Field(None, description="Redis AUTH password, if any")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")

    @property
    def redis_secret(self) -> str | None:
        """The Redis password in clear, as the clients take it (None when unset)."""
        return self.redis_password.get_secret_value() if self.redis_password else None
