"""QoS 0 publishing to Mosquitto over one socket, in large writes, at a capped rate.

Why not paho: its per-message cost caps a Python publisher near 19,000 msg/s here
(docs/ingest.md), below the fleet's 100,000 a second. Frames are encoded with
tier0_common.mqtt_wire and written ``CHUNK_BYTES`` at a time. The only packets the
broker sends a publisher are CONNACK and PINGRESP, so reading is limited to the
handshake and to draining the socket now and then.
"""

from __future__ import annotations

import select
import socket
import time
from typing import Final

from tier0_common import mqtt_wire

CHUNK_BYTES: Final = 64 * 1024


class BrokerUnavailable(ConnectionError):
    """The broker is unreachable; ``lost`` queued messages were dropped (QoS 0)."""

    def __init__(self, message: str, lost: int = 0) -> None:
        super().__init__(message)
        self.lost = lost


class Publisher:
    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        *,
        keepalive: int = 60,
        max_rate: float = 0.0,
        connect_timeout: float = 5.0,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host = host
        self.username = username
        self._password = password
        self.port = port
        self.client_id = client_id
        self.keepalive = keepalive
        self.max_rate = max_rate
        self.connect_timeout = connect_timeout
        self.sent = 0
        self._sock: socket.socket | None = None
        self._out = bytearray()
        self._queued = 0
        self._last_write = 0.0
        self._rate_started = 0.0
        self._rate_sent = 0

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def connect(self) -> None:
        self._drop()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
            sock.sendall(
                mqtt_wire.encode_connect(
                    self.client_id,
                    keepalive=self.keepalive,
                    username=self.username,
                    password=self._password,
                )
            )
            decoder = mqtt_wire.Decoder()
            others: list[mqtt_wire.Other] = []
            while not others:
                data = sock.recv(64)
                if not data:
                    raise OSError("broker closed the connection during CONNECT")
                decoded = decoder.feed(data)
                if decoded.broken or decoded.rejected:
                    raise mqtt_wire.ProtocolError(decoded.broken or decoded.rejected[0].reason)
                others = decoded.others
            _, code = mqtt_wire.parse_connack(others[0])
            if code != 0:
                raise OSError(f"broker refused: {mqtt_wire.CONNACK_REASONS.get(code, code)}")
            sock.settimeout(None)
        except (OSError, mqtt_wire.ProtocolError) as exc:
            raise BrokerUnavailable(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        self._sock = sock
        self._last_write = time.monotonic()
        self._rate_started = self._last_write
        self._rate_sent = 0

    def publish(self, frame: bytes) -> None:
        """Queue one encoded PUBLISH; written once CHUNK_BYTES are queued."""
        self._out += frame
        self._queued += 1
        if len(self._out) >= CHUNK_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write everything queued (pacing to max_rate). Raises BrokerUnavailable; what
        was queued is then dropped (QoS 0) and counted by the caller as not sent."""
        if not self._out:
            return
        if self._sock is None:
            raise BrokerUnavailable("not connected", self._discard())
        if self.max_rate > 0:
            due = self._rate_started + (self._rate_sent + self._queued) / self.max_rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        try:
            self._sock.sendall(self._out)
            self._drain()
        except OSError as exc:
            self._drop()
            lost = self._discard()
            raise BrokerUnavailable(f"write to broker failed: {exc}", lost) from exc
        self.sent += self._queued
        self._rate_sent += self._queued
        self._out.clear()
        self._queued = 0
        self._last_write = time.monotonic()

    def idle(self, seconds: float) -> None:
        """Wait ``seconds`` while keeping the session alive (PINGREQ, drain PINGRESP)."""
        deadline = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            if self._sock is not None and now - self._last_write >= self.keepalive / 2:
                try:
                    self._sock.sendall(mqtt_wire.PINGREQ)
                    self._drain()
                except OSError as exc:
                    self._drop()
                    raise BrokerUnavailable(f"ping failed: {exc}") from exc
                self._last_write = now
            if now >= deadline:
                return
            time.sleep(min(deadline - now, self.keepalive / 4, 1.0))

    def reset_pace(self) -> None:
        """Start the rate cap afresh (after an idle gap between rounds)."""
        self._rate_started = time.monotonic()
        self._rate_sent = 0

    def close(self, timeout: float = 30.0) -> None:
        """Flush, DISCONNECT, and wait for the broker to close: after that every message
        written before has been routed by the broker."""
        try:
            self.flush()
        finally:
            if self._sock is not None:
                sock = self._sock
                self._sock = None
                try:
                    sock.sendall(mqtt_wire.DISCONNECT)
                    sock.shutdown(socket.SHUT_WR)
                    sock.settimeout(timeout)
                    while sock.recv(65536):
                        pass
                except OSError:
                    pass
                finally:
                    sock.close()

    def _drain(self) -> None:
        assert self._sock is not None
        while select.select([self._sock], [], [], 0)[0]:
            if not self._sock.recv(65536):
                raise OSError("broker closed the connection")

    def _discard(self) -> int:
        lost = self._queued
        self._out.clear()
        self._queued = 0
        return lost

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
