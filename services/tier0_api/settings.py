"""Configuration of one region API process, read from documented environment variables.

One ``Settings`` class so a bad value (unknown region name, negative window, unknown
log level) stops the process at start-up instead of surfacing as odd answers later.
docs/api.md lists every variable.
"""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Ingest sources whose freshness /api/status judges (fields of ``ingest:last``); the
#: first is telemetry, reported as the top-level ``last_ingest_utc``.
DEFAULT_FRESHNESS_SOURCES = ("mqtt", "amqp")


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
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ("*",)

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
        if not isinstance(logging.getLevelName(value.upper()), int):
            raise ValueError(f"unknown log level {value!r}; use DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @model_validator(mode="after")
    def _default_version(self) -> Settings:
        if not self.app_version:
            object.__setattr__(self, "app_version", f"{self.app_base_version}_{self.region}")
        return self
