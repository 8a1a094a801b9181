"""One MQTT 3.1.1 session to Mosquitto: connect, subscribe, read in large chunks, ping.

Why not a client library: see tier0_common.mqtt_wire. The session reads up to
``CHUNK_BYTES`` per ``recv`` and hands back every complete PUBLISH in it, so the
per-message cost is a slice, not a callback and a packet object. It is blocking with
timeouts; the worker owns the loop and decides when to read, flush or ping.
"""

from __future__ import annotations

import socket
import time
from typing import Final

from tier0_common import mqtt_wire
from tier0_common.schema import MAX_TELEMETRY_BYTES

CHUNK_BYTES: Final = 1 << 20
#: Larger packets end the session: no telemetry or canary is anywhere near this, and a
#: broker stream announcing one is broken. Oversized-but-smaller payloads are read and
#: dead-lettered by validation (MAX_TELEMETRY_BYTES).
MAX_PACKET_BYTES: Final = max(1 << 20, 16 * MAX_TELEMETRY_BYTES)


class SessionLost(ConnectionError):
    """The broker closed the connection, refused us, or broke the protocol."""


class MqttSession:
    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        topic_filters: list[str],
        *,
        keepalive: int = 30,
        connect_timeout: float = 5.0,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.topic_filters = topic_filters
        self.keepalive = keepalive
        self.connect_timeout = connect_timeout
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._last_sent = 0.0
        self._last_received = 0.0

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def fileno(self) -> int:
        if self._sock is None:
            raise SessionLost("not connected")
        return self._sock.fileno()

    def connect(self) -> None:
        """Open the socket, CONNECT, SUBSCRIBE, and wait for CONNACK and SUBACK."""
        self.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise SessionLost(f"cannot reach {self.host}:{self.port}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self._sock = sock
        self._buffer = b""
        try:
            sock.sendall(
                mqtt_wire.encode_connect(self.client_id, keepalive=self.keepalive)
                + mqtt_wire.encode_subscribe(1, [(f, 0) for f in self.topic_filters])
            )
            self._await_handshake(time.monotonic() + self.connect_timeout)
        except (OSError, mqtt_wire.ProtocolError) as exc:
            self.close()
            raise SessionLost(f"handshake with {self.host}:{self.port} failed: {exc}") from exc
        except SessionLost:
            self.close()
            raise
        sock.settimeout(None)
        now = time.monotonic()
        self._last_sent = self._last_received = now

    def _await_handshake(self, deadline: float) -> None:
        assert self._sock is not None
        connacked = subacked = False
        while not (connacked and subacked):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SessionLost("no CONNACK/SUBACK in time")
            self._sock.settimeout(remaining)
            data = self._sock.recv(65536)
            if not data:
                raise SessionLost("broker closed the connection during the handshake")
            self._buffer += data
            _, others, used = mqtt_wire.split_packets(self._buffer, MAX_PACKET_BYTES)
            self._buffer = self._buffer[used:]
            for packet in others:
                if packet.packet_type == mqtt_wire.PacketType.CONNACK:
                    _, code = mqtt_wire.parse_connack(packet)
                    if code != 0:
                        reason = mqtt_wire.CONNACK_REASONS.get(code, str(code))
                        raise SessionLost(f"broker refused the connection: {reason}")
                    connacked = True
                elif packet.packet_type == mqtt_wire.PacketType.SUBACK:
                    _, granted = mqtt_wire.parse_suback(packet)
                    refused = [
                        f for f, g in zip(self.topic_filters, granted, strict=False)
                        if g == mqtt_wire.SUBACK_FAILURE
                    ]  # fmt: skip
                    if refused:
                        raise SessionLost(f"broker refused subscriptions {refused}")
                    subacked = True
        # Anything after the SUBACK is telemetry: keep it for the first read().

    def read(self) -> list[tuple[bytes, bytes]]:
        """Every complete PUBLISH now available (blocks until at least one read)."""
        if self._sock is None:
            raise SessionLost("not connected")
        if self._buffer:
            publishes = self._take()
            if publishes:
                return publishes
        try:
            data = self._sock.recv(CHUNK_BYTES)
        except OSError as exc:
            self.close()
            raise SessionLost(f"read failed: {exc}") from exc
        if not data:
            self.close()
            raise SessionLost("broker closed the connection")
        self._last_received = time.monotonic()
        self._buffer = self._buffer + data if self._buffer else data
        return self._take()

    def _take(self) -> list[tuple[bytes, bytes]]:
        try:
            publishes, _others, used = mqtt_wire.split_packets(self._buffer, MAX_PACKET_BYTES)
        except mqtt_wire.ProtocolError as exc:
            self.close()
            raise SessionLost(f"protocol error: {exc}") from exc
        # Others are PINGRESPs (reading them already refreshed _last_received).
        self._buffer = self._buffer[used:]
        return publishes

    def keep_alive(self) -> None:
        """PINGREQ when half the keep-alive passed; drop a broker silent for too long."""
        if self._sock is None:
            return
        now = time.monotonic()
        if now - self._last_received > 2 * self.keepalive:
            self.close()
            raise SessionLost(f"broker silent for {2 * self.keepalive}s")
        if now - self._last_sent >= self.keepalive / 2:
            try:
                self._sock.sendall(mqtt_wire.PINGREQ)
            except OSError as exc:
                self.close()
                raise SessionLost(f"ping failed: {exc}") from exc
            self._last_sent = now

    def close(self) -> None:
        if self._sock is None:
            return
        try:
            self._sock.settimeout(0.5)
            self._sock.sendall(mqtt_wire.DISCONNECT)
        except OSError:
            pass
        self._sock.close()
        self._sock = None
        self._buffer = b""
