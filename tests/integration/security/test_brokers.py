"""The brokers and stores refuse what a component's identity does not allow.

Against the real Mosquitto, RabbitMQ and Redis the suite runs (configured by
tier0_devenv exactly as `make up` configures them): anonymous and guest clients are
turned away, each component's credential can do its job and nothing more, and an
oversized message is stopped at the broker without touching anyone else's session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
import pika
import pika.exceptions
import pytest
import redis
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from tests.support.servers import Endpoint, ServerPool
from tests.support.wait import wait_for
from tier0_devenv.credentials import AMQP_EXCHANGE
from tier0_devenv.infra import MQTT_MESSAGE_SIZE_LIMIT

pytestmark = pytest.mark.integration


@dataclass
class Session:
    """A paho MQTT v5 client that records what happens to it."""

    client: mqtt.Client
    connacks: list[ReasonCode] = field(default_factory=list)
    disconnects: int = 0
    received: list[tuple[str, bytes]] = field(default_factory=list)
    pubacks: dict[int, ReasonCode] = field(default_factory=dict)

    def publish(self, topic: str, payload: bytes) -> int:
        return self.client.publish(topic, payload, qos=1).mid

    def subscribe(self, topic: str) -> None:
        granted: list[bool] = []
        self.client.on_subscribe = lambda *_args: granted.append(True)
        self.client.subscribe(topic, qos=1)
        wait_for(lambda: granted, 10, what=f"SUBACK for {topic}")

    def got(self, payload: bytes) -> bool:
        return any(body == payload for _, body in self.received)


@pytest.fixture
def connect(mosquitto_server: Endpoint) -> Iterator[object]:
    sessions: list[Session] = []

    def open_session(role: str | None, *, expect_ok: bool = True) -> Session:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"sec-{role}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        session = Session(client)
        if role is not None:
            user = mosquitto_server.mqtt_user(role)
            client.username_pw_set(user.username, user.password)
        client.on_connect = lambda _c, _u, _f, code, _p: session.connacks.append(code)
        client.on_message = lambda _c, _u, m: session.received.append((m.topic, bytes(m.payload)))
        client.on_publish = lambda _c, _u, mid, code, _p: session.pubacks.__setitem__(mid, code)

        def on_disconnect(*_args: object) -> None:
            session.disconnects += 1

        client.on_disconnect = on_disconnect
        client.connect(mosquitto_server.host, mosquitto_server.port)
        client.loop_start()
        sessions.append(session)
        wait_for(lambda: session.connacks, 10, what=f"CONNACK for {role}")
        if expect_ok:
            assert not session.connacks[0].is_failure, session.connacks[0]
        return session

    yield open_session
    for session in sessions:
        session.client.disconnect()
        session.client.loop_stop()


def _topic() -> str:
    return f"og/field/SEC-{uuid.uuid4().hex[:6]}/turbine/TURB-1"


def test_anonymous_mqtt_client_is_refused(connect) -> None:  # type: ignore[no-untyped-def]
    session = connect(None, expect_ok=False)
    assert session.connacks[0].getName() == "Not authorized"


def test_wrong_mqtt_password_is_refused(mosquitto_server: Endpoint) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set(mosquitto_server.mqtt_user("ingest").username, "not-the-password")
    codes: list[ReasonCode] = []
    client.on_connect = lambda _c, _u, _f, code, _p: codes.append(code)
    client.connect(mosquitto_server.host, mosquitto_server.port)
    client.loop_start()
    try:
        wait_for(lambda: codes, 10, what="CONNACK")
    finally:
        client.loop_stop()
    assert codes[0].is_failure


def test_simulator_credential_cannot_read_telemetry(connect) -> None:  # type: ignore[no-untyped-def]
    # Mosquitto 2.0 acknowledges every SUBSCRIBE and checks read access per message,
    # so "cannot subscribe" means: never receives a message. The ingest session is
    # the control that the message was published and delivered.
    topic = _topic()
    spy = connect("simulator")
    spy.subscribe("og/field/#")
    ingest = connect("ingest")
    ingest.subscribe("og/field/#")
    sim = connect("simulator")
    sim.publish(topic, b'{"marker": 1}')
    wait_for(lambda: ingest.got(b'{"marker": 1}'), 10, what="ingest to receive the telemetry")
    assert spy.received == []


def test_ingest_credential_cannot_publish_telemetry_or_canaries(connect) -> None:  # type: ignore[no-untyped-def]
    watcher = connect("ingest")
    watcher.subscribe("og/field/#")
    watcher.subscribe("tier0/canary/#")
    ingest = connect("ingest")
    refused = [ingest.publish(_topic(), b"forged"), ingest.publish("tier0/canary/x", b"forged")]
    wait_for(lambda: all(mid in ingest.pubacks for mid in refused), 10, what="PUBACKs")
    assert [ingest.pubacks[mid].getName() for mid in refused] == ["Not authorized"] * 2
    # The control: a simulator's message on the same filter arrives after them.
    connect("simulator").publish(_topic(), b"genuine")
    wait_for(lambda: watcher.got(b"genuine"), 10, what="the simulator's message")
    assert not watcher.got(b"forged")


def test_canary_credential_publishes_only_canaries(connect) -> None:  # type: ignore[no-untyped-def]
    watcher = connect("ingest")
    watcher.subscribe("og/field/#")
    watcher.subscribe("tier0/canary/#")
    canary = connect("canary")
    forged = canary.publish(_topic(), b"forged")
    canary.publish("tier0/canary/sec-1", b"canary")
    wait_for(lambda: watcher.got(b"canary"), 10, what="the canary")
    wait_for(lambda: forged in canary.pubacks, 10, what="PUBACK of the forged telemetry")
    assert canary.pubacks[forged].getName() == "Not authorized"
    assert not watcher.got(b"forged")


def test_oversized_publish_is_dropped_at_the_broker_and_others_carry_on(connect) -> None:  # type: ignore[no-untyped-def]
    topic = _topic()
    ingest = connect("ingest")
    ingest.subscribe("og/field/#")
    bystander = connect("simulator")
    flooder = connect("simulator")
    huge = b"x" * (MQTT_MESSAGE_SIZE_LIMIT + 1)
    flooder.publish(topic, huge)
    bystander.publish(topic, b"after-huge")
    wait_for(lambda: ingest.got(b"after-huge"), 10, what="a message published after the huge one")
    assert not ingest.got(huge)
    # The broker may drop the offender's connection; nobody else's session is touched.
    assert [s.disconnects for s in (ingest, bystander)] == [0, 0]
    assert [len(s.connacks) for s in (ingest, bystander)] == [1, 1]


def _amqp(url: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(url))


def test_rabbitmq_has_no_guest(rabbitmq_server: Endpoint) -> None:
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        _amqp(f"amqp://guest:guest@{rabbitmq_server.host}:{rabbitmq_server.port}/%2F")


def test_rabbitmq_wrong_password_is_refused(rabbitmq_server: Endpoint) -> None:
    url = f"amqp://tier0-ingest:wrong@{rabbitmq_server.host}:{rabbitmq_server.port}/%2F"
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        _amqp(url)


def test_rabbitmq_roles_are_least_privilege(rabbitmq_server: Endpoint) -> None:
    ingest = _amqp(rabbitmq_server.amqp_url("ingest"))
    sim = _amqp(rabbitmq_server.amqp_url("simulator"))
    queue = f"{AMQP_EXCHANGE}.sec-{uuid.uuid4().hex[:6]}"
    try:
        # Both may declare the exchange they share; ingest its region's queue.
        sim.channel().exchange_declare(AMQP_EXCHANGE, exchange_type="topic", durable=True)
        channel = ingest.channel()
        channel.queue_declare(queue, auto_delete=True)
        channel.queue_bind(queue, AMQP_EXCHANGE, routing_key="activity.#")
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
            sim.channel().basic_get(queue)
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
            sim.channel().queue_declare(f"{AMQP_EXCHANGE}.sec-sim")
        forged = ingest.channel()
        forged.confirm_delivery()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
            forged.basic_publish(AMQP_EXCHANGE, "activity.SFO-WEB-01", b"forged")
    finally:
        ingest.close()
        sim.close()


def test_rabbitmq_management_plugin_is_off(tier0_servers: ServerPool) -> None:
    result = tier0_servers.rabbitmq_node().ctl("status")
    assert result.returncode == 0, result.stderr
    listeners = [line for line in result.stdout.splitlines() if "protocol:" in line]
    assert any("protocol: amqp" in line for line in listeners), result.stdout
    assert not any("http" in line for line in listeners), listeners


def test_redis_refuses_clients_without_the_password(redis_region1: Endpoint) -> None:
    for password in (None, "wrong"):
        client = redis.Redis(host=redis_region1.host, port=redis_region1.port, password=password)
        with pytest.raises(redis.AuthenticationError):
            client.ping()
        client.close()
    client = redis_region1.redis_client(decode_responses=True)
    try:
        assert client.ping()
        assert client.config_get("protected-mode") == {"protected-mode": "yes"}
    finally:
        client.close()
