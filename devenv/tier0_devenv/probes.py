"""Readiness probes that speak each server's protocol, not just TCP.

An open port is not a ready server: RabbitMQ accepts connections before its boot
steps finish and Redis answers -LOADING while it loads modules. Each probe does the
smallest real exchange (MQTT CONNECT/CONNACK, AMQP protocol header/Connection.Start,
Redis PING/PONG) with the standard library only, so `make status` works even when the
client libraries are broken, and costs a few milliseconds.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

_TIMEOUT = 2.0


def _exchange(host: str, port: int, request: bytes, done: Callable[[bytes], bool]) -> bytes:
    """Send ``request``, read until ``done(reply)`` or the server closes the connection."""
    with socket.create_connection((host, port), timeout=_TIMEOUT) as sock:
        sock.sendall(request)
        data = b""
        while not done(data):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


def _mqtt_connect_packet(client_id: str) -> bytes:
    cid = client_id.encode()
    # MQTT 3.1.1 CONNECT: protocol name, level 4, clean session, keep-alive 30 s.
    variable = b"\x00\x04MQTT\x04\x02\x00\x1e"
    payload = len(cid).to_bytes(2, "big") + cid
    body = variable + payload
    return b"\x10" + bytes([len(body)]) + body


@dataclass(frozen=True)
class MqttProbe:
    host: str
    port: int

    def __call__(self) -> bool:
        try:
            reply = _exchange(
                self.host,
                self.port,
                _mqtt_connect_packet("tier0-devenv-probe"),
                lambda data: len(data) >= 4,
            )
        except OSError:
            return False
        # A CONNACK: accepted (0) or, on a broker with authentication on, refused for
        # this credential-less probe (4 bad user name or password, 5 not authorised).
        # Either proves the broker is up and speaking MQTT; the probe needs no secret.
        return reply[:1] == b"\x20" and reply[3:4] in (b"\x00", b"\x04", b"\x05")

    def __str__(self) -> str:
        return f"MQTT CONNACK from {self.host}:{self.port}"


@dataclass(frozen=True)
class AmqpProbe:
    host: str
    port: int

    def __call__(self) -> bool:
        try:
            reply = _exchange(self.host, self.port, b"AMQP\x00\x00\x09\x01", lambda d: len(d) >= 11)
        except OSError:
            return False
        # A method frame (type 1) on channel 0 carrying Connection.Start (class 10, id 10).
        return reply[:1] == b"\x01" and reply[7:11] == b"\x00\x0a\x00\x0a"

    def __str__(self) -> str:
        return f"AMQP Connection.Start from {self.host}:{self.port}"


@dataclass(frozen=True)
class RedisProbe:
    host: str
    port: int
    password: str | None = field(default=None, repr=False)

    def __call__(self) -> bool:
        request = b"PING\r\n"
        lines = 1
        if self.password:
            lines = 2
            pw = self.password.encode()
            request = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(pw), pw) + request
        try:
            reply = _exchange(
                self.host, self.port, request, lambda data: data.count(b"\r\n") >= lines
            )
        except OSError:
            return False
        return reply.endswith(b"+PONG\r\n")

    def __str__(self) -> str:
        return f"Redis PING at {self.host}:{self.port}"
