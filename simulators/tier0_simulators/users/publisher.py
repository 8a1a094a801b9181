"""Deliver reports to RabbitMQ so that a report the broker accepted is on disk, and a
report it refused is retried and counted rather than lost without a trace.

Publisher confirms make ``basic_publish`` return only once the broker has taken
responsibility for the message (persistent, in every bound durable queue). ``mandatory``
makes a message no queue wants come back as an error instead of vanishing: that is what
happens if the simulator starts before any region's ingest worker has declared its
queue, so unroutable messages are retried with back-off like nacked ones. A broken
connection (RabbitMQ restarted) is re-opened, and the same message published again:
delivery is at least once.
"""

from __future__ import annotations

import time
from typing import Final

import pika
import pika.exceptions
import structlog
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from prometheus_client import Counter, Histogram

from tier0_common.catalog import activity_routing_key

PUBLISHED = Counter("tier0_usersim_published_total", "Reports confirmed by RabbitMQ", ["site_id"])
RETRIES = Counter(
    "tier0_usersim_publish_retries_total",
    "Publish attempts repeated, by cause (nack, unroutable, connection)",
    ["cause"],
)
DROPPED = Counter(
    "tier0_usersim_dropped_total",
    "Reports given up on after every attempt was nacked or unroutable",
    ["cause"],
)
RECONNECTS = Counter("tier0_usersim_reconnects_total", "Connections (re)opened to RabbitMQ")
CONFIRM_SECONDS = Histogram(
    "tier0_usersim_confirm_seconds",
    "Time from publish to the broker's confirm",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)

#: Longest pause between reconnection attempts.
MAX_BACKOFF_SECONDS: Final = 10.0

log = structlog.get_logger("tier0.usersim.publisher")


class ConfirmedPublisher:
    """A confirming channel to one topic exchange that survives broker restarts."""

    def __init__(self, url: str, exchange: str, *, attempts: int = 5) -> None:
        self._parameters = pika.URLParameters(url)
        self._exchange = exchange
        self._attempts = attempts
        self._connection: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _open(self) -> BlockingChannel:
        """Connect, declare the exchange (idempotent) and turn confirms on; retry forever."""
        backoff = 0.5
        while True:
            try:
                connection = BlockingConnection(self._parameters)
                channel = connection.channel()
                channel.exchange_declare(self._exchange, exchange_type="topic", durable=True)
                channel.confirm_delivery()
            except pika.exceptions.AMQPConnectionError as exc:
                log.warning("amqp_connect_failed", error=repr(exc), retry_in=backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            RECONNECTS.inc()
            log.info("amqp_connected", exchange=self._exchange)
            self._connection, self._channel = connection, channel
            return channel

    def publish(self, site_id: str, body: bytes) -> bool:
        """Publish one report; True once confirmed, False if every attempt was refused."""
        properties = pika.BasicProperties(
            content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent
        )
        refused = 0
        backoff = 0.25
        while True:
            channel = self._channel or self._open()
            try:
                with CONFIRM_SECONDS.time():
                    channel.basic_publish(
                        self._exchange,
                        activity_routing_key(site_id),
                        body,
                        properties,
                        mandatory=True,
                    )
            except (pika.exceptions.NackError, pika.exceptions.UnroutableError) as exc:
                cause = "nack" if isinstance(exc, pika.exceptions.NackError) else "unroutable"
                refused += 1
                if refused >= self._attempts:
                    DROPPED.labels(cause=cause).inc()
                    log.error("report_dropped", site_id=site_id, cause=cause, attempts=refused)
                    return False
                RETRIES.labels(cause=cause).inc()
                log.warning("publish_refused", site_id=site_id, cause=cause, retry_in=backoff)
                self.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            except (pika.exceptions.AMQPError, OSError) as exc:
                # Connection or channel lost mid-publish: the broker may or may not have the
                # message; publishing it again errs on the side of a duplicate.
                RETRIES.labels(cause="connection").inc()
                log.warning("amqp_connection_lost", error=repr(exc), retry_in=backoff)
                self._discard()
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            else:
                PUBLISHED.labels(site_id=site_id).inc()
                return True

    def sleep(self, seconds: float) -> None:
        """Wait while answering the connection's heartbeats, so an idle link stays up."""
        if seconds <= 0:
            return
        if self._connection is not None:
            try:
                self._connection.sleep(seconds)
                return
            except (pika.exceptions.AMQPError, OSError) as exc:
                log.warning("amqp_connection_lost", error=repr(exc))
                self._discard()
        time.sleep(seconds)

    def _discard(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except (pika.exceptions.AMQPError, OSError):
                pass

    def close(self) -> None:
        self._discard()
