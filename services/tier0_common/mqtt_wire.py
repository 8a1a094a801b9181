"""A minimal MQTT 3.1.1 codec (QoS 0/1 publish, subscribe, keep-alive), bytes in, bytes out.

Why our own codec rather than a client library: the telemetry path moves 100,000
messages a second, and on these machines the per-message cost of the Python clients is
the ceiling, not the broker or the socket (measured on a busy 2-core box with the
seed's 400-byte payload, C publisher -> Mosquitto 2.0.11 -> subscriber + orjson parse:
paho-mqtt 2.2 ~21,000 msg/s, gmqtt 0.8.0 ~28,600 msg/s, a reader that slices many
packets out of one large ``recv`` ~79,000 msg/s; see docs/ingest.md). Both the IoT
simulator and the ingest worker only need PUBLISH at QoS 0 and 1 with PUBACK, CONNECT
(clean or persistent session), SUBSCRIBE (shared subscriptions are plain topic filters
to a 3.1.1 client), PINGREQ and DISCONNECT, so this module is kept to exactly that and
has no I/O of its own: the callers own their sockets, which lets them read and write
in large chunks.

One bad packet must never cost a session (two regions' workers once dropped their
sessions together over one 2 MB message). MQTT frames carry their length, so a
``Decoder`` can step over any packet it cannot or will not take -- larger than its
limit (skipped as it streams past, never buffered), a PUBLISH whose topic or packet id
runs past its frame, an unsupported QoS, a reserved packet type -- and hands it back as
``Rejected`` with the reason for the caller to count and dead-letter. Only a stream
whose framing itself is lost (a remaining length longer than 4 bytes) cannot be
resynchronised: the decoder then reports ``broken`` and the caller reconnects.
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
PINGRESP: Final = b"\xd0\x00"
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
class Rejected:
    """A packet the decoder stepped over: why, and what it knows of it.

    ``reason`` reads ``<kind>: <detail>`` (kinds: ``too_large``, ``malformed``,
    ``unsupported``, ``unknown_type``). ``topic`` is the PUBLISH topic when it could be
    read, ``head`` the first bytes of the payload (or body), ``size`` the frame's
    remaining length, and ``packet_id`` the id to PUBACK when it was a QoS 1 PUBLISH
    (the broker would otherwise send it again after every reconnect).
    """

    reason: str
    topic: bytes
    head: bytes
    size: int
    packet_id: int | None = None


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


def encode_publish_qos1(
    topic: bytes, payload: bytes, packet_id: int, *, dup: bool = False
) -> bytes:
    """One QoS 1, non-retained PUBLISH frame (``dup`` on a retransmission)."""
    if not 1 <= packet_id <= 0xFFFF:
        raise ValueError(f"packet id {packet_id} out of range 1-65535")
    body_length = 4 + len(topic) + len(payload)
    return (
        bytes([0x3A if dup else 0x32])
        + encode_remaining_length(body_length)
        + len(topic).to_bytes(2, "big")
        + topic
        + packet_id.to_bytes(2, "big")
        + payload
    )


def encode_puback(packet_id: int) -> bytes:
    return b"\x40\x02" + packet_id.to_bytes(2, "big")


def encode_pubacks(packet_ids: list[int]) -> bytes:
    """PUBACKs for many packet ids in one write (the ingest acks a whole batch)."""
    return b"".join(b"\x40\x02" + i.to_bytes(2, "big") for i in packet_ids)


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


#: Body bytes of a rejected packet kept for its dead letter (and awaited before an
#: oversized one is stepped over, so the topic is known).
REJECT_HEAD_BYTES: Final = 2048
_RESERVED_TYPES: Final = (0, 15)


@dataclass(slots=True)
class Decoded:
    """What one ``Decoder.feed`` produced.

    ``publishes`` are ``(topic, payload)`` in arrival order; ``acks`` the packet ids of
    the QoS 1 ones among them and among ``rejected`` (to PUBACK once handled);
    ``broken`` says why the stream can no longer be framed (then nothing more is read).
    """

    publishes: list[tuple[bytes, bytes]]
    acks: list[int]
    others: list[Other]
    rejected: list[Rejected]
    broken: str | None = None


class Decoder:
    """Frames an MQTT byte stream fed in chunks of any size, one connection's worth.

    Every complete packet comes out of ``feed`` exactly once, whatever the chunking;
    a packet above ``max_packet`` bytes comes out as ``Rejected`` as soon as its first
    ``REJECT_HEAD_BYTES`` arrived, and the rest of it is discarded as it streams in,
    so the decoder holds at most ``max_packet`` + 5 bytes. Make a new one per
    connection.
    """

    def __init__(self, max_packet: int = MAX_REMAINING_LENGTH) -> None:
        if not 0 < max_packet <= MAX_REMAINING_LENGTH:
            raise ValueError(f"max_packet {max_packet} out of range 1-{MAX_REMAINING_LENGTH}")
        self.max_packet = max_packet
        self._buffer = b""
        self._skip = 0
        self._broken: str | None = None

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete packet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> Decoded:
        """Take the next chunk of the stream; returns every packet it completed.

        This loop is the ingest hot path, hence the flat code and local names.
        """
        out = Decoded([], [], [], [])
        if self._broken is not None:
            out.broken = self._broken
            return out
        if self._skip:
            if len(data) <= self._skip:
                self._skip -= len(data)
                return out
            data = data[self._skip :]
            self._skip = 0
        view = self._buffer + data if self._buffer else bytes(data)
        publishes = out.publishes
        append = publishes.append
        acks = out.acks
        max_packet = self.max_packet
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
                        self._buffer = view[pos:]
                        return out
                    byte = view[cursor]
                    cursor += 1
                    length |= (byte & 0x7F) << shift
                    if not byte & 0x80:
                        break
                    shift += 7
                    if shift > 21:
                        self._broken = out.broken = "remaining length longer than 4 bytes"
                        self._buffer = b""
                        return out
            stop = cursor + length
            if length > max_packet:
                # Wait for the head (bounded), report, then step over the rest unread.
                if end - cursor < min(length, REJECT_HEAD_BYTES):
                    break
                reason = f"too_large: packet of {length} bytes exceeds the {max_packet} limit"
                self._rejected(
                    out, header, view[cursor : cursor + REJECT_HEAD_BYTES], length, reason
                )
                if stop > end:
                    self._skip = stop - end
                    pos = end
                    break
                pos = stop
                continue
            if stop > end:
                break
            kind = header >> 4
            if kind == 3:
                qos = (header >> 1) & 3
                # A frame too short for the topic length counts as an overrun.
                topic_end = (
                    cursor + 2 + ((view[cursor] << 8) | view[cursor + 1])
                    if length >= 2
                    else end + 1
                )
                if qos == 0 and topic_end <= stop:
                    append((view[cursor + 2 : topic_end], view[topic_end:stop]))
                elif qos == 1 and topic_end + 2 <= stop:
                    acks.append((view[topic_end] << 8) | view[topic_end + 1])
                    append((view[cursor + 2 : topic_end], view[topic_end + 2 : stop]))
                else:
                    reason = _publish_fault(qos, topic_end > stop)
                    self._rejected(out, header, view[cursor:stop], length, reason)
            elif kind in _RESERVED_TYPES:
                reason = f"unknown_type: packet type {kind}"
                self._rejected(out, header, view[cursor:stop], length, reason)
            else:
                out.others.append(Other(kind, header & 0x0F, view[cursor:stop]))
            pos = stop
        self._buffer = view[pos:] if pos < end else b""
        return out

    @staticmethod
    def _rejected(out: Decoded, header: int, body: bytes, size: int, reason: str) -> None:
        rejected = _reject(header, body, size, reason)
        out.rejected.append(rejected)
        if rejected.packet_id is not None:
            out.acks.append(rejected.packet_id)


def _publish_fault(qos: int, topic_overruns: bool) -> str:
    if qos == 3:
        return "malformed: PUBLISH with QoS 3"
    if qos == 2:
        return "unsupported: QoS 2 PUBLISH (subscriptions ask for QoS 1 at most)"
    if topic_overruns:
        return "malformed: PUBLISH topic runs past the packet"
    return "malformed: QoS 1 PUBLISH without a packet id"


def _reject(header: int, body: bytes, size: int, reason: str) -> Rejected:
    """A Rejected from a packet's first body bytes (its topic and id when readable)."""
    if header >> 4 != 3 or len(body) < 2:
        return Rejected(reason, b"", body[:REJECT_HEAD_BYTES], size)
    topic_end = 2 + ((body[0] << 8) | body[1])
    if topic_end > len(body):
        return Rejected(reason, b"", body[:REJECT_HEAD_BYTES], size)
    topic = body[2:topic_end]
    qos = (header >> 1) & 3
    if qos == 1 and topic_end + 2 <= len(body) and topic_end + 2 <= size:
        packet_id = (body[topic_end] << 8) | body[topic_end + 1]
        return Rejected(reason, topic, body[topic_end + 2 :], size, packet_id or None)
    return Rejected(reason, topic, body[topic_end:], size)
