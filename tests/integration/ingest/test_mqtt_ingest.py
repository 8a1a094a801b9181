"""The telemetry flow against real Mosquitto and real Redis (with the Query Engine).

The simulator and the workers run as the processes they are in production
(``python -m ...``). Each test uses its own share group, so only its own workers
receive what it publishes. Restart tests start private servers they can stop.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.support.redis_data import device_mapping
from tests.support.servers import Endpoint, ServerPool, free_port
from tests.support.wait import wait_for
from tier0_common import mqtt_wire
from tier0_common.catalog import canary_topic
from tier0_common.keys import DEVICE_INDEX, DLQ_TELEMETRY, INGEST_LAST, canary_key, device_key
from tier0_common.schema import Telemetry
from tier0_devenv import credentials, infra
from tier0_devenv.processes import Supervisor
from tier0_simulators.iot.fleet import expected_final_states

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
WorkerFactory = Callable[..., "Worker"]


class Worker:
    def __init__(self, process: subprocess.Popen[bytes], log: Path, metrics_port: int) -> None:
        self.process = process
        self.log = log
        self.metrics_port = metrics_port

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def subscriptions(self) -> int:
        return self.log_text().count('"mqtt_subscribed"')

    def metric(self, name: str) -> float:
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name:
                    total += sample.value
        return total


@pytest.fixture
def group() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def start_worker(tmp_path: Path, group: str) -> Iterator[WorkerFactory]:
    """Start ``python -m tier0_ingest.mqtt`` processes; all are stopped at teardown."""
    workers: list[Worker] = []

    def start(region: str, redis_at: Endpoint, mqtt_at: Endpoint, **env: str) -> Worker:
        port = free_port()
        log = tmp_path / f"worker-{len(workers)}.log"
        environ = {
            **os.environ,
            "REGION": region,
            **redis_at.redis_env(),
            **mqtt_at.mqtt_env("ingest"),
            "MQTT_SHARE_GROUP": f"{group}-{region}",
            # Stable per replica in production; unique per started worker here.
            "MQTT_CLIENT_ID": f"{group}-{region}-{len(workers)}",
            "METRICS_PORT": str(port),
            "BATCH_MAX_WAIT_MS": "20",
            "MQTT_KEEPALIVE": "5",
            **env,
        }
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tier0_ingest.mqtt"],
                cwd=REPO, env=environ, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        worker = Worker(process, log, port)
        workers.append(worker)
        wait_for(lambda: worker.subscriptions() >= 1, 30, what=f"worker {region} subscribed")
        return worker

    yield start
    for worker in workers:
        worker.process.terminate()
    for worker in workers:
        try:
            worker.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
        assert "Traceback" not in worker.log_text(), worker.log_text()[-3000:]


def simulate(mqtt_at: Endpoint, record: Path, *args: str) -> list[dict[str, Any]]:
    """Run the simulator to completion; returns every payload it sent, in order."""
    subprocess.run(
        [
            sys.executable, "-m", "tier0_simulators.iot", "--mqtt-host", mqtt_at.host,
            "--mqtt-port", str(mqtt_at.port), "--metrics-port", "0", "--interval", "0",
            "--record", str(record), *args,
        ],
        cwd=REPO, check=True, timeout=120, capture_output=True,
        env={**os.environ, **mqtt_at.mqtt_env("simulator")},
    )  # fmt: skip
    return [orjson.loads(line) for line in record.read_bytes().splitlines()]


def site_messages(client: redis.Redis) -> int:
    return sum(int(client.hget(key, "msgs") or 0) for key in client.scan_iter("site:*"))


def last_by_device(sent: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {payload["device_id"]: payload for payload in sent}


def assert_hashes_match(client: redis.Redis, expected: dict[str, dict[str, Any]]) -> None:
    pipe = client.pipeline(transaction=False)
    for device_id in expected:
        pipe.hgetall(device_key(device_id))
    for (device_id, payload), stored in zip(expected.items(), pipe.execute(), strict=True):
        want = device_mapping(Telemetry.model_validate(payload), 0.0)
        assert float(stored.pop("seen")) > 0
        want.pop("seen")
        assert stored == want, device_id


def publish_raw(
    mqtt_at: Endpoint, messages: list[tuple[str, bytes]], role: str = "simulator"
) -> None:
    """Publish exactly these bytes (QoS 0) as ``role`` and wait until the broker has
    routed them."""
    user = mqtt_at.mqtt_user(role)
    with socket.create_connection((mqtt_at.host, mqtt_at.port), timeout=10) as sock:
        sock.sendall(
            mqtt_wire.encode_connect(
                f"raw-{uuid.uuid4().hex[:6]}", username=user.username, password=user.password
            )
        )
        assert sock.recv(4)[:1] == b"\x20"
        sock.sendall(b"".join(mqtt_wire.encode_publish(t.encode(), p) for t, p in messages))
        sock.sendall(mqtt_wire.DISCONNECT)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass


def test_both_regions_hold_the_last_payload_of_every_device(
    mosquitto_server: Endpoint,
    redis_region1: Endpoint,
    redis_region2: Endpoint,
    redis1: redis.Redis,
    redis2: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    start_worker("region1", redis_region1, mosquitto_server)
    start_worker("region2", redis_region2, mosquitto_server)
    sent = simulate(mosquitto_server, tmp_path / "sent.jsonl", "--devices", "240", "--rounds", "3",
                    "--seed", "42")  # fmt: skip
    assert len(sent) == 720
    expected = last_by_device(sent)
    # The pure ground truth agrees with what was recorded (all but the wall clock).
    truth = expected_final_states(240, 10, 42, 3)
    untimed = {k: {f: v for f, v in p.items() if f != "timestamp_utc"} for k, p in expected.items()}
    assert untimed == truth
    for client in (redis1, redis2):
        wait_for(lambda c=client: site_messages(c) == 720, 30, what="720 messages counted")
        assert_hashes_match(client, expected)
        assert float(client.hget(INGEST_LAST, "mqtt") or 0) > 0
        assert int(client.ft(DEVICE_INDEX).info()["num_docs"]) == 240
        assert client.xlen(DLQ_TELEMETRY) == 0


def test_replicas_of_a_region_split_the_stream_and_lose_nothing(
    mosquitto_server: Endpoint,
    redis_region1: Endpoint,
    redis1: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    replicas = [start_worker("region1", redis_region1, mosquitto_server) for _ in range(2)]
    sent = simulate(mosquitto_server, tmp_path / "sent.jsonl", "--devices", "2000", "--rounds", "1")
    wait_for(lambda: site_messages(redis1) == 2000, 30, what="2000 messages counted")
    received = [w.metric("tier0_mqtt_ingest_received_total") for w in replicas]
    assert sum(received) == 2000
    assert min(received) > 0, f"one replica got nothing: {received}"
    assert_hashes_match(redis1, last_by_device(sent))


def test_status_changes_and_a_wiped_hash_are_written_whole_again(
    mosquitto_server: Endpoint,
    redis_region1: Endpoint,
    redis1: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    """Later writes carry only the changing fields: statuses that flip must still land,
    and hashes deleted behind the worker's back come back whole within
    FULL_WRITE_INTERVAL_SECONDS."""
    worker = start_worker(
        "region1", redis_region1, mosquitto_server, FULL_WRITE_INTERVAL_SECONDS="0.5"
    )
    args = ("--devices", "200", "--seed", "5", "--fault-rate", "0.3")
    sent = simulate(mosquitto_server, tmp_path / "a.jsonl", *args, "--rounds", "4")
    wait_for(lambda: site_messages(redis1) == 800, 30, what="800 messages counted")
    expected = last_by_device(sent)
    assert {p["status"]["state"] for p in expected.values()} >= {"OK", "WARN", "ALERT"}
    assert_hashes_match(redis1, expected)

    redis1.delete(*(device_key(device_id) for device_id in expected))
    resets = worker.metric("tier0_mqtt_ingest_whole_write_resets_total")
    counted = 800
    # Publish until the worker has forgotten what it wrote (it checks when it flushes,
    # so it needs traffic), then once more: that round must land whole.
    for _ in range(10):
        again = simulate(mosquitto_server, tmp_path / "b.jsonl", *args, "--rounds", "1")
        counted += 200
        wait_for(lambda n=counted: site_messages(redis1) == n, 30, what=f"{counted} counted")
        if worker.metric("tier0_mqtt_ingest_whole_write_resets_total") > resets:
            break
    again = simulate(mosquitto_server, tmp_path / "c.jsonl", *args, "--rounds", "1")
    wait_for(lambda: site_messages(redis1) == counted + 200, 30, what="last round counted")
    assert_hashes_match(redis1, last_by_device(again))


def test_bad_messages_are_dead_lettered_and_good_ones_keep_flowing(
    mosquitto_server: Endpoint,
    redis_region1: Endpoint,
    redis1: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    worker = start_worker("region1", redis_region1, mosquitto_server)
    good = simulate(mosquitto_server, tmp_path / "good.jsonl", "--devices", "8", "--rounds", "1")
    sample = good[0]
    topic = f"og/field/{sample['site_id']}/{sample['device_type']}/{sample['device_id']}"
    body = orjson.dumps(sample)
    wrong_type = orjson.dumps({**sample, "metrics": {**sample["metrics"], "rpm": "fast"}})
    missing = orjson.dumps({k: v for k, v in sample.items() if k != "status"})
    huge = orjson.dumps({**sample, "tags": {"blob": "x" * 10_000}})
    nan = body.replace(orjson.dumps(sample["location"]["lat"]), b"NaN", 1)
    bad = [
        (topic, b"{not json"),
        (topic, wrong_type),
        (topic, missing),
        (topic, huge),
        (topic, nan),
        (topic.replace(sample["device_id"], "OTHER-1"), body),
        (canary_topic("c1"), b'{"canary_id": "c2", "sent_at": 1}'),
    ]
    fresh = {**sample, "firmware": "9.9.9"}
    # Each role publishes only its own topics; a whole publish_raw is routed before the
    # next starts, so the worker sees them in this order.
    publish_raw(mosquitto_server, bad[:-1])
    publish_raw(mosquitto_server, bad[-1:], role="canary")
    publish_raw(mosquitto_server, [(topic, orjson.dumps(fresh))])
    wait_for(lambda: redis1.xlen(DLQ_TELEMETRY) == len(bad), 30, what="7 dead letters")
    reasons = [entry["reason"].split(":")[0] for _, entry in redis1.xrange(DLQ_TELEMETRY)]
    assert reasons == ["bad_json", "invalid", "invalid", "too_large", "invalid",
                       "topic_mismatch", "topic_mismatch"]  # fmt: skip
    letters = redis1.xrange(DLQ_TELEMETRY)
    assert letters[0][1]["payload"] == "{not json" and letters[0][1]["where"] == topic
    assert letters[3][1]["truncated"] == "1"
    wait_for(lambda: redis1.hget(device_key(sample["device_id"]), "fw") == "9.9.9", 10,
             what="the good message after the bad ones")  # fmt: skip
    assert worker.metric("tier0_ingest_dead_letters_total") == len(bad)
    assert worker.process.poll() is None
    probe = b'{"canary_id": "probe-1", "sent_at": 1.5}'
    publish_raw(mosquitto_server, [(canary_topic("probe-1"), probe)], role="canary")
    wait_for(lambda: redis1.get(canary_key("probe-1")), 10, what="canary recorded")
    assert 0 < redis1.ttl(canary_key("probe-1")) <= 600


@pytest.fixture
def unlimited_mosquitto(tier0_servers: ServerPool) -> Iterator[Endpoint]:
    """The suite's identities and ACL on a broker without a message size limit."""
    port = free_port()
    (spec,) = infra.mosquitto_specs(
        tier0_servers.run_dir, port, tier0_servers.creds, name=f"mq-unlimited-{port}",
        message_size_limit=0,
    )  # fmt: skip
    tier0_servers.supervisor.start(spec)
    yield Endpoint(infra.LOOPBACK, port, "mqtt", tier0_servers.creds)
    tier0_servers.supervisor.stop(spec.name)


def test_a_2mb_message_and_a_malformed_packet_cost_neither_region_its_session(
    unlimited_mosquitto: Endpoint,
    redis_region1: Endpoint,
    redis_region2: Endpoint,
    redis1: redis.Redis,
    redis2: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    """One device's 2 MB message once made both regions drop their sessions together.
    Now each worker steps over it (dead letter `too_large`, the session kept); a
    malformed packet is the broker's to refuse (it drops that device only). Our brokers
    drop such a message themselves (message_size_limit, tests/integration/security);
    this broker has no limit, so the worker's own defence is what is tested."""
    mosquitto_server = unlimited_mosquitto
    workers = [
        start_worker("region1", redis_region1, mosquitto_server),
        start_worker("region2", redis_region2, mosquitto_server),
    ]
    before = simulate(mosquitto_server, tmp_path / "a.jsonl", "--devices", "40", "--rounds", "1")
    sample = before[0]
    topic = f"og/field/{sample['site_id']}/{sample['device_type']}/{sample['device_id']}"
    huge = orjson.dumps({**sample, "tags": {"blob": "x" * 2_000_000}})
    assert len(huge) > 2_000_000
    publish_raw(mosquitto_server, [(topic, huge)])
    with socket.create_connection((mosquitto_server.host, mosquitto_server.port), 10) as sock:
        user = mosquitto_server.mqtt_user("simulator")
        sock.sendall(
            mqtt_wire.encode_connect(
                f"bad-{uuid.uuid4().hex[:6]}", username=user.username, password=user.password
            )
        )
        assert sock.recv(4)[:1] == b"\x20"
        sock.sendall(b"\x30\x05\x00\x09og/")  # topic length runs past the packet
        sock.settimeout(10)
        assert sock.recv(4096) == b"", "Mosquitto should drop the malformed publisher"
    after = simulate(mosquitto_server, tmp_path / "b.jsonl", "--devices", "40", "--rounds", "1",
                     "--seed", "8")  # fmt: skip
    for client in (redis1, redis2):
        wait_for(lambda c=client: site_messages(c) == 80, 30, what="80 good messages counted")
        assert_hashes_match(client, last_by_device(after))
        (letter,) = [entry for _, entry in client.xrange(DLQ_TELEMETRY)]
        assert letter["reason"].startswith("too_large: packet of")
        assert letter["where"] == topic and int(letter["size"]) > 2_000_000
    for worker in workers:
        assert worker.metric("tier0_mqtt_ingest_mqtt_connects_total") == 1
        assert worker.metric("tier0_mqtt_ingest_mqtt_disconnects_total") == 0
        assert worker.metric("tier0_mqtt_ingest_rejected_packets_total") == 1
        assert '"mqtt_session_lost"' not in worker.log_text()


@pytest.fixture
def private_servers(tmp_path: Path) -> Iterator[tuple[Supervisor, dict[str, Any]]]:
    """A Mosquitto and a Redis this test may stop and start again on the same ports."""
    run = tmp_path / "run"
    supervisor = Supervisor(run)
    creds = credentials.load_or_create(run)
    mqtt_port, redis_port = free_port(), free_port()
    specs = {
        "mqtt": infra.mosquitto_specs(run, mqtt_port, creds, name="mq-private")[0],
        "redis": infra.redis_specs(
            run, redis_port, name="redis-private", password=creds.redis_password
        )[0],
    }
    for spec in specs.values():
        supervisor.start(spec)
    yield (
        supervisor,
        {
            "specs": specs,
            "mqtt": Endpoint(infra.LOOPBACK, mqtt_port, "mqtt", creds),
            "redis": Endpoint(infra.LOOPBACK, redis_port, "redis", creds),
        },
    )
    for spec in specs.values():
        supervisor.stop(spec.name)


def test_worker_survives_redis_and_broker_restarts(
    private_servers: tuple[Supervisor, dict[str, Any]],
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    supervisor, servers = private_servers
    mqtt_at, redis_at = servers["mqtt"], servers["redis"]
    client = redis_at.redis_client(decode_responses=True)
    worker = start_worker("region1", redis_at, mqtt_at)
    simulate(mqtt_at, tmp_path / "a.jsonl", "--devices", "100", "--rounds", "1", "--seed", "1")
    wait_for(lambda: site_messages(client) == 100, 30, what="first 100 messages")

    # Redis goes away: the worker keeps reading and holds the latest states.
    supervisor.stop(servers["specs"]["redis"].name)
    sent = simulate(mqtt_at, tmp_path / "b.jsonl", "--devices", "100", "--rounds", "2")
    wait_for(lambda: worker.metric("tier0_mqtt_ingest_received_total") >= 300, 30,
             what="messages read while Redis is down")  # fmt: skip
    wait_for(lambda: '"redis_unavailable"' in worker.log_text(), 30, what="outage noticed")
    supervisor.start(servers["specs"]["redis"])  # back with its AOF; held states go on top
    newest = last_by_device(sent)
    wait_for(lambda: all(client.hget(device_key(d), "ts") == device_mapping(
        Telemetry.model_validate(p), 0)["ts"] for d, p in newest.items()), 60,
        what="every device's held state written")  # fmt: skip
    assert_hashes_match(client, newest)

    # The broker restarts: the worker reconnects and resubscribes.
    supervisor.stop(servers["specs"]["mqtt"].name)
    wait_for(lambda: '"mqtt_session_lost"' in worker.log_text(), 30, what="session loss noticed")
    supervisor.start(servers["specs"]["mqtt"])
    wait_for(lambda: worker.subscriptions() >= 2, 60, what="worker resubscribed")
    again = simulate(
        mqtt_at, tmp_path / "c.jsonl", "--devices", "100", "--rounds", "1", "--seed", "3"
    )
    wait_for(lambda: client.hget(device_key(again[-1]["device_id"]), "ts")
             == device_mapping(Telemetry.model_validate(again[-1]), 0)["ts"], 30,
             what="telemetry after the broker restart")  # fmt: skip
    assert_hashes_match(client, last_by_device(again))
    assert worker.process.poll() is None


def start_simulator(mqtt_at: Endpoint, record: Path, devices: int) -> subprocess.Popen[bytes]:
    """One QoS 1 round of ``devices`` at 1000 msg/s, in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "tier0_simulators.iot", "--mqtt-host", mqtt_at.host,
         "--mqtt-port", str(mqtt_at.port), "--metrics-port", "0", "--interval", "0",
         "--devices", str(devices), "--rounds", "1", "--reading-qos", "1", "--max-rate", "1000",
         "--record", str(record)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, **mqtt_at.mqtt_env("simulator")},
    )  # fmt: skip


def finish_simulator(sim: subprocess.Popen[bytes], record: Path, devices: int) -> list[Any]:
    """Wait for it; check it sent every device once at QoS 1 and lost nothing."""
    try:
        _, err = sim.communicate(timeout=90)
    finally:
        if sim.poll() is None:
            sim.kill()
    finished = orjson.loads(err.splitlines()[-1])
    assert finished["event"] == "simulator_finished", err[-2000:]
    assert finished["sent"] == devices and finished["lost"] == 0 and finished["qos1"] == devices
    sent = [orjson.loads(line) for line in record.read_bytes().splitlines()]
    assert len(sent) == devices
    return sent


def stored_devices(client: redis.Redis) -> int:
    return sum(1 for _ in client.scan_iter(device_key("*"), count=1000))


def test_worker_killed_mid_stream_at_qos1_loses_nothing(
    mosquitto_server: Endpoint,
    redis_region1: Endpoint,
    redis1: redis.Redis,
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    """kill -9 while a QoS 1 stream flows, restart with the same client id: every
    message the simulator recorded is stored (each device publishes once, so a lost
    message is a missing device); resent ones may be counted twice, never lost."""
    devices = 3000
    client_id = f"kill-test-{uuid.uuid4().hex[:6]}"
    first = start_worker("region1", redis_region1, mosquitto_server, MQTT_CLIENT_ID=client_id)
    record = tmp_path / "sent.jsonl"
    sim = start_simulator(mosquitto_server, record, devices)
    try:
        wait_for(lambda: site_messages(redis1) >= 500, 30, what="the stream under way")
        first.process.kill()
        first.process.wait()
        assert site_messages(redis1) < devices, "the kill must land mid-stream"
        start_worker("region1", redis_region1, mosquitto_server, MQTT_CLIENT_ID=client_id)
    finally:
        sent = finish_simulator(sim, record, devices)
    wait_for(lambda: stored_devices(redis1) == devices, 60,
             what=f"all {devices} devices stored after the restart")  # fmt: skip
    assert_hashes_match(redis1, last_by_device(sent))
    assert site_messages(redis1) >= devices  # resent messages may count twice


def test_redis_restart_keeps_device_state(
    private_servers: tuple[Supervisor, dict[str, Any]],
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    """AOF (everysec): Redis stopped and started comes back with every device's hash
    and the search index, without waiting for the next readings."""
    supervisor, servers = private_servers
    mqtt_at, redis_at = servers["mqtt"], servers["redis"]
    client = redis_at.redis_client(decode_responses=True)
    worker = start_worker("region1", redis_at, mqtt_at)
    sent = simulate(mqtt_at, tmp_path / "a.jsonl", "--devices", "200", "--rounds", "2")
    wait_for(lambda: site_messages(client) == 400, 30, what="400 messages stored")
    worker.process.terminate()
    worker.process.wait(timeout=15)
    supervisor.stop(servers["specs"]["redis"].name)
    supervisor.start(servers["specs"]["redis"])
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert site_messages(client) == 400
    assert_hashes_match(client, last_by_device(sent))
    wait_for(lambda: int(client.ft(DEVICE_INDEX).info()["num_docs"]) == 200, 30,
             what="the device index rebuilt from the AOF")  # fmt: skip


def test_writes_refused_at_maxmemory_are_held_and_retried_not_dropped(
    private_servers: tuple[Supervisor, dict[str, Any]],
    start_worker: WorkerFactory,
    tmp_path: Path,
) -> None:
    """An OOM (or LOADING, after a restart) reply means "not now": the worker keeps the
    states and writes them once Redis takes writes again (a chaos run lost ~580 of
    20,000 messages to LOADING replies before)."""
    _, servers = private_servers
    mqtt_at, redis_at = servers["mqtt"], servers["redis"]
    client = redis_at.redis_client(decode_responses=True)
    worker = start_worker("region1", redis_at, mqtt_at)
    simulate(mqtt_at, tmp_path / "a.jsonl", "--devices", "50", "--rounds", "1", "--seed", "1")
    wait_for(lambda: site_messages(client) == 50, 30, what="first 50 messages")
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", "1")
    try:
        sent = simulate(mqtt_at, tmp_path / "b.jsonl", "--devices", "50", "--rounds", "1",
                        "--reading-qos", "1")  # fmt: skip
        wait_for(lambda: '"redis_unavailable"' in worker.log_text(), 30, what="OOM noticed")
        assert "OOM" in worker.log_text()
    finally:
        client.config_set("maxmemory", "0")
    newest = last_by_device(sent)
    wait_for(lambda: site_messages(client) == 100, 60, what="held writes landed")
    assert_hashes_match(client, newest)
