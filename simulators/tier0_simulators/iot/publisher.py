"""Publishing to Mosquitto over one socket, in large writes, at a capped rate, QoS 0 or 1.

Why not paho: its per-message cost caps a Python publisher near 19,000 msg/s here
(docs/ingest.md), below the fleet's 100,000 a second. Frames are encoded with
tier0_common.mqtt_wire and written ``CHUNK_BYTES`` at a time. The broker sends a
publisher CONNACK, PINGRESP and, for QoS 1, PUBACK: reading is the handshake and
draining the socket after each write.

QoS 1 (alerts and state changes always; readings when the settings say so): a frame is
kept until its PUBACK; on a reconnect every unacked frame is sent again with DUP set,
so what the simulator recorded reaches the broker at least once unless the simulator
itself gives up (``close`` counts those as lost). QoS 0 frames queued when the broker
goes away are lost and counted.
"""

from __future__ import annotations

import select
import socket
import time
from typing import Final

from tier0_common import mqtt_wire

CHUNK_BYTES: Final = 64 * 1024
#: QoS 1 frames awaiting PUBACK before publishing waits for acks (packet ids are 16-bit).
MAX_UNACKED: Final = 30_000


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
        self._queued_qos1 = 0
        self._queued_ids: list[int] = []
        #: Frames sent again after a reconnect.
        self.resent = 0
        #: QoS 1 frames dropped from the queue unwritten (counted as sent when resent).
        self._unwritten: set[int] = set()
        #: QoS 1 frames sent (or queued) and not yet acked, by packet id, oldest first.
        self._unacked: dict[int, bytes] = {}
        self._next_id = 0
        self._decoder = mqtt_wire.Decoder()

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
        self._decoder = decoder
        self._last_write = time.monotonic()
        self._rate_started = self._last_write
        self._rate_sent = 0
        if self._unacked:
            # Not acked on the old connection: send again, marked as a duplicate. Those
            # still queued in _out were never written and go out with the next flush.
            queued = set(self._queued_ids)
            resend = b"".join(
                bytes([frame[0] | 0x08]) + frame[1:]
                for packet_id, frame in self._unacked.items()
                if packet_id not in queued
            )
            try:
                sock.sendall(resend)
            except OSError as exc:
                self._drop()
                raise BrokerUnavailable(f"resend to broker failed: {exc}") from exc
            first_time = sum(1 for i in self._unwritten if i in self._unacked)
            self.sent += first_time
            self.resent += len(self._unacked) - len(queued) - first_time
            self._unwritten.clear()

    def publish(self, frame: bytes) -> None:
        """Queue one encoded QoS 0 PUBLISH; written once CHUNK_BYTES are queued."""
        self._out += frame
        self._queued += 1
        if len(self._out) >= CHUNK_BYTES:
            self.flush()

    def publish_qos1(self, topic: bytes, payload: bytes) -> None:
        """Queue one QoS 1 PUBLISH, kept until the broker acks it (and sent again after a
        reconnect), then wait while MAX_UNACKED await their acks. Raises
        BrokerUnavailable with the frame kept."""
        packet_id = self._next_id % 0xFFFF + 1
        while packet_id in self._unacked:
            packet_id = packet_id % 0xFFFF + 1
        self._next_id = packet_id
        frame = mqtt_wire.encode_publish_qos1(topic, payload, packet_id)
        self._unacked[packet_id] = frame
        self._queued_ids.append(packet_id)
        self._queued_qos1 += 1
        self.publish(frame)
        while len(self._unacked) >= MAX_UNACKED:
            self._await_acks()

    @property
    def unacked(self) -> int:
        return len(self._unacked)

    def _await_acks(self) -> None:
        """Write what is queued and wait (briefly) for PUBACKs."""
        self.flush()
        if self._sock is None:
            raise BrokerUnavailable("not connected")
        try:
            if select.select([self._sock], [], [], 1.0)[0]:
                self._drain()
        except OSError as exc:
            self._drop()
            raise BrokerUnavailable(f"read from broker failed: {exc}") from exc

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
        self._queued_qos1 = 0
        self._queued_ids.clear()
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
        """Flush, wait for the QoS 1 acks, DISCONNECT, and wait for the broker to close:
        after that every message written before has been routed by the broker."""
        try:
            self.flush()
            deadline = time.monotonic() + timeout
            while self._unacked and self._sock is not None and time.monotonic() < deadline:
                self._await_acks()
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
        """Read what the broker sent (PINGRESP, PUBACK) and forget the acked frames."""
        assert self._sock is not None
        while select.select([self._sock], [], [], 0)[0]:
            data = self._sock.recv(65536)
            if not data:
                raise OSError("broker closed the connection")
            for packet in self._decoder.feed(data).others:
                if packet.packet_type == mqtt_wire.PacketType.PUBACK and len(packet.body) == 2:
                    self._unacked.pop(int.from_bytes(packet.body, "big"), None)

    def _discard(self) -> int:
        """Drop the queued bytes; QoS 0 frames among them are lost, QoS 1 ones stay
        unacked and go out again after the reconnect."""
        lost = self._queued - self._queued_qos1
        self._unwritten.update(self._queued_ids)
        self._out.clear()
        self._queued = 0
        self._queued_qos1 = 0
        self._queued_ids.clear()
        return lost

    def give_up(self) -> int:
        """Forget the unacked QoS 1 frames (the simulator is exiting); returns how many."""
        lost = len(self._unacked)
        self._unacked.clear()
        return lost

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
