"""``python -m tier0_ingest.mqtt``: run one region's telemetry ingest worker.

Wiring only: settings, logs, the metrics endpoint, the device index, the two Redis
connections, the MQTT session and the loop. SIGTERM (Kubernetes stopping the pod)
writes what the worker holds before it exits.
"""

from __future__ import annotations

import argparse
import sys
import time

import redis

from tier0_common.keys import ensure_device_index
from tier0_common.settings_doc import env_help

from ..startup import load_settings, redis_client, start_observability, stop_on_signals
from .session import MqttSession
from .settings import MqttIngestSettings
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
    settings = load_settings(MqttIngestSettings)
    if settings is None:
        return 2
    log = start_observability(
        f"ingest-mqtt-{settings.region}", settings.log_level, settings.metrics_port
    )
    cold = redis_client(settings)
    _ensure_index(cold, log)
    worker = IngestWorker(
        settings,
        MqttSession(
            settings.mqtt_host,
            settings.mqtt_port,
            settings.mqtt_client_id or client_id(settings.share_group),
            settings.topic_filters,
            keepalive=settings.mqtt_keepalive,
            qos=settings.mqtt_subscribe_qos,
            clean_session=settings.clean_session,
            username=settings.mqtt_username,
            password=settings.mqtt_secret,
        ),
        TelemetryWriter(
            RespPipe(settings.redis_host, settings.redis_port, settings.redis_secret),
            cold,
            full_write_interval=settings.full_write_interval_seconds,
        ),
    )
    stop_on_signals(worker.stop)
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
