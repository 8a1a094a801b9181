"""``python -m tier0_ingest.amqp``: run one region's user-activity ingest worker.

Wiring only: settings, logs, the metrics endpoint, the Redis client and the consumer.
SIGTERM (Kubernetes stopping the pod) finishes the current batch before exiting, so a
rolling restart requeues nothing it does not have to.
"""

from __future__ import annotations

import argparse
import logging
import sys

from redis.backoff import NoBackoff
from redis.retry import Retry

from tier0_common.settings_doc import env_help

from ..startup import load_settings, redis_client, start_observability, stop_on_signals
from .consumer import ActivityConsumer
from .settings import AmqpIngestSettings
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


def main(argv: list[str] | None = None) -> int:
    _parser().parse_args(argv)
    settings = load_settings(AmqpIngestSettings)
    if settings is None:
        return 2
    log = start_observability(
        f"ingest-amqp-{settings.region}", settings.log_level, settings.metrics_port
    )
    # pika logs each connection step, and each failed attempt with a traceback; our own
    # events (amqp_connected, amqp_unavailable, ...) already say what happened.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    topology = Topology(exchange=settings.amqp_exchange, queue=settings.queue)
    consumer = ActivityConsumer(
        settings.amqp_url.get_secret_value(),
        topology,
        BatchWriter(
            redis_client(
                settings,
                health_check_interval=30,
                # One quick retry covers a stale pooled connection; longer outages are
                # handled by the consumer's own back-off and requeue, not inside redis-py.
                retry=Retry(NoBackoff(), 1),
            ),
            stream_maxlen=settings.users_activity_maxlen,
        ),
        prefetch=settings.prefetch,
        batch_max=settings.ingest_batch_max,
        batch_wait_seconds=settings.ingest_batch_wait_ms / 1000,
    )
    stop_on_signals(consumer.stop)
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
