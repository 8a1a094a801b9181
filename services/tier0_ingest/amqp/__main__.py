"""``python -m tier0_ingest.amqp``: run one region's user-activity ingest worker.

Wiring only: settings, logs, the metrics endpoint, the Redis client and the consumer.
SIGTERM (Kubernetes stopping the pod) finishes the current batch before exiting, so a
rolling restart requeues nothing it does not have to.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

import redis
from prometheus_client import start_http_server
from pydantic import ValidationError
from redis.backoff import NoBackoff
from redis.retry import Retry

from tier0_common.logs import configure_logging

from .consumer import ActivityConsumer
from .settings import AmqpIngestSettings, env_help
from .topology import Topology
from .writer import BatchWriter


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="python -m tier0_ingest.amqp",
        description=(
            "Consume user-activity reports from this region's RabbitMQ queue "
            "(<AMQP_EXCHANGE>.<REGION>, bound to activity.#) into this region's Redis: "
            "users:site:{site_id}, users:activity, ingest:last. Acks only after the Redis "
            "write; invalid messages go to dlq:activity and to the <queue>.dlq queue."
        ),
        epilog=env_help(AmqpIngestSettings),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def redis_client(settings: AmqpIngestSettings) -> redis.Redis:
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    return redis.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        password=password,
        protocol=2,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
        # One quick retry covers a stale pooled connection; longer outages are handled
        # by the consumer's own back-off and requeue, not by blocking inside redis-py.
        retry=Retry(NoBackoff(), 1),
    )


def main(argv: list[str] | None = None) -> int:
    _parser().parse_args(argv)
    try:
        settings = AmqpIngestSettings()
    except ValidationError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    log = configure_logging(f"ingest-amqp-{settings.region}", settings.log_level)
    # pika logs each connection step, and each failed attempt with a traceback; our own
    # events (amqp_connected, amqp_unavailable, ...) already say what happened.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
    topology = Topology(exchange=settings.amqp_exchange, queue=settings.queue)
    consumer = ActivityConsumer(
        settings.amqp_url,
        topology,
        BatchWriter(redis_client(settings), stream_maxlen=settings.users_activity_maxlen),
        prefetch=settings.prefetch,
        batch_max=settings.ingest_batch_max,
        batch_wait_seconds=settings.ingest_batch_wait_ms / 1000,
    )

    def _stop(signum: int, frame: FrameType | None) -> None:
        consumer.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info(
        "ingest_amqp_started",
        region=settings.region,
        queue=topology.queue,
        dead_letter_queue=topology.dead_letter_queue,
        redis=f"{settings.redis_host}:{settings.redis_port}",
    )
    consumer.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
