"""Latest device states into Redis: coalesced, pipelined, and kept through outages.

Two connections, by the shape of their replies:

- the hot one (``RespPipe``, a plain socket) carries only commands whose replies are
  one line (HSET, HINCRBY), so a batch of thousands of device writes is one
  ``sendall`` and its replies are settled by counting CRLFs. Why not redis-py here:
  building each 38-argument HSET through its pipeline measured ~12,000 writes/s on
  this machine, against ~38,000 with pre-rendered commands (rendered from validated
  readings at flush time);
  redis-py's per-reply ``read_response`` costs another ~2 us a message;
- the cold one (redis-py) carries the rare writes with other replies: dead letters
  (XADD) and canaries (SET ... EX).

State is kept per device (the newest reading wins), so while Redis is away the worker
keeps reading MQTT and holds at most one write per device (bounded by the fleet);
when Redis returns the region gets every device's latest state at once. The batch in
flight is sent before the next one is built and settled after it, so Redis works while
the worker decodes. The site counters are additive (HINCRBY): a batch that failed
after Redis applied part of it is counted twice; device states are idempotent.

Write less: a device's first write is the whole hash; later ones leave out the fields
that did not change since this worker last wrote them (id, type, site, fw, lat, lon,
tags) and carry ts, seen, the status and the metrics (12 of 18 fields). The status is
always written: replicas of a region take turns with a device's readings, and a
status that flips (OK, WARN, OK) must not be skipped because *this* replica last wrote
the same value. What this worker believes Redis holds is forgotten, so the next write
of every device is whole again, when the connection to Redis is new (a restarted Redis
may be empty), after a failed batch or command errors, and every
FULL_WRITE_INTERVAL_SECONDS (which bounds the damage of anything else: a FLUSHALL, a
static value changed back and forth between replicas).
"""

from __future__ import annotations

import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final

import redis

from tier0_common.keys import (
    CANARY_TTL_SECONDS,
    DLQ_TELEMETRY,
    INGEST_LAST,
    canary_key,
    site_key,
)

from ..deadletter import add_dead_letter
from . import metrics
from .redis_encoding import Device, render

SOURCE: Final = "mqtt"
#: Dead letters and canaries held while Redis is away; older ones are dropped first.
MAX_HELD_SIDE_WRITES: Final = 10_000
#: Bound on the devices whose last write is remembered (beyond: forget, write whole).
MAX_REMEMBERED_DEVICES: Final = 1 << 20


#: Error replies that mean "not now" rather than "never": the batch is retried.
TRANSIENT_ERRORS: Final = ("LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "OOM")


class RedisDown(ConnectionError):
    """Redis could not take a batch; it stays pending and is retried after back-off."""


def resp(*args: str) -> bytes:
    """One RESP command (for the few commands rendered here, not on the hot path)."""
    parts = [f"*{len(args)}\r\n"]
    for arg in args:
        parts.append(f"${len(arg.encode())}\r\n{arg}\r\n")
    return "".join(parts).encode()


class RespPipe:
    """A socket to Redis for pipelines of commands with one-line replies."""

    def __init__(
        self, host: str, port: int, password: str | None = None, timeout: float = 10.0
    ) -> None:
        self.host = host
        self.port = port
        self._password = password
        self._timeout = timeout
        self._sock: socket.socket | None = None
        #: Connections opened so far: a new one may lead to a Redis that lost its data.
        self.connections = 0

    def ensure_connected(self) -> None:
        if self._sock is None:
            self._connect()

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self._timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            raise RedisDown(f"cannot reach redis {self.host}:{self.port}: {exc}") from exc
        self._sock = sock
        self.connections += 1
        if self._password is not None:
            errors = self._exchange(resp("AUTH", self._password), 1)
            if errors:
                self.close()
                raise RedisDown(f"redis AUTH failed: {errors[0]}")
        return sock

    def send(self, data: bytes) -> None:
        sock = self._sock or self._connect()
        try:
            sock.sendall(data)
        except OSError as exc:
            self.close()
            raise RedisDown(f"redis write failed: {exc}") from exc

    def replies(self, count: int) -> list[str]:
        """Read ``count`` one-line replies; returns the error replies among them."""
        if self._sock is None:
            raise RedisDown("redis connection lost before its replies")
        chunks: list[bytes] = []
        seen = 0
        try:
            while seen < count:
                data = self._sock.recv(1 << 16)
                if not data:
                    raise OSError("redis closed the connection")
                chunks.append(data)
                seen += data.count(b"\r\n")
        except OSError as exc:
            self.close()
            raise RedisDown(f"redis read failed: {exc}") from exc
        text = b"".join(chunks)
        if seen != count or not text.endswith(b"\r\n"):
            self.close()
            raise RedisDown(f"unexpected redis reply ({seen} lines for {count} commands)")
        if b"-" not in text:
            return []
        return [
            line[1:].decode(errors="replace")
            for line in text.split(b"\r\n")
            if line.startswith(b"-")
        ]

    def _exchange(self, data: bytes, count: int) -> list[str]:
        self.send(data)
        return self.replies(count)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


@dataclass
class _Batch:
    #: Per device, its newest reading: cached values and the per-reading RESP text.
    devices: dict[str, tuple[Device, str]] = field(default_factory=dict)
    site_msgs: dict[str, int] = field(default_factory=dict)
    messages: int = 0

    def merge_older(self, older: _Batch) -> None:
        """Fold a failed earlier batch back in; this batch's newer states win."""
        for device_id, reading in older.devices.items():
            self.devices.setdefault(device_id, reading)
        for site_id, count in older.site_msgs.items():
            self.site_msgs[site_id] = self.site_msgs.get(site_id, 0) + count
        self.messages += older.messages


class _Recorder:
    """Captures add_dead_letter's XADD so it can be replayed after a Redis outage
    (add_dead_letter counts the metric once, when the message is refused)."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def xadd(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))


class TelemetryWriter:
    def __init__(self, hot: RespPipe, cold: redis.Redis, full_write_interval: float = 60.0) -> None:
        self._hot = hot
        self._cold = cold
        #: Per device, the static RESP text this worker last sent (see module docstring).
        self._stored: dict[str, str] = {}
        self._stored_connection = -1
        self._full_write_interval = full_write_interval
        self._stored_since = time.monotonic()
        self._pending = _Batch()
        self._inflight: _Batch | None = None
        self._inflight_commands = 0
        self._inflight_sent = 0.0
        self._side: deque[tuple[str, tuple[Any, ...], dict[str, Any]]] = deque(
            maxlen=MAX_HELD_SIDE_WRITES
        )

    @property
    def pending_messages(self) -> int:
        return self._pending.messages

    @property
    def pending_devices(self) -> int:
        return len(self._pending.devices)

    @property
    def busy(self) -> bool:
        """Something is waiting to be written or settled."""
        return bool(self._pending.messages or self._side or self._inflight is not None)

    def add(self, device_id: str, site_id: str, device: Device, dynamic: str) -> None:
        pending = self._pending
        pending.devices[device_id] = (device, dynamic)
        pending.site_msgs[site_id] = pending.site_msgs.get(site_id, 0) + 1
        pending.messages += 1

    def dead_letter(
        self, reason: str, topic: bytes, payload: bytes, *, size: int | None = None
    ) -> None:
        """``size``: the whole message's, when ``payload`` is only its head."""
        recorder = _Recorder()
        add_dead_letter(
            recorder,
            DLQ_TELEMETRY,
            source=SOURCE,
            reason=reason,
            payload=payload,
            where=topic.decode(errors="replace"),
            size=size,
        )
        for args, kwargs in recorder.calls:
            self._side.append(("xadd", args, kwargs))

    def canary(self, canary_id: str, ingested_at: float) -> None:
        self._side.append(
            ("set", (canary_key(canary_id), f"{ingested_at:.3f}"), {"ex": CANARY_TTL_SECONDS})
        )

    def flush(self) -> int:
        """Settle the batch in flight, then send the pending one. Returns messages sent.

        Raises RedisDown with nothing lost: unsent states stay pending.
        """
        self.settle()
        self._write_side()
        batch = self._pending
        if not batch.messages:
            return 0
        try:
            self._hot.ensure_connected()
        except RedisDown:
            self.forget()
            raise
        self._maybe_forget()
        now = f"{time.time():.3f}"
        commands = [self._render(batch.devices).encode()]
        for site_id, count in batch.site_msgs.items():
            key = site_key(site_id)
            commands.append(resp("HINCRBY", key, "msgs", str(count)))
            commands.append(resp("HSET", key, "last_seen", now))
        commands.append(resp("HSET", INGEST_LAST, SOURCE, now))
        self._pending = _Batch()
        self._inflight = batch
        self._inflight_commands = len(batch.devices) + len(commands) - 1
        self._inflight_sent = time.perf_counter()
        try:
            self._hot.send(b"".join(commands))
        except RedisDown:
            self._requeue()
            raise
        metrics.BATCH_SIZE.observe(len(batch.devices))
        return batch.messages

    def settle(self) -> None:
        """Wait for the replies of the batch in flight, if any."""
        batch = self._inflight
        if batch is None:
            return
        try:
            errors = self._hot.replies(self._inflight_commands)
        except RedisDown:
            self._requeue()
            raise
        transient = [e for e in errors if e.startswith(TRANSIENT_ERRORS)]
        if transient:
            # Redis refused for now (loading its AOF after a restart, at maxmemory): the
            # batch is kept and retried after back-off, never dropped (nor acked).
            self._requeue()
            raise RedisDown(f"redis refused {len(transient)} write(s): {transient[0]}")
        self._inflight = None
        metrics.REDIS_WRITE_SECONDS.observe(time.perf_counter() - self._inflight_sent)
        if errors:
            # A rejected command (e.g. OOM, a wrong-typed key) is not an outage: the rest
            # of the batch landed. Retrying would fail the same way, so report and go on.
            metrics.REDIS_ERRORS.inc()
            self.forget()
            raise RedisCommandErrors(errors)
        metrics.INGESTED.inc(batch.messages)
        metrics.LAST_WRITE.set(time.time())

    def forget(self) -> None:
        """Assume Redis holds nothing of ours: every device's next write is whole."""
        self._stored = {}
        self._stored_since = time.monotonic()
        metrics.WHOLE_WRITE_RESETS.inc()

    def _maybe_forget(self) -> None:
        connection = self._hot.connections
        if (
            connection != self._stored_connection
            or time.monotonic() - self._stored_since >= self._full_write_interval
            or len(self._stored) >= MAX_REMEMBERED_DEVICES
        ):
            self.forget()
            self._stored_connection = connection

    def _render(self, devices: dict[str, tuple[Device, str]]) -> str:
        """Every device's HSET, whole where Redis may lack its static fields."""
        stored = self._stored
        parts = []
        for device_id, (device, dynamic) in devices.items():
            static = device.static
            if stored.get(device_id) is static:
                parts.append(render(device, dynamic, False))
            else:
                parts.append(render(device, dynamic, True))
                stored[device_id] = static
        return "".join(parts)

    def _requeue(self) -> None:
        self.forget()
        batch, self._inflight = self._inflight, None
        if batch is not None:
            self._pending.merge_older(batch)
        metrics.REDIS_ERRORS.inc()

    def _write_side(self) -> None:
        if not self._side:
            return
        held = list(self._side)
        pipe = self._cold.pipeline(transaction=False)
        for command, args, kwargs in held:
            getattr(pipe, command)(*args, **kwargs)
        try:
            pipe.execute()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise RedisDown(f"redis side write failed: {exc}") from exc
        except redis.RedisError as exc:
            self._side.clear()
            raise RedisCommandErrors([repr(exc)]) from exc
        metrics.CANARIES.inc(sum(1 for command, _, _ in held if command == "set"))
        self._side.clear()

    def close(self) -> None:
        self._hot.close()


class RedisCommandErrors(RuntimeError):
    """Redis answered some commands of a batch with errors (not an outage)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} redis command(s) failed, first: {errors[0]}")
        self.errors = errors
