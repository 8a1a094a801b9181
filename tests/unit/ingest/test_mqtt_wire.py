"""The MQTT 3.1.1 codec shared by the simulator and ingest, against the spec's bytes."""

from __future__ import annotations

import pytest

from tier0_common import mqtt_wire
from tier0_common.mqtt_wire import Other, PacketType, ProtocolError


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16_383, b"\xff\x7f"),
        (16_384, b"\x80\x80\x01"),
        (2_097_151, b"\xff\xff\x7f"),
        (268_435_455, b"\xff\xff\xff\x7f"),
    ],
)
def test_remaining_length_matches_the_spec_table(length: int, encoded: bytes) -> None:
    assert mqtt_wire.encode_remaining_length(length) == encoded
    if length <= 1 << 16:
        _, others, used = mqtt_wire.split_packets(b"\xd0" + encoded + bytes(length))
        assert len(others[0].body) == length and used == 1 + len(encoded) + length
    # A frame announcing more than is present is left for the next read, not an error.
    assert mqtt_wire.split_packets(b"\xd0" + encoded + b"\x00" * min(length - 1, 10)) == (
        [], [], 0,
    ) or length == 0  # fmt: skip


def test_connect_frame_bytes() -> None:
    frame = mqtt_wire.encode_connect("abc", keepalive=30)
    assert frame == b"\x10\x0f\x00\x04MQTT\x04\x02\x00\x1e\x00\x03abc"


def test_subscribe_frame_has_the_mandatory_flags() -> None:
    frame = mqtt_wire.encode_subscribe(7, [("$share/g/og/field/#", 0)])
    assert frame[0] == 0x82
    assert frame[2:4] == b"\x00\x07"
    assert frame.endswith(b"$share/g/og/field/#\x00")


def test_publishes_round_trip_across_arbitrary_read_boundaries() -> None:
    messages = [(f"og/field/S/t/D-{i}".encode(), b"x" * (i * 37 % 300)) for i in range(50)]
    messages.append((b"big", b"y" * 20_000))
    stream = b"".join(mqtt_wire.encode_publish(t, p) for t, p in messages) + mqtt_wire.PINGREQ
    for step in (1, 3, 64, 1000, len(stream)):
        got: list[tuple[bytes, bytes]] = []
        others: list[Other] = []
        buffer = b""
        for start in range(0, len(stream), step):
            buffer += stream[start : start + step]
            publishes, more, used = mqtt_wire.split_packets(buffer)
            got += publishes
            others += more
            buffer = buffer[used:]
        assert got == messages
        assert [o.packet_type for o in others] == [PacketType.PINGREQ]
        assert buffer == b""


def test_qos1_publish_skips_the_packet_id() -> None:
    body = b"\x00\x01t" + b"\x12\x34" + b"payload"
    publishes, _, _ = mqtt_wire.split_packets(b"\x32" + bytes([len(body)]) + body)
    assert publishes == [(b"t", b"payload")]


def test_connack_and_suback_are_parsed() -> None:
    _, others, _ = mqtt_wire.split_packets(b"\x20\x02\x00\x05\x90\x04\x00\x01\x00\x80")
    assert mqtt_wire.parse_connack(others[0]) == (False, 5)
    assert mqtt_wire.parse_suback(others[1]) == (1, [0, mqtt_wire.SUBACK_FAILURE])


@pytest.mark.parametrize(
    "stream",
    [
        b"\x30\xff\xff\xff\xff\x01",  # five length bytes
        b"\x30\x01\x00",  # PUBLISH too short for its topic length
        b"\x30\x03\x00\x05a",  # topic longer than the packet
    ],
)
def test_malformed_frames_raise(stream: bytes) -> None:
    with pytest.raises(ProtocolError):
        mqtt_wire.split_packets(stream)


def test_oversized_packets_raise_before_buffering() -> None:
    header = b"\x30" + mqtt_wire.encode_remaining_length(5_000_000)
    with pytest.raises(ProtocolError):
        mqtt_wire.split_packets(header + b"\x00", max_packet=1 << 20)
