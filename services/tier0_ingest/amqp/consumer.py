"""The acknowledgement discipline: nothing is acked before Redis has it, nothing bad
blocks the queue, and no outage of RabbitMQ or Redis stops the worker for good.

Per batch (up to ``batch_max`` messages, or whatever arrived within ``batch_wait``):

- decode every message; valid reports and the dead letters of invalid ones go to Redis
  in one transaction (``writer``);
- if that succeeded: each invalid message is ``basic.reject``-ed without requeue, so
  RabbitMQ dead-letters the original into ``<queue>.dlq``, then one ``basic.ack`` with
  ``multiple`` settles every valid one;
- if Redis failed: nothing is acked. After a back-off (doubling up to 10 s, during which
  heartbeats are still answered) the whole batch is ``basic.nack``-ed with requeue, so
  RabbitMQ redelivers it and the next attempt tries Redis again. The backlog waits in
  the region's durable queue for as long as Redis is away.

If the RabbitMQ connection drops, RabbitMQ itself requeues whatever was unacked; the
worker forgets its batch and reconnects with back-off, redeclaring its topology.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

import pika
import pika.exceptions
import redis
import structlog
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.spec import Basic, BasicProperties

from tier0_common.schema import UserActivity

from . import metrics
from .decode import Refusal, decode
from .topology import Topology, declare
from .writer import BatchWriter, DeadLetter

MAX_BACKOFF_SECONDS: Final = 10.0
#: How long the loop may block when it holds no batch (bounds the reaction to a stop).
IDLE_WAIT_SECONDS: Final = 1.0

log = structlog.get_logger("tier0.ingest.amqp")


@dataclass(frozen=True, slots=True)
class Delivery:
    tag: int
    routing_key: str
    body: bytes


class ActivityConsumer:
    """Consumes one region's queue into one region's Redis until ``stop()``."""

    def __init__(
        self,
        amqp_url: str,
        topology: Topology,
        writer: BatchWriter,
        *,
        prefetch: int,
        batch_max: int,
        batch_wait_seconds: float,
    ) -> None:
        self._parameters = pika.URLParameters(amqp_url)
        self._topology = topology
        self._writer = writer
        self._prefetch = prefetch
        self._batch_max = batch_max
        self._batch_wait = batch_wait_seconds
        self._batch: list[Delivery] = []
        self._batch_started = 0.0
        self._redis_backoff = 0.5
        self._stopping = False

    def stop(self) -> None:
        """Ask the loop to finish its batch and return; safe from a signal handler."""
        self._stopping = True

    def run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            connection: BlockingConnection | None = None
            try:
                connection = BlockingConnection(self._parameters)
                channel = connection.channel()
                declare(channel, self._topology)
                channel.basic_qos(prefetch_count=self._prefetch)
                channel.basic_consume(self._topology.queue, self._on_message)
                metrics.AMQP_CONNECTS.inc()
                log.info("amqp_consuming", queue=self._topology.queue, prefetch=self._prefetch)
                backoff = 0.5
                self._loop(connection, channel)
            except (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError) as exc:
                # Unacked deliveries return to the queue with the connection; drop our copies.
                self._batch.clear()
                if self._stopping:
                    break
                log.warning("amqp_unavailable", error=repr(exc), retry_in=backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            finally:
                if connection is not None and connection.is_open:
                    try:
                        connection.close()
                    except (pika.exceptions.AMQPError, OSError):
                        pass
        log.info("amqp_consumer_stopped")

    def _on_message(
        self,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: BasicProperties,
        body: bytes,
    ) -> None:
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.append(Delivery(method.delivery_tag, method.routing_key, body))
        metrics.CONSUMED.inc()
        if method.redelivered:
            metrics.REDELIVERED.inc()

    def _loop(self, connection: BlockingConnection, channel: BlockingChannel) -> None:
        while not self._stopping:
            if self._batch:
                age = time.monotonic() - self._batch_started
                wait = max(0.0, self._batch_wait - age)
            else:
                wait = IDLE_WAIT_SECONDS
            if wait > 0:
                connection.process_data_events(time_limit=wait)
            if self._batch and (
                len(self._batch) >= self._batch_max
                or time.monotonic() - self._batch_started >= self._batch_wait
            ):
                self._flush(connection, channel)
        if self._batch:
            self._flush(connection, channel)

    def _flush(self, connection: BlockingConnection, channel: BlockingChannel) -> None:
        batch = self._batch
        reports: list[UserActivity] = []
        letters: list[DeadLetter] = []
        good_tags: list[int] = []
        bad_tags: list[int] = []
        for delivery in batch:
            decoded = decode(delivery.body)
            if isinstance(decoded, Refusal):
                letters.append(DeadLetter(decoded.reason, delivery.body, delivery.routing_key))
                bad_tags.append(delivery.tag)
                log.warning("message_refused", reason=decoded.reason, key=delivery.routing_key)
            else:
                reports.append(decoded)
                good_tags.append(delivery.tag)
        started = time.perf_counter()
        try:
            self._writer.write(reports, letters)
        except redis.RedisError as exc:
            metrics.REDIS_ERRORS.inc()
            log.warning(
                "redis_write_failed",
                error=repr(exc),
                messages=len(batch),
                requeue_in=self._redis_backoff,
            )
            # Messages that arrive during the back-off join the batch and are requeued too.
            connection.sleep(self._redis_backoff)
            self._redis_backoff = min(self._redis_backoff * 2, MAX_BACKOFF_SECONDS)
            held = self._batch
            self._batch = []
            channel.basic_nack(max(d.tag for d in held), multiple=True, requeue=True)
            metrics.REQUEUED.inc(len(held))
            return
        metrics.REDIS_WRITE_SECONDS.observe(time.perf_counter() - started)
        if self._redis_backoff > 0.5:
            log.info("redis_write_recovered")
        self._redis_backoff = 0.5
        self._batch = []
        for tag in bad_tags:
            channel.basic_reject(tag, requeue=False)
        if good_tags:
            channel.basic_ack(max(good_tags), multiple=True)
            metrics.ACKS.inc()
        metrics.BATCHES.inc()
        metrics.BATCH_SIZE.observe(len(batch))
        metrics.WRITTEN.inc(len(reports))
        metrics.REJECTED.inc(len(bad_tags))
        metrics.LAST_WRITE.set(time.time())
