"""One MQTT 3.1.1 session to Mosquitto: connect, subscribe, read in large chunks, ping, ack.

Why not a client library: see tier0_common.mqtt_wire. The session reads up to
``CHUNK_BYTES`` per ``recv`` and hands back every complete PUBLISH in it, so the
per-message cost is a slice, not a callback and a packet object. It is blocking with
timeouts; the worker owns the loop and decides when to read, flush, ack or ping.

A packet the decoder steps over (too large, malformed, unknown type) comes back in
``Decoded.rejected`` for the worker to dead-letter: one bad message costs that message,
never the session. Only a stream whose framing is lost ends the session.

Delivery: the subscription asks for QoS 1 and the session is persistent (clean
session off, a client id stable across restarts), so the broker keeps what it accepted
for us while we are away and sends again whatever we did not PUBACK. The worker acks
only after Redis confirmed the write (see worker), which makes a kill -9 lose nothing
the broker accepted at QoS 1.
"""

from __future__ import annotations

import socket
import time
from typing import Final

from tier0_common import mqtt_wire
from tier0_common.schema import MAX_TELEMETRY_BYTES

CHUNK_BYTES: Final = 1 << 20
#: Larger packets are stepped over as they stream in and dead-lettered as ``too_large``
#: (never buffered). Smaller ones above MAX_TELEMETRY_BYTES are read and refused by
#: validation, which words the reason with the device's topic.
MAX_PACKET_BYTES: Final = 8 * MAX_TELEMETRY_BYTES


class SessionLost(ConnectionError):
    """The broker closed the connection, refused us, or the stream lost its framing."""


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
        qos: int = 1,
        clean_session: bool = False,
        username: str | None = None,
        password: str | None = None,
        max_packet: int = MAX_PACKET_BYTES,
    ) -> None:
        if qos not in (0, 1):
            raise ValueError(f"subscription QoS must be 0 or 1, not {qos}")
        self.host = host
        self.port = port
        self.client_id = client_id
        self.topic_filters = topic_filters
        self.keepalive = keepalive
        self.connect_timeout = connect_timeout
        self.qos = qos
        self.clean_session = clean_session
        self.username = username
        self.password = password
        self.max_packet = max_packet
        #: Whether the broker resumed a stored session at the last CONNECT.
        self.session_present = False
        self._sock: socket.socket | None = None
        self._decoder = mqtt_wire.Decoder(max_packet)
        self._early: mqtt_wire.Decoded | None = None
        self._last_sent = 0.0
        self._last_received = 0.0

    @property
    def connected(self) -> bool:
        return self._sock is not None

    @property
    def holding(self) -> bool:
        """Messages that arrived with the handshake wait for ``read`` (the socket may
        stay quiet: a resumed session's broker waits for their acks)."""
        return self._early is not None

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
        self._decoder = mqtt_wire.Decoder(self.max_packet)
        try:
            sock.sendall(
                mqtt_wire.encode_connect(
                    self.client_id,
                    keepalive=self.keepalive,
                    clean_session=self.clean_session,
                    username=self.username,
                    password=self.password,
                )
                + mqtt_wire.encode_subscribe(1, [(f, self.qos) for f in self.topic_filters])
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
        """Until CONNACK and SUBACK. A resumed session may deliver stored messages
        before the SUBACK: they are kept for the first ``read``."""
        assert self._sock is not None
        connacked = subacked = False
        early = mqtt_wire.Decoded([], [], [], [])
        while not (connacked and subacked):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SessionLost("no CONNACK/SUBACK in time")
            self._sock.settimeout(remaining)
            data = self._sock.recv(65536)
            if not data:
                raise SessionLost("broker closed the connection during the handshake")
            decoded = self._decoder.feed(data)
            if decoded.broken:
                raise SessionLost(f"protocol error: {decoded.broken}")
            early.publishes += decoded.publishes
            early.acks += decoded.acks
            early.rejected += decoded.rejected
            for packet in decoded.others:
                if packet.packet_type == mqtt_wire.PacketType.CONNACK:
                    present, code = mqtt_wire.parse_connack(packet)
                    if code != 0:
                        reason = mqtt_wire.CONNACK_REASONS.get(code, str(code))
                        raise SessionLost(f"broker refused the connection: {reason}")
                    self.session_present = present
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
        self._early = early if early.publishes or early.rejected else None

    def read(self) -> mqtt_wire.Decoded:
        """Every complete PUBLISH now available, the QoS 1 ids to ack once they are
        handled, and the packets stepped over (blocks until one read)."""
        if self._sock is None:
            raise SessionLost("not connected")
        if self._early is not None:
            early, self._early = self._early, None
            return early
        try:
            data = self._sock.recv(CHUNK_BYTES)
        except OSError as exc:
            self.close()
            raise SessionLost(f"read failed: {exc}") from exc
        if not data:
            self.close()
            raise SessionLost("broker closed the connection")
        self._last_received = time.monotonic()
        decoded = self._decoder.feed(data)
        if decoded.broken:
            # What came before the break is good; the worker handles it, then reconnects.
            self.close()
        # Others are PINGRESPs (reading them already refreshed _last_received).
        return decoded

    def ack(self, packet_ids: list[int]) -> None:
        """PUBACK these QoS 1 deliveries: the broker forgets them."""
        if not packet_ids or self._sock is None:
            return
        try:
            self._sock.sendall(mqtt_wire.encode_pubacks(packet_ids))
        except OSError as exc:
            self.close()
            raise SessionLost(f"ack failed: {exc}") from exc
        self._last_sent = time.monotonic()

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
        self._early = None
        if self._sock is None:
            return
        try:
            self._sock.settimeout(0.5)
            self._sock.sendall(mqtt_wire.DISCONNECT)
        except OSError:
            pass
        self._sock.close()
        self._sock = None
