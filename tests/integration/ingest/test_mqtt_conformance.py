"""Every MQTT packet our codec writes or reads, exchanged with the real Mosquitto.

The unit tests check our bytes against the spec as we read it; this checks that the
broker we run reads them the same way and answers with bytes our decoder takes:
CONNECT (clean and persistent) / CONNACK (session present), SUBSCRIBE (plain and
shared, QoS 0 and 1) / SUBACK, PUBLISH at QoS 0 and 1 in both directions, PUBACK both
ways (and the broker resending what we did not ack, with DUP, to a resumed session),
PINGREQ / PINGRESP, DISCONNECT, and a CONNACK refusal.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.support.servers import Endpoint, free_port
from tests.support.wait import wait_for
from tier0_common import mqtt_wire
from tier0_common.mqtt_wire import Decoded, Decoder, PacketType
from tier0_devenv import credentials, infra
from tier0_devenv.processes import Supervisor

pytestmark = pytest.mark.integration


class Client:
    """A raw socket speaking only through mqtt_wire, collecting what the broker sends."""

    def __init__(self, at: Endpoint) -> None:
        self.sock = socket.create_connection((at.host, at.port), timeout=10)
        self.decoder = Decoder()
        self.got = Decoded([], [], [], [])
        self.raw: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def pump(self) -> bool:
        """Read once (short timeout); False once the broker closed the connection."""
        self.sock.settimeout(0.2)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return True
        if not data:
            return False
        self.raw.append(data)
        decoded = self.decoder.feed(data)
        assert decoded.broken is None and not decoded.rejected, decoded
        self.got.publishes += decoded.publishes
        self.got.acks += decoded.acks
        self.got.others += decoded.others
        return True

    def wait_other(self, kind: PacketType) -> mqtt_wire.Other:
        def found() -> mqtt_wire.Other | None:
            self.pump()
            return next((o for o in self.got.others if o.packet_type == kind), None)

        packet = wait_for(found, 10, what=f"{kind.name} from Mosquitto")
        self.got.others.remove(packet)
        return packet

    def connect(self, client_id: str, *, clean: bool = True) -> bool:
        self.send(mqtt_wire.encode_connect(client_id, keepalive=30, clean_session=clean))
        present, code = mqtt_wire.parse_connack(self.wait_other(PacketType.CONNACK))
        assert code == 0
        return present

    def close(self) -> None:
        self.sock.close()


ClientFactory = Callable[[], Client]


@pytest.fixture(scope="module")
def open_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """A private Mosquitto that admits anonymous clients to every topic: these tests
    check the wire protocol on topics of their own, not who may use which topic
    (tests/integration/security/test_brokers.py does, on the suite's broker)."""
    run = tmp_path_factory.mktemp("mqtt-conformance")
    supervisor = Supervisor(run)
    (spec,) = infra.mosquitto_specs(
        run, free_port(), credentials.load_or_create(run), name="mq-conformance",
        anonymous_acl=("topic readwrite #",),
    )  # fmt: skip
    supervisor.start(spec)
    yield Endpoint(infra.LOOPBACK, spec.ports[0], "mqtt")
    supervisor.stop(spec.name)


@pytest.fixture
def clients(open_broker: Endpoint) -> Iterator[ClientFactory]:
    made: list[Client] = []

    def make() -> Client:
        made.append(Client(open_broker))
        return made[-1]

    yield make
    for client in made:
        client.close()


def test_connect_subscribe_publish_ack_ping_disconnect(clients: ClientFactory) -> None:
    name = uuid.uuid4().hex[:8]
    sub, pub = clients(), clients()
    assert sub.connect(f"sub-{name}") is False
    sub.send(mqtt_wire.encode_subscribe(5, [(f"c/{name}/#", 1), (f"$share/g/s/{name}/#", 0)]))
    assert mqtt_wire.parse_suback(sub.wait_other(PacketType.SUBACK)) == (5, [1, 0])

    pub.connect(f"pub-{name}")
    pub.send(mqtt_wire.encode_publish(f"c/{name}/q0".encode(), b"zero"))
    pub.send(mqtt_wire.encode_publish_qos1(f"c/{name}/q1".encode(), b"one", 77))
    pub.send(mqtt_wire.encode_publish_qos1(f"s/{name}/x".encode(), b"shared", 78))
    # The broker acks our QoS 1 publishes with our packet ids.
    acked = {int.from_bytes(pub.wait_other(PacketType.PUBACK).body, "big") for _ in range(2)}
    assert acked == {77, 78}

    wait_for(lambda: sub.pump() and len(sub.got.publishes) == 3, 10, what="3 deliveries")
    assert sub.got.publishes == [
        (f"c/{name}/q0".encode(), b"zero"),
        (f"c/{name}/q1".encode(), b"one"),
        (f"s/{name}/x".encode(), b"shared"),
    ]
    # Delivered at min(published, granted) QoS: only the QoS 1 subscription has an id.
    assert len(sub.got.acks) == 1
    sub.send(mqtt_wire.encode_pubacks(sub.got.acks))

    sub.send(mqtt_wire.PINGREQ)
    assert sub.wait_other(PacketType.PINGRESP).body == b""
    sub.send(mqtt_wire.DISCONNECT)
    wait_for(lambda: not sub.pump(), 10, what="broker closing after DISCONNECT")


def test_persistent_session_keeps_and_resends_what_was_not_acked(clients: ClientFactory) -> None:
    name = uuid.uuid4().hex[:8]
    client_id = f"persistent-{name}"
    first, pub = clients(), clients()
    first.connect(client_id, clean=True)  # start from no stored session
    first.send(mqtt_wire.DISCONNECT)
    first = clients()
    assert first.connect(client_id, clean=False) is False
    first.send(mqtt_wire.encode_subscribe(1, [(f"p/{name}", 1)]))
    first.wait_other(PacketType.SUBACK)
    pub.connect(f"pub-{name}")
    pub.send(mqtt_wire.encode_publish_qos1(f"p/{name}".encode(), b"unacked", 1))
    wait_for(lambda: first.pump() and first.got.publishes, 10, what="first delivery")
    first.close()  # gone without PUBACK, as a kill -9 would leave it
    pub.send(mqtt_wire.encode_publish_qos1(f"p/{name}".encode(), b"while away", 2))
    pub.wait_other(PacketType.PUBACK)

    again = clients()
    assert again.connect(client_id, clean=False) is True  # session present
    wait_for(lambda: again.pump() and len(again.got.publishes) == 2, 10, what="resent messages")
    assert [p for _, p in again.got.publishes] == [b"unacked", b"while away"]
    first_frame = b"".join(again.raw)
    assert first_frame[first_frame.index(b"\x20\x02") + 4] & 0x08, "resend carries DUP"
    again.send(mqtt_wire.encode_pubacks(again.got.acks))
    again.send(mqtt_wire.DISCONNECT)

    # Acked: a resumed session gets nothing more.
    last = clients()
    assert last.connect(client_id, clean=False) is True
    last.send(mqtt_wire.PINGREQ)
    last.wait_other(PacketType.PINGRESP)
    assert last.got.publishes == []


def test_connack_refuses_an_unknown_protocol_level(open_broker: Endpoint) -> None:
    frame = bytearray(mqtt_wire.encode_connect(f"old-{uuid.uuid4().hex[:6]}"))
    frame[8] = 3  # protocol level 3 with the name "MQTT" is not a level Mosquitto takes
    client = Client(open_broker)
    try:
        client.send(bytes(frame))
        _, code = mqtt_wire.parse_connack(client.wait_other(PacketType.CONNACK))
        assert mqtt_wire.CONNACK_REASONS[code] == "unacceptable protocol version"
    finally:
        client.close()
