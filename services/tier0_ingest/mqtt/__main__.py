"""``python -m tier0_ingest.mqtt``: run one region's telemetry ingest worker.

Wiring only: settings, logs, the metrics endpoint, the device index, the two Redis
connections, the MQTT session and the loop. SIGTERM (Kubernetes stopping the pod)
writes what the worker holds before it exits.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

import redis
from prometheus_client import start_http_server
from pydantic import ValidationError

from tier0_common.keys import ensure_device_index
from tier0_common.logs import configure_logging

from .session import MqttSession
from .settings import MqttIngestSettings, env_help
from .worker import IngestWorker, client_id
from .writer import RespPipe, TelemetryWriter

#: How long start-up waits for Redis to create the device index before giving up (the
#: pod restarts; Kubernetes' back-off is the outer retry).
INDEX_WAIT_SECONDS = 60.0


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="python -m tier0_ingest.mqtt",
        description=(
            "Subscribe to device telemetry on Mosquitto ($share/<MQTT_SHARE_GROUP>/og/field/# "
            "and tier0/canary/#) and keep this region's Redis current: dev:{id} hashes, "
            "site:{id} counters, ingest:last, canary:{id}. Invalid messages go to "
            "dlq:telemetry with their reason. Replicas of one region split the stream."
        ),
        epilog=env_help(MqttIngestSettings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _ensure_index(client: redis.Redis, log: object) -> None:
    deadline = time.monotonic() + INDEX_WAIT_SECONDS
    while True:
        try:
            ensure_device_index(client)
            return
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning("redis_not_ready", error=str(exc))  # type: ignore[attr-defined]
            time.sleep(1.0)


def main(argv: list[str] | None = None) -> int:
    _parser().parse_args(argv)
    try:
        settings = MqttIngestSettings()
    except ValidationError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    log = configure_logging(f"ingest-mqtt-{settings.region}", settings.log_level)
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    cold = redis.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        password=password,
        protocol=2,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
    )
    _ensure_index(cold, log)
    worker = IngestWorker(
        settings,
        MqttSession(
            settings.mqtt_host,
            settings.mqtt_port,
            client_id(settings.region),
            settings.topic_filters,
            keepalive=settings.mqtt_keepalive,
        ),
        TelemetryWriter(
            RespPipe(settings.redis_host, settings.redis_port, password),
            cold,
            full_write_interval=settings.full_write_interval_seconds,
        ),
    )

    def _stop(signum: int, frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info(
        "ingest_mqtt_started",
        region=settings.region,
        share_group=settings.share_group,
        broker=f"{settings.mqtt_host}:{settings.mqtt_port}",
        redis=f"{settings.redis_host}:{settings.redis_port}",
        batch_max=settings.batch_max,
        batch_max_wait_ms=settings.batch_max_wait_ms,
    )
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
