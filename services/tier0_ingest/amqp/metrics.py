"""Prometheus metrics of the AMQP ingest worker.

Dead letters are counted by the shared ``tier0_ingest_dead_letters_total{source="amqp"}``
(see ``tier0_ingest.deadletter``); everything else about this worker is here.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONSUMED = Counter("tier0_amqp_ingest_consumed_total", "Messages received from RabbitMQ")
REDELIVERED = Counter(
    "tier0_amqp_ingest_redelivered_total", "Messages RabbitMQ delivered again after a requeue"
)
WRITTEN = Counter("tier0_amqp_ingest_written_total", "Valid reports written to Redis and acked")
REJECTED = Counter(
    "tier0_amqp_ingest_rejected_total",
    "Invalid messages rejected to the RabbitMQ dead-letter queue",
)
BATCHES = Counter("tier0_amqp_ingest_batches_total", "Batches written to Redis")
BATCH_SIZE = Histogram(
    "tier0_amqp_ingest_batch_size",
    "Messages per batch",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
ACKS = Counter("tier0_amqp_ingest_acks_total", "basic.ack frames sent (each may cover many)")
REQUEUED = Counter(
    "tier0_amqp_ingest_requeued_total", "Messages nacked back to the queue because Redis failed"
)
REDIS_ERRORS = Counter("tier0_amqp_ingest_redis_errors_total", "Failed Redis batch writes")
REDIS_WRITE_SECONDS = Histogram(
    "tier0_amqp_ingest_redis_write_seconds",
    "Time of one batch's Redis pipeline (successful writes)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
AMQP_CONNECTS = Counter("tier0_amqp_ingest_amqp_connects_total", "Connections opened to RabbitMQ")
LAST_WRITE = Gauge(
    "tier0_amqp_ingest_last_write_timestamp_seconds", "Epoch seconds of the last Redis write"
)
