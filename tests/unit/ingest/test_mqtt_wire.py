"""The MQTT 3.1.1 codec shared by the simulator and ingest: the spec's bytes, and a
decoder that no byte stream can break (property-based, with hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tier0_common import mqtt_wire
from tier0_common.mqtt_wire import REJECT_HEAD_BYTES, Decoded, Decoder, Other, PacketType

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def feed_in_chunks(decoder: Decoder, stream: bytes, cuts: list[int]) -> Decoded:
    """Feed ``stream`` cut at ``cuts``; everything the decoder produced, concatenated."""
    total = Decoded([], [], [], [])
    bounds = sorted({0, len(stream), *(c for c in cuts if 0 < c < len(stream))})
    for start, stop in zip(bounds, bounds[1:], strict=False):
        got = decoder.feed(stream[start:stop])
        total.publishes += got.publishes
        total.acks += got.acks
        total.others += got.others
        total.rejected += got.rejected
        total.broken = total.broken or got.broken
    return total


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
        decoded = Decoder().feed(b"\xd0" + encoded + bytes(length))
        assert len(decoded.others[0].body) == length
    # A frame announcing more than is present is held for the next read, not an error.
    decoder = Decoder()
    partial = decoder.feed(b"\xd0" + encoded + b"\x00" * min(length - 1, 10))
    assert length == 0 or (partial == Decoded([], [], [], []) and decoder.buffered > 0)


def test_connect_frame_bytes() -> None:
    assert mqtt_wire.encode_connect("abc", keepalive=30) == (
        b"\x10\x0f\x00\x04MQTT\x04\x02\x00\x1e\x00\x03abc"
    )
    # Persistent session: the clean-session bit (0x02) is off.
    assert mqtt_wire.encode_connect("abc", keepalive=30, clean_session=False)[9] == 0x00


def test_subscribe_frame_has_the_mandatory_flags() -> None:
    frame = mqtt_wire.encode_subscribe(7, [("$share/g/og/field/#", 1)])
    assert frame[0] == 0x82
    assert frame[2:4] == b"\x00\x07"
    assert frame.endswith(b"$share/g/og/field/#\x01")


def test_qos1_publish_and_puback_bytes() -> None:
    assert mqtt_wire.encode_publish_qos1(b"t", b"p", 0x1234) == b"\x32\x06\x00\x01t\x12\x34p"
    assert mqtt_wire.encode_publish_qos1(b"t", b"p", 1, dup=True)[0] == 0x3A
    assert mqtt_wire.encode_pubacks([1, 0x0203]) == b"\x40\x02\x00\x01\x40\x02\x02\x03"
    with pytest.raises(ValueError, match="packet id"):
        mqtt_wire.encode_publish_qos1(b"t", b"p", 0)


def test_publishes_round_trip_across_arbitrary_read_boundaries() -> None:
    messages = [(f"og/field/S/t/D-{i}".encode(), b"x" * (i * 37 % 300)) for i in range(50)]
    messages.append((b"big", b"y" * 20_000))
    stream = b"".join(mqtt_wire.encode_publish(t, p) for t, p in messages) + mqtt_wire.PINGRESP
    for step in (1, 3, 64, 1000, len(stream)):
        decoder = Decoder()
        got = feed_in_chunks(decoder, stream, list(range(0, len(stream), step)))
        assert got.publishes == messages
        assert [o.packet_type for o in got.others] == [PacketType.PINGRESP]
        assert decoder.buffered == 0


def test_qos1_publish_yields_its_packet_id_to_ack() -> None:
    decoded = Decoder().feed(mqtt_wire.encode_publish_qos1(b"t", b"payload", 0x1234))
    assert decoded.publishes == [(b"t", b"payload")]
    assert decoded.acks == [0x1234]


def test_connack_and_suback_are_parsed() -> None:
    decoded = Decoder().feed(b"\x20\x02\x01\x05\x90\x04\x00\x01\x01\x80")
    assert mqtt_wire.parse_connack(decoded.others[0]) == (True, 5)
    assert mqtt_wire.parse_suback(decoded.others[1]) == (1, [1, mqtt_wire.SUBACK_FAILURE])


@pytest.mark.parametrize(
    ("packet", "kind"),
    [
        (b"\x30\x01\x00", "malformed"),  # PUBLISH too short for its topic length
        (b"\x30\x03\x00\x05a", "malformed"),  # topic longer than the packet
        (b"\x32\x03\x00\x01t", "malformed"),  # QoS 1 without a packet id
        (b"\x36\x05\x00\x01t\x00\x01", "malformed"),  # QoS 3
        (b"\x34\x05\x00\x01t\x00\x01", "unsupported"),  # QoS 2
        (b"\x00\x02ab", "unknown_type"),
        (b"\xf0\x00", "unknown_type"),
    ],
)
def test_a_bad_packet_is_rejected_and_the_next_one_still_decodes(packet: bytes, kind: str) -> None:
    good = mqtt_wire.encode_publish(b"og/x", b"{}")
    decoded = Decoder().feed(good + packet + good)
    assert decoded.publishes == [(b"og/x", b"{}")] * 2
    assert [r.reason.split(":")[0] for r in decoded.rejected] == [kind]
    assert decoded.broken is None


def test_an_oversized_packet_is_stepped_over_without_buffering_it() -> None:
    payload = b"z" * 2_000_000
    big = mqtt_wire.encode_publish_qos1(b"og/field/S/t/D-1", payload, 9)
    good = mqtt_wire.encode_publish(b"og/ok", b"{}")
    decoder = Decoder(max_packet=65_536)
    stream = good + big + good
    got = feed_in_chunks(decoder, stream, list(range(0, len(stream), 65_536 + 17)))
    assert got.publishes == [(b"og/ok", b"{}")] * 2
    (rejected,) = got.rejected
    assert rejected.reason.startswith("too_large: packet of 2000020 bytes")
    assert rejected.topic == b"og/field/S/t/D-1" and rejected.size == 2_000_020
    assert rejected.head == payload[: REJECT_HEAD_BYTES - 20]
    # The broker must not resend it forever: its id is acked like any handled message.
    assert got.acks == [9] and rejected.packet_id == 9
    assert decoder.buffered == 0


def test_lost_framing_breaks_the_stream_after_what_came_before() -> None:
    good = mqtt_wire.encode_publish(b"og/x", b"{}")
    decoder = Decoder()
    decoded = decoder.feed(good + b"\x30\xff\xff\xff\xff\x01" + good)
    assert decoded.publishes == [(b"og/x", b"{}")]
    assert decoded.broken == "remaining length longer than 4 bytes"
    assert decoder.feed(good).broken and not decoder.feed(good).publishes


# --- property-based fuzzing -------------------------------------------------------------


@FUZZ
@given(
    stream=st.binary(max_size=4000),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=40),
    max_packet=st.integers(min_value=1, max_value=600),
)
def test_any_byte_stream_decodes_the_same_however_it_is_split(
    stream: bytes, cuts: list[int], max_packet: int
) -> None:
    """Whatever arrives, feed never raises, holds a bounded amount, and its output does
    not depend on how the stream was cut into reads."""
    whole = Decoder(max_packet).feed(stream)
    decoder = Decoder(max_packet)
    split = feed_in_chunks(decoder, stream, cuts)
    assert split == whole
    assert decoder.buffered <= max(max_packet, REJECT_HEAD_BYTES) + 5


@dataclass(frozen=True)
class Spec:
    """One packet of a generated stream, and what the decoder must make of it."""

    frame: bytes
    publish: tuple[bytes, bytes] | None = None
    ack: int | None = None
    reject: str | None = None
    other: int | None = None


MAX_PACKET = 512
topics = st.binary(min_size=1, max_size=40)
payloads = st.binary(max_size=300)
packet_ids = st.integers(min_value=1, max_value=0xFFFF)


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    choice = draw(st.sampled_from(["qos0", "qos1", "large", "overrun", "qos2", "type", "other"]))
    topic, payload = draw(topics), draw(payloads)
    if choice == "qos0":
        return Spec(mqtt_wire.encode_publish(topic, payload), publish=(topic, payload))
    if choice == "qos1":
        packet_id = draw(packet_ids)
        frame = mqtt_wire.encode_publish_qos1(topic, payload, packet_id)
        return Spec(frame, publish=(topic, payload), ack=packet_id)
    if choice == "large":
        packet_id = draw(packet_ids)
        big = payload * (MAX_PACKET // max(len(payload), 1) + 2) + b"x" * MAX_PACKET
        return Spec(mqtt_wire.encode_publish_qos1(topic, big, packet_id), ack=packet_id,
                    reject="too_large")  # fmt: skip
    if choice == "overrun":
        body = (len(topic) + 5).to_bytes(2, "big") + topic
        return Spec(b"\x30" + mqtt_wire.encode_remaining_length(len(body)) + body,
                    reject="malformed")  # fmt: skip
    if choice == "qos2":
        body = len(topic).to_bytes(2, "big") + topic + b"\x00\x07" + payload
        return Spec(b"\x34" + mqtt_wire.encode_remaining_length(len(body)) + body,
                    reject="unsupported")  # fmt: skip
    if choice == "type":
        kind = draw(st.sampled_from([0x00, 0xF0]))
        return Spec(bytes([kind]) + mqtt_wire.encode_remaining_length(len(payload)) + payload,
                    reject="unknown_type")  # fmt: skip
    kind = draw(st.sampled_from([PacketType.PINGRESP, PacketType.SUBACK, PacketType.PUBACK]))
    return Spec(bytes([kind << 4]) + mqtt_wire.encode_remaining_length(len(payload)) + payload,
                other=kind)  # fmt: skip


@FUZZ
@given(packets=st.lists(specs(), max_size=30), cuts=st.lists(st.integers(0, 40_000), max_size=30))
def test_every_good_packet_comes_out_and_every_bad_one_is_rejected_in_place(
    packets: list[Spec], cuts: list[int]
) -> None:
    stream = b"".join(p.frame for p in packets)
    decoder = Decoder(MAX_PACKET)
    got = feed_in_chunks(decoder, stream, cuts)
    assert got.publishes == [p.publish for p in packets if p.publish]
    assert got.acks == [p.ack for p in packets if p.ack is not None]
    assert [r.reason.split(":")[0] for r in got.rejected] == [p.reject for p in packets if p.reject]
    assert [o.packet_type for o in got.others] == [p.other for p in packets if p.other]
    assert got.broken is None and decoder.buffered == 0


def test_other_keeps_type_flags_and_body() -> None:
    (packet,) = Decoder().feed(b"\x82\x03abc").others
    assert packet == Other(8, 2, b"abc")
