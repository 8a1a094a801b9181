"""The shared server fixtures give real, working servers, and stopping leaves nothing.

Every other integration test builds on these fixtures, so each server is exercised
the way the product uses it: Redis vector search (KNN over an HNSW index), an MQTT
publish/subscribe round trip, an AMQP publish/consume.
"""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pika
import pytest
import redis
from paho.mqtt.enums import CallbackAPIVersion
from redis.commands.search.field import TagField, TextField, VectorField
from redis.commands.search.query import Query

from tests.support.servers import Endpoint, ServerPool, clean_redis, search_indexes
from tests.support.wait import wait_for
from tier0_devenv.processes import descendants, port_listener, process_alive

pytestmark = pytest.mark.integration


def _vector(*values: float) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def test_redis_vector_knn_returns_nearest_first(redis1: redis.Redis) -> None:
    redis1.ft("idx:img").create_index(
        [
            TagField("site"),
            VectorField("vec", "HNSW", {"TYPE": "FLOAT32", "DIM": 3, "DISTANCE_METRIC": "COSINE"}),
        ]
    )
    redis1.hset("img:a", mapping={"site": "WY-ALPHA", "vec": _vector(1, 0, 0)})
    redis1.hset("img:b", mapping={"site": "TX-BRAVO", "vec": _vector(0, 1, 0)})
    redis1.hset("img:c", mapping={"site": "WY-ALPHA", "vec": _vector(0.9, 0.1, 0)})
    query = Query("*=>[KNN 2 @vec $q AS score]").sort_by("score").return_field("score")
    result = redis1.ft("idx:img").search(query.dialect(2), query_params={"q": _vector(1, 0, 0)})
    assert [doc.id for doc in result.docs] == ["img:a", "img:c"]


def test_redis_regions_are_separate_servers(redis1: redis.Redis, redis2: redis.Redis) -> None:
    redis1.set("only-in", "region1")
    assert redis2.get("only-in") is None
    assert redis1.config_get("port") != redis2.config_get("port")


def test_clean_redis_drops_keys_and_indexes(redis_region1: Endpoint) -> None:
    dirty = clean_redis(redis_region1)
    dirty.ft("idx:tmp").create_index([TextField("f")])
    dirty.set("k", "v")
    clean = clean_redis(redis_region1)
    assert clean.dbsize() == 0
    assert search_indexes(clean) == []
    dirty.close()
    clean.close()


def test_mqtt_publish_subscribe_round_trip(mosquitto_server: Endpoint) -> None:
    assert mosquitto_server.url == f"mqtt://127.0.0.1:{mosquitto_server.port}"
    topic = f"og/field/WY-ALPHA/turbine/TURB-{uuid.uuid4().hex[:6]}"
    received: list[bytes] = []
    subscribed: list[bool] = []

    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    ingest = mosquitto_server.mqtt_user("ingest")
    sub.username_pw_set(ingest.username, ingest.password)
    sub.on_subscribe = lambda *args: subscribed.append(True)
    sub.on_message = lambda _c, _u, message: received.append(bytes(message.payload))
    sub.connect(mosquitto_server.host, mosquitto_server.port)
    sub.subscribe(topic, qos=1)
    sub.loop_start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    simulator = mosquitto_server.mqtt_user("simulator")
    pub.username_pw_set(simulator.username, simulator.password)
    pub.connect(mosquitto_server.host, mosquitto_server.port)
    pub.loop_start()
    try:
        wait_for(lambda: subscribed, 10, what="SUBACK")
        pub.publish(topic, b'{"device_id":"TURB-1"}', qos=1).wait_for_publish(10)
        wait_for(lambda: received, 10, what="the published message to arrive")
    finally:
        for client in (pub, sub):
            client.disconnect()
            client.loop_stop()
    assert received == [b'{"device_id":"TURB-1"}']


def test_amqp_publish_consume(rabbitmq_clean: Endpoint) -> None:
    harness = rabbitmq_clean.amqp_url("harness")
    assert rabbitmq_clean.url == harness and harness.startswith("amqp://tier0-harness:")
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_clean.url))
    try:
        channel = connection.channel()
        channel.queue_declare("tier0.test.activity")
        channel.basic_publish("", "tier0.test.activity", b'{"site_id":"SFO-WEB-01"}')

        def get() -> bytes | None:
            _method, _props, body = channel.basic_get("tier0.test.activity", auto_ack=True)
            return None if body is None else bytes(body)

        assert wait_for(get, 10, what="the message on the queue") == b'{"site_id":"SFO-WEB-01"}'
    finally:
        connection.close()


def test_rabbitmq_reset_deletes_test_queues_and_exchanges(
    rabbitmq_server: Endpoint, tier0_servers: ServerPool
) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_server.url))
    try:
        channel = connection.channel()
        channel.exchange_declare("tier0.test.fanout", exchange_type="fanout")
        channel.queue_declare("tier0.test.leftover")
        tier0_servers.reset_rabbitmq()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker):
            channel.queue_declare("tier0.test.leftover", passive=True)
        channel = connection.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker):
            channel.exchange_declare("tier0.test.fanout", passive=True)
    finally:
        connection.close()


def test_stopping_a_pool_leaves_no_process(tmp_path: Path) -> None:
    # RabbitMQ's helpers outside its process group are covered by test_cli.py's `down`.
    pool = ServerPool(tmp_path / "run")
    try:
        mqtt = pool.mosquitto()
        store = pool.redis("region1")
        pids: list[int] = []
        for name in pool.supervisor.recorded_names():
            leader = pool.supervisor.owned_pid(name)
            assert leader is not None, f"{name} is not running"
            pids += [leader, *descendants(leader)]
    finally:
        pool.stop_all()
    assert [pid for pid in pids if process_alive(pid)] == []
    assert port_listener(mqtt.port) is None and port_listener(store.port) is None
    assert list((tmp_path / "run" / "pids").glob("*.pid")) == []
