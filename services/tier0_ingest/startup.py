"""Start-up steps both ingest workers' ``__main__`` take in the same order.

Settings that fail validation end the process with exit code 2 and a message naming
the variable; logs and the /metrics endpoint come up before any connection is tried;
Redis is reached with the same protocol and timeouts;
SIGTERM (Kubernetes stopping the pod) and SIGINT ask the worker's loop to stop so it
finishes its current batch instead of dying mid-write.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

import redis
import structlog
from prometheus_client import start_http_server
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from tier0_common.logs import configure_logging

from .settings_base import IngestSettingsBase

S = TypeVar("S", bound=BaseSettings)


def load_settings(settings_class: type[S]) -> S | None:
    """The settings from the environment, or None after writing why they are invalid."""
    try:
        return settings_class()
    except ValidationError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return None


def start_observability(
    component: str, log_level: str, metrics_port: int
) -> structlog.stdlib.BoundLogger:
    """JSON logs for ``component`` and, unless the port is 0, the /metrics endpoint."""
    log = configure_logging(component, log_level)
    if metrics_port:
        start_http_server(metrics_port)
    return log


def redis_client(settings: IngestSettingsBase, **options: Any) -> redis.Redis:
    """A RESP2 client of this region's Redis with short timeouts, plus ``options``."""
    return redis.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        password=settings.redis_secret,
        protocol=2,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        **options,
    )


def stop_on_signals(stop: Callable[[], None]) -> None:
    """Call ``stop`` on SIGTERM and SIGINT (it must only ask the loop to end)."""

    def _handler(signum: int, frame: FrameType | None) -> None:
        stop()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
