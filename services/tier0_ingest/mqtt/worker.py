"""The ingest loop: read MQTT in chunks, validate, batch, write, ack; survive both servers.

One thread, no callbacks: each turn waits (select) for the broker socket at most until
the current batch is due, takes every packet that arrived, and flushes when the batch
is full (BATCH_MAX) or old enough (BATCH_MAX_WAIT_MS). If the broker goes away the
worker reconnects with back-off; if Redis goes away it keeps reading and holds each
device's newest state until Redis is back (see writer). Bad messages and packets the
decoder stepped over are dead-lettered, never raised.

At-least-once for QoS 1: a delivery is PUBACKed only once Redis confirmed the batch
that carries it (or its dead letter), so a worker killed at any moment leaves every
unacked message with the broker, which sends it again to the resumed session. Acks
belong to one connection: after a reconnect the broker resends what was not acked,
and rewriting a device's state is idempotent.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from dataclasses import dataclass
from typing import Final

import orjson
import structlog
from pydantic import ValidationError

from tier0_common.catalog import CANARY_TOPIC_ROOT
from tier0_common.mqtt_wire import Decoded, Rejected
from tier0_common.schema import Canary

from ..deadletter import reason_label
from . import metrics
from .session import MqttSession, SessionLost
from .settings import MqttIngestSettings
from .validate import Reading, Validator
from .writer import RedisCommandErrors, RedisDown, TelemetryWriter

log = structlog.get_logger("tier0.ingest.mqtt")

MAX_BACKOFF_SECONDS: Final = 10.0
FIRST_BACKOFF_SECONDS: Final = 0.2
#: Longest one turn of the loop sleeps, so stop requests and keep-alives stay prompt.
IDLE_WAIT_SECONDS: Final = 0.5
_CANARY_PREFIX: Final = (CANARY_TOPIC_ROOT + "/").encode()


@dataclass
class Totals:
    """Counts since start, for the periodic summary and for tests."""

    received: int = 0
    accepted: int = 0
    written: int = 0
    dead_letters: int = 0
    canaries: int = 0
    mqtt_connects: int = 0
    redis_failures: int = 0
    rejected_packets: int = 0
    acked: int = 0


class Backoff:
    def __init__(self) -> None:
        self.delay = FIRST_BACKOFF_SECONDS
        self.not_before = 0.0

    def failed(self, now: float) -> float:
        wait = self.delay
        self.not_before = now + wait
        self.delay = min(self.delay * 2, MAX_BACKOFF_SECONDS)
        return wait

    def reset(self) -> None:
        self.delay = FIRST_BACKOFF_SECONDS
        self.not_before = 0.0

    def ready(self, now: float) -> bool:
        return now >= self.not_before


def client_id(share_group: str) -> str:
    """The default id: unique per process, for a clean session (see MQTT_CLIENT_ID)."""
    return f"{share_group}-{socket.gethostname()}-{os.getpid()}"


class IngestWorker:
    def __init__(
        self, settings: MqttIngestSettings, session: MqttSession, writer: TelemetryWriter
    ) -> None:
        self.settings = settings
        self.session = session
        self.writer = writer
        self.totals = Totals()
        self.validator = Validator()
        self._stop = threading.Event()
        self._mqtt_backoff = Backoff()
        self._redis_backoff = Backoff()
        self._batch_wait = settings.batch_max_wait_ms / 1000
        self._batch_started = 0.0
        self._lag_tick = 0
        self._summary_due = time.monotonic() + settings.summary_interval_seconds
        self._summary_written = 0
        #: QoS 1 packet ids of messages not yet sent to Redis, and of the batch in flight.
        self._acks_pending: list[int] = []
        self._acks_inflight: list[int] = []

    def stop(self) -> None:
        """Ask the loop to write what it holds and return; safe from a signal handler."""
        self._stop.set()

    def run(self) -> None:
        while not self._stop.is_set():
            self.turn()
        self._drain()
        self.session.close()
        self.writer.close()
        log.info("ingest_mqtt_stopped", **vars(self.totals))

    def turn(self) -> None:
        """One wait-read-handle-flush cycle (public so tests can step the loop)."""
        now = time.monotonic()
        if not self.session.connected and self._mqtt_backoff.ready(now):
            self._connect(now)
        decoded: Decoded | None = None
        wait = self._wait_seconds(now)
        if self.session.connected:
            try:
                held = self.session.holding
                ready, _, _ = select.select([self.session], [], [], 0 if held else wait)
                if ready or held:
                    decoded = self.session.read()
                self.session.keep_alive()
            except SessionLost as exc:
                self._lost(exc)
        else:
            self._stop.wait(wait)
        if decoded is not None:
            if decoded.publishes:
                self._handle(decoded.publishes, time.time())
            for rejected in decoded.rejected:
                self._reject(rejected)
            self._acks_pending += decoded.acks
            if decoded.broken:
                self._lost(SessionLost(f"protocol error: {decoded.broken}"))
        self._maybe_flush(idle=decoded is None or not decoded.publishes)
        self._maybe_summarise()

    def _connect(self, now: float) -> None:
        try:
            self.session.connect()
        except SessionLost as exc:
            wait = self._mqtt_backoff.failed(now)
            log.warning("mqtt_unavailable", error=str(exc), retry_in=round(wait, 2))
            return
        self._mqtt_backoff.reset()
        self.totals.mqtt_connects += 1
        metrics.MQTT_CONNECTS.inc()
        log.info(
            "mqtt_subscribed",
            broker=f"{self.session.host}:{self.session.port}",
            filters=self.session.topic_filters,
        )

    def _lost(self, exc: SessionLost) -> None:
        # Packet ids die with the connection; the broker resends what was not acked.
        self._acks_pending.clear()
        self._acks_inflight.clear()
        metrics.MQTT_DISCONNECTS.inc()
        wait = self._mqtt_backoff.failed(time.monotonic())
        log.warning("mqtt_session_lost", error=str(exc), retry_in=round(wait, 2))

    def _wait_seconds(self, now: float) -> float:
        writer = self.writer
        if writer.pending_messages:
            due = self._batch_started + self._batch_wait
            if not self._redis_backoff.ready(now):
                due = max(due, self._redis_backoff.not_before)
            return min(max(0.0, due - now), IDLE_WAIT_SECONDS)
        if writer.busy:
            return 0.0 if self._redis_backoff.ready(now) else IDLE_WAIT_SECONDS / 5
        if not self.session.connected:
            return min(IDLE_WAIT_SECONDS, max(0.0, self._mqtt_backoff.not_before - now))
        return IDLE_WAIT_SECONDS

    def _handle(self, publishes: list[tuple[bytes, bytes]], now: float) -> None:
        writer = self.writer
        if not writer.pending_messages:
            self._batch_started = time.monotonic()
        add = writer.add
        check = self.validator.check
        seen = f"{now:.3f}"
        every = metrics.LAG_SAMPLE_EVERY
        tick = self._lag_tick
        accepted = 0
        for topic, payload in publishes:
            if topic.startswith(_CANARY_PREFIX):
                self._canary(topic, payload, now)
                continue
            result = check(topic, payload, seen)
            if type(result) is Reading:
                add(result.device_id, result.site_id, result.device, result.dynamic)
                accepted += 1
                tick += 1
                if tick >= every:
                    tick = 0
                    metrics.LAG.observe(now - result.time)
            else:
                self.totals.dead_letters += 1
                writer.dead_letter(result.reason, topic, payload)  # type: ignore[union-attr]
        self._lag_tick = tick
        self.totals.received += len(publishes)
        self.totals.accepted += accepted
        metrics.RECEIVED.inc(len(publishes))

    def _reject(self, packet: Rejected) -> None:
        """A packet the decoder stepped over: dead-lettered and counted, session kept."""
        self.totals.dead_letters += 1
        self.totals.rejected_packets += 1
        metrics.REJECTED_PACKETS.labels(reason=reason_label(packet.reason)).inc()
        self.writer.dead_letter(packet.reason, packet.topic, packet.head, size=packet.size)
        log.warning(
            "mqtt_packet_rejected",
            reason=packet.reason,
            topic=packet.topic.decode(errors="replace")[:256],
            size=packet.size,
        )

    def _canary(self, topic: bytes, payload: bytes, now: float) -> None:
        topic_id = topic[len(_CANARY_PREFIX) :].decode(errors="replace")
        try:
            probe = Canary.model_validate(orjson.loads(payload))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            reason = f"invalid_canary: {str(exc).splitlines()[0]}"
        else:
            if probe.canary_id == topic_id:
                self.totals.canaries += 1
                self.writer.canary(probe.canary_id, now)
                log.info("canary_received", canary_id=probe.canary_id, sent_at=probe.sent_at)
                return
            reason = f"topic_mismatch: canary {probe.canary_id!r} on topic id {topic_id!r}"
        self.totals.dead_letters += 1
        self.writer.dead_letter(reason, topic, payload)

    def _maybe_flush(self, *, idle: bool) -> None:
        writer = self.writer
        if not writer.busy:
            return
        now = time.monotonic()
        if not self._redis_backoff.ready(now):
            return
        due = writer.pending_messages >= self.settings.batch_max or (
            writer.pending_messages and now - self._batch_started >= self._batch_wait
        )
        try:
            if due or (idle and writer.pending_messages == 0):
                self._flush()
                if writer.pending_messages == 0:
                    self._batch_started = now
            elif idle:
                writer.settle()
                self._ack_inflight()
        except SessionLost as exc:
            self._lost(exc)
        except RedisDown as exc:
            # Nothing is acked that Redis may not hold: the batch in flight goes back.
            self._acks_pending[:0] = self._acks_inflight
            self._acks_inflight = []
            self.totals.redis_failures += 1
            wait = self._redis_backoff.failed(now)
            metrics.PENDING.set(writer.pending_devices)
            log.warning(
                "redis_unavailable",
                error=str(exc),
                pending_devices=writer.pending_devices,
                retry_in=round(wait, 2),
            )
            return
        except RedisCommandErrors as exc:
            # The rest of the batch landed and a retry would fail the same way: ack it.
            log.error("redis_commands_failed", count=len(exc.errors), first=exc.errors[0])
            self._acks_inflight += self._acks_pending
            self._acks_pending = []
            self._ack_inflight()
        if self._redis_backoff.delay > FIRST_BACKOFF_SECONDS:
            log.info("redis_recovered")
        self._redis_backoff.reset()
        metrics.PENDING.set(writer.pending_devices)

    def _flush(self) -> None:
        """Send the pending batch; ack what Redis has now confirmed.

        ``writer.flush`` first settles the batch in flight and writes the dead letters,
        so when it returns the previous batch is stored; the one just sent is acked
        after its own replies (next flush or settle).
        """
        sent = self.writer.flush()
        self.totals.written += sent
        self._ack_inflight()
        self._acks_inflight, self._acks_pending = self._acks_pending, []
        if not sent:
            # Only dead letters or canaries were pending, and they are written.
            self._ack_inflight()

    def _ack_inflight(self) -> None:
        if self._acks_inflight:
            acks, self._acks_inflight = self._acks_inflight, []
            self.totals.acked += len(acks)
            metrics.ACKED.inc(len(acks))
            self.session.ack(acks)

    def _maybe_summarise(self) -> None:
        now = time.monotonic()
        if now < self._summary_due:
            return
        interval = self.settings.summary_interval_seconds + (now - self._summary_due)
        rate = (self.totals.written - self._summary_written) / interval
        self._summary_written = self.totals.written
        self._summary_due = now + self.settings.summary_interval_seconds
        metrics.RATE.set(rate)
        log.info(
            "ingest_summary",
            rate_per_s=round(rate, 1),
            mqtt_connected=self.session.connected,
            pending_devices=self.writer.pending_devices,
            **vars(self.totals),
        )

    def _drain(self) -> None:
        """On stop: one last attempt to write what is held (Redis may be down)."""
        try:
            if self.writer.busy:
                self._flush()
                self.writer.settle()
                self._ack_inflight()
        except SessionLost:
            pass
        except (RedisDown, RedisCommandErrors) as exc:
            log.warning("final_flush_failed", error=str(exc), lost=self.writer.pending_messages)
