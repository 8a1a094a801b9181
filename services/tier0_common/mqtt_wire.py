"""A minimal MQTT 3.1.1 codec (QoS 0 publish, subscribe, keep-alive), bytes in, bytes out.

Why our own codec rather than a client library: the telemetry path moves 100,000
messages a second, and on these machines the per-message cost of the Python clients is
the ceiling, not the broker or the socket (measured on a busy 2-core box with the
seed's 400-byte payload, C publisher -> Mosquitto 2.0.11 -> subscriber + orjson parse:
paho-mqtt 2.2 ~21,000 msg/s, gmqtt 0.8.0 ~28,600 msg/s, a reader that slices many
packets out of one large ``recv`` ~79,000 msg/s; see docs/ingest.md). Both the IoT
simulator and the ingest worker only need QoS 0 PUBLISH, CONNECT, SUBSCRIBE (shared
subscriptions are plain topic filters to a 3.1.1 client), PINGREQ and DISCONNECT, so
this module is kept to exactly that and has no I/O of its own: the callers own their
sockets, which lets them read and write in large chunks.

Anything the codec does not understand is returned as an ``Other`` packet for the
caller to log; a malformed frame raises ``ProtocolError`` (the caller drops the
connection and reconnects, as the spec requires).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

PROTOCOL_NAME: Final = b"MQTT"
PROTOCOL_LEVEL_311: Final = 4
#: The spec caps the remaining length at 4 bytes of varint (256 MB).
MAX_REMAINING_LENGTH: Final = 268_435_455


class PacketType(IntEnum):
    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    SUBSCRIBE = 8
    SUBACK = 9
    UNSUBSCRIBE = 10
    UNSUBACK = 11
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14


PINGREQ: Final = b"\xc0\x00"
DISCONNECT: Final = b"\xe0\x00"

#: CONNACK return codes of MQTT 3.1.1, section 3.2.2.3.
CONNACK_REASONS: Final[dict[int, str]] = {
    0: "accepted",
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}
#: A SUBACK granted-QoS byte meaning the broker refused that filter.
SUBACK_FAILURE: Final = 0x80


class ProtocolError(ValueError):
    """The byte stream is not valid MQTT 3.1.1; the connection must be dropped."""


@dataclass(frozen=True, slots=True)
class Other:
    """A non-PUBLISH packet: its type, flags and body (after the fixed header)."""

    packet_type: int
    flags: int
    body: bytes


def encode_remaining_length(length: int) -> bytes:
    if not 0 <= length <= MAX_REMAINING_LENGTH:
        raise ProtocolError(f"remaining length {length} out of range")
    out = bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        if length:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _string(value: bytes) -> bytes:
    if len(value) > 0xFFFF:
        raise ProtocolError("MQTT strings are at most 65535 bytes")
    return len(value).to_bytes(2, "big") + value


def encode_connect(
    client_id: str,
    *,
    keepalive: int = 60,
    clean_session: bool = True,
    username: str | None = None,
    password: str | None = None,
) -> bytes:
    flags = 0x02 if clean_session else 0
    payload = _string(client_id.encode())
    if username is not None:
        flags |= 0x80
        payload += _string(username.encode())
        if password is not None:
            flags |= 0x40
            payload += _string(password.encode())
    body = (
        _string(PROTOCOL_NAME)
        + bytes([PROTOCOL_LEVEL_311, flags])
        + keepalive.to_bytes(2, "big")
        + payload
    )
    return bytes([PacketType.CONNECT << 4]) + encode_remaining_length(len(body)) + body


def encode_subscribe(packet_id: int, filters: list[tuple[str, int]]) -> bytes:
    if not filters:
        raise ValueError("SUBSCRIBE needs at least one topic filter")
    body = packet_id.to_bytes(2, "big")
    for topic_filter, qos in filters:
        body += _string(topic_filter.encode()) + bytes([qos])
    # Fixed-header flags 0b0010 are mandatory for SUBSCRIBE (section 3.8.1).
    return bytes([(PacketType.SUBSCRIBE << 4) | 0x02]) + encode_remaining_length(len(body)) + body


#: Remaining-length encodings of every packet below 16 KB, looked up on the hot path.
_SMALL_LENGTHS: Final = tuple(encode_remaining_length(n) for n in range(1 << 14))


def encode_publish(topic: bytes, payload: bytes) -> bytes:
    """One QoS 0, non-retained PUBLISH frame."""
    return publish_prefix(topic, len(payload)) + payload


def publish_prefix(topic: bytes, payload_length: int) -> bytes:
    """Everything of a QoS 0 PUBLISH frame before its payload."""
    body_length = 2 + len(topic) + payload_length
    if body_length < 1 << 14:
        length = _SMALL_LENGTHS[body_length]
    else:
        length = encode_remaining_length(body_length)
    return b"\x30" + length + len(topic).to_bytes(2, "big") + topic


def parse_connack(packet: Other) -> tuple[bool, int]:
    """(session present, return code) of a CONNACK."""
    if packet.packet_type != PacketType.CONNACK or len(packet.body) != 2:
        raise ProtocolError(f"expected CONNACK, got packet type {packet.packet_type}")
    return bool(packet.body[0] & 1), packet.body[1]


def parse_suback(packet: Other) -> tuple[int, list[int]]:
    """(packet id, granted QoS per filter; 0x80 means refused) of a SUBACK."""
    if packet.packet_type != PacketType.SUBACK or len(packet.body) < 3:
        raise ProtocolError(f"expected SUBACK, got packet type {packet.packet_type}")
    return int.from_bytes(packet.body[:2], "big"), list(packet.body[2:])


def split_packets(
    buffer: bytes | bytearray, max_packet: int = MAX_REMAINING_LENGTH
) -> tuple[list[tuple[bytes, bytes]], list[Other], int]:
    """Cut every complete packet out of ``buffer``.

    Returns ``(publishes, others, consumed)``: publishes as ``(topic, payload)`` in
    arrival order, every other packet as ``Other``, and how many bytes were used (the
    caller keeps ``buffer[consumed:]`` for the next read). Packets larger than
    ``max_packet`` raise ``ProtocolError``: the caller's defence against a stream that
    announces a huge frame it would otherwise buffer.

    This loop is the ingest hot path, hence the flat code and local names.
    """
    publishes: list[tuple[bytes, bytes]] = []
    others: list[Other] = []
    append = publishes.append
    view = bytes(buffer)
    end = len(view)
    pos = 0
    while end - pos >= 2:
        header = view[pos]
        cursor = pos + 1
        length = view[cursor]
        cursor += 1
        if length & 0x80:
            length &= 0x7F
            shift = 7
            while True:
                if cursor >= end:
                    return publishes, others, pos
                byte = view[cursor]
                cursor += 1
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
                shift += 7
                if shift > 21:
                    raise ProtocolError("remaining length longer than 4 bytes")
        if length > max_packet:
            raise ProtocolError(f"packet of {length} bytes exceeds the {max_packet} limit")
        stop = cursor + length
        if stop > end:
            break
        if header >> 4 == 3:
            if length < 2:
                raise ProtocolError("PUBLISH shorter than its topic length")
            topic_end = cursor + 2 + ((view[cursor] << 8) | view[cursor + 1])
            if topic_end > stop:
                raise ProtocolError("PUBLISH topic runs past the packet")
            # QoS 1/2 deliveries carry a 2-byte packet id after the topic. We subscribe
            # with QoS 0 so the broker downgrades, but stay correct if one arrives.
            payload_start = topic_end + 2 if header & 0x06 else topic_end
            append((view[cursor + 2 : topic_end], view[payload_start:stop]))
        else:
            others.append(Other(header >> 4, header & 0x0F, view[cursor:stop]))
        pos = stop
    return publishes, others, pos
