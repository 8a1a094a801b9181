"""The user-activity flow against a real RabbitMQ and real Redis servers.

The simulator and the workers run as the processes they are in production
(``python -m ...``); each test uses its own exchange, so its queues are its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pika
import pika.exceptions
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.support.servers import Endpoint, ServerPool, free_port
from tests.support.wait import wait_for
from tier0_common.catalog import WEB_SITES
from tier0_common.keys import DLQ_ACTIVITY, INGEST_LAST, USERS_ACTIVITY, users_site_key
from tier0_common.schema import UserActivity
from tier0_devenv import infra
from tier0_ingest.amqp.writer import site_fields
from tier0_simulators.users.generator import ActivityGenerator

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT = 30.0

WorkerFactory = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def exchange(rabbitmq_server: Endpoint) -> Iterator[str]:
    """A fresh exchange name; its queues and exchanges are deleted afterwards."""
    name = f"test.ua.{uuid.uuid4().hex[:8]}"
    yield name
    with _channel(rabbitmq_server) as channel:
        for region in ("region1", "region2", "outage"):
            channel.queue_delete(f"{name}.{region}")
            channel.queue_delete(f"{name}.{region}.dlq")
            channel.exchange_delete(f"{name}.{region}.dlq")
        channel.exchange_delete(name)


@pytest.fixture
def start_worker(rabbitmq_server: Endpoint, tmp_path: Path) -> Iterator[WorkerFactory]:
    """Start ``python -m tier0_ingest.amqp`` processes; all are stopped at teardown."""
    workers: list[subprocess.Popen[bytes]] = []

    def start(region: str, redis_port: int, exchange: str, **env: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{region}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "tier0_ingest.amqp"],
            env={
                **os.environ,
                "REGION": region,
                "REDIS_HOST": infra.LOOPBACK,
                "REDIS_PORT": str(redis_port),
                "REDIS_PASSWORD": rabbitmq_server.password,
                # The suite's user: these tests use exchanges of their own names, which
                # the ingest role may not declare (tests/integration/security covers it).
                "AMQP_URL": rabbitmq_server.url,
                "AMQP_EXCHANGE": exchange,
                "METRICS_PORT": "0",
                "INGEST_BATCH_WAIT_MS": "20",
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        workers.append(process)
        queue = f"{exchange}.{region}"
        wait_for(
            lambda: process.poll() is None and _consumers(rabbitmq_server, queue) >= 1,
            START_TIMEOUT,
            what=f"worker {region} consuming {queue} (log {log.name})",
        )
        return process

    yield start
    for process in workers:
        process.terminate()
    for process in workers:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class _channel:
    """A short-lived confirming channel: ``with _channel(endpoint) as channel:``."""

    def __init__(self, endpoint: Endpoint) -> None:
        self._connection = pika.BlockingConnection(pika.URLParameters(endpoint.url))

    def __enter__(self) -> Any:
        channel = self._connection.channel()
        channel.confirm_delivery()
        return channel

    def __exit__(self, *exc: object) -> None:
        self._connection.close()


def _queue_counts(endpoint: Endpoint, queue: str) -> tuple[int, int] | None:
    """(ready messages, consumers) of a queue, or None when it does not exist."""
    try:
        with _channel(endpoint) as channel:
            frame = channel.queue_declare(queue, passive=True)
    except pika.exceptions.ChannelClosedByBroker:
        return None
    return frame.method.message_count, frame.method.consumer_count


def _consumers(endpoint: Endpoint, queue: str) -> int:
    counts = _queue_counts(endpoint, queue)
    return counts[1] if counts else 0


def _publish(endpoint: Endpoint, exchange: str, bodies: list[tuple[str, bytes]]) -> None:
    with _channel(endpoint) as channel:
        for site_id, body in bodies:
            channel.basic_publish(
                exchange,
                f"activity.{site_id}",
                body,
                pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent),
                mandatory=True,
            )


def _reports(seed: int, sites: tuple[str, ...], rounds: int) -> list[dict[str, Any]]:
    """``rounds`` rounds of reports 5 s apart, round by round, with unique message ids."""
    generator = ActivityGenerator(seed, sites=sites, max_listed_users=5)
    start = datetime.now(UTC).replace(microsecond=0)
    reports: list[dict[str, Any]] = []
    for tick in range(rounds):
        reports.extend(generator.round(start + timedelta(seconds=5 * tick)))
    return reports


def _expected_hash(report: dict[str, Any]) -> dict[str, str]:
    fields = site_fields(UserActivity.model_validate(report), received=0.0)
    del fields["received"]
    return fields


def _stored_hash(client: redis.Redis, site_id: str) -> dict[str, str]:
    stored: dict[str, str] = client.hgetall(users_site_key(site_id))
    stored.pop("received", None)
    return stored


def _metric(port: int, name: str) -> float:
    text = httpx.get(f"http://{infra.LOOPBACK}:{port}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return 0.0


def test_simulator_feeds_both_regions_active_active(
    rabbitmq_server: Endpoint,
    redis_region1: Endpoint,
    redis_region2: Endpoint,
    redis1: redis.Redis,
    redis2: redis.Redis,
    exchange: str,
    start_worker: WorkerFactory,
) -> None:
    start_worker("region1", redis_region1.port, exchange)
    start_worker("region2", redis_region2.port, exchange)
    # A third queue on the same exchange records exactly what the simulator sent.
    with _channel(rabbitmq_server) as channel:
        channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        observer = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(observer, exchange, routing_key="activity.#")
        rounds = 4
        result = subprocess.run(
            [sys.executable, "-m", "tier0_simulators.users"],
            env={
                **os.environ,
                "AMQP_URL": rabbitmq_server.url,
                "AMQP_EXCHANGE": exchange,
                "USER_SIM_ROUNDS": str(rounds),
                "USER_SIM_INTERVAL_SECONDS": "0.2",
                "USER_SIM_SEED": "11",
                "USER_SIM_MAX_LISTED_USERS": "20",
                "METRICS_PORT": "0",
            },
            capture_output=True,
            timeout=60,
            cwd=REPO,
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        assert f'"total_confirmed": {rounds * len(WEB_SITES)}' in result.stderr.decode()
        sent: list[dict[str, Any]] = []
        while (got := channel.basic_get(observer, auto_ack=True))[0] is not None:
            sent.append(orjson.loads(got[2]))

    assert len(sent) == rounds * len(WEB_SITES)
    last = {report["site_id"]: report for report in sent}
    assert set(last) == set(WEB_SITES)
    for client in (redis1, redis2):
        wait_for(
            lambda c=client: c.xlen(USERS_ACTIVITY) == len(sent),
            20,
            what="every report in users:activity",
        )
        for site_id, report in last.items():
            assert _stored_hash(client, site_id) == _expected_hash(report)
        stream_ids = [fields["message_id"] for _, fields in client.xrange(USERS_ACTIVITY)]
        assert stream_ids == [report["message_id"] for report in sent]
        assert float(client.hget(INGEST_LAST, "amqp") or 0) > 0
        assert client.xlen(DLQ_ACTIVITY) == 0
    assert _queue_counts(rabbitmq_server, f"{exchange}.region1") == (0, 1)
    assert _queue_counts(rabbitmq_server, f"{exchange}.region2") == (0, 1)


def test_malformed_messages_are_dead_lettered_while_good_ones_flow(
    rabbitmq_server: Endpoint,
    redis_region1: Endpoint,
    redis1: redis.Redis,
    exchange: str,
    start_worker: WorkerFactory,
) -> None:
    worker = start_worker("region1", redis_region1.port, exchange)
    sfo_old, nyc, sfo_new, _ = _reports(21, ("SFO-WEB-01", "NYC-WEB-01"), 2)
    wrong_type = {**sfo_old, "metrics": {**sfo_old["metrics"], "active_users": "many"}}
    missing = {key: value for key, value in nyc.items() if key != "metrics"}
    bad = {
        b'{"message_id": "MSG-1", "timestamp_utc": ': "bad_json",
        orjson.dumps(wrong_type): "schema",
        orjson.dumps(missing): "schema",
    }
    _publish(
        rabbitmq_server,
        exchange,
        [
            ("SFO-WEB-01", orjson.dumps(sfo_old)),
            *(("SFO-WEB-01", body) for body in bad),
            ("NYC-WEB-01", orjson.dumps(nyc)),
            ("SFO-WEB-01", orjson.dumps(sfo_new)),
        ],
    )

    wait_for(lambda: redis1.xlen(USERS_ACTIVITY) == 3, 20, what="the 3 good reports written")
    assert _stored_hash(redis1, "SFO-WEB-01") == _expected_hash(sfo_new)
    assert _stored_hash(redis1, "NYC-WEB-01") == _expected_hash(nyc)

    letters = [fields for _, fields in redis1.xrange(DLQ_ACTIVITY)]
    assert {letter["payload"].encode() for letter in letters} == set(bad)
    for letter in letters:
        assert letter["reason"].startswith(bad[letter["payload"].encode()] + ":")
        assert letter["where"] == "activity.SFO-WEB-01"

    dlq = f"{exchange}.region1.dlq"
    wait_for(lambda: _queue_counts(rabbitmq_server, dlq) == (3, 0), 10, what="3 in the DLQ")
    with _channel(rabbitmq_server) as channel:
        parked = [channel.basic_get(dlq, auto_ack=True) for _ in bad]
    assert {body for _, _, body in parked} == set(bad)
    for _, properties, _ in parked:
        assert properties.headers["x-death"][0]["reason"] == "rejected"
    assert _queue_counts(rabbitmq_server, f"{exchange}.region1") == (0, 1)
    assert worker.poll() is None

    sfo_after = {**sfo_new, "message_id": "MSG-AFTER-00001"}
    sfo_after["timestamp_utc"] = (
        datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
    _publish(rabbitmq_server, exchange, [("SFO-WEB-01", orjson.dumps(sfo_after))])
    wait_for(
        lambda: redis1.hget(users_site_key("SFO-WEB-01"), "message_id") == sfo_after["message_id"],
        10,
        what="a good report after the bad ones",
    )


OutageRedis = tuple[int, Callable[[], None], Callable[[], None]]


@pytest.fixture
def outage_redis(tier0_servers: ServerPool) -> Iterator[OutageRedis]:
    """A Redis of this test's own, which the test may stop and start again (same port)."""
    port = free_port()
    name = f"redis-amqp-outage-{port}"
    spec = infra.redis_specs(
        tier0_servers.run_dir, port, name=name, password=tier0_servers.creds.redis_password
    )[0]
    tier0_servers.supervisor.start(spec)

    def stop() -> None:
        tier0_servers.supervisor.stop(name)

    def start() -> None:
        tier0_servers.supervisor.start(spec)

    yield port, stop, start
    stop()


def test_redis_outage_keeps_messages_in_the_queue_until_redis_returns(
    rabbitmq_server: Endpoint,
    tier0_servers: ServerPool,
    outage_redis: OutageRedis,
    exchange: str,
    start_worker: WorkerFactory,
) -> None:
    port, stop_redis, start_redis = outage_redis
    metrics_port = free_port()
    start_worker("outage", port, exchange, METRICS_PORT=str(metrics_port))
    client = redis.Redis(
        host=infra.LOOPBACK,
        port=port,
        password=tier0_servers.creds.redis_password,
        decode_responses=True,
    )
    (warmup,) = _reports(31, ("LON-WEB-01",), 1)
    _publish(rabbitmq_server, exchange, [("LON-WEB-01", orjson.dumps(warmup))])
    wait_for(lambda: client.xlen(USERS_ACTIVITY) == 1, 10, what="the warm-up report")

    stop_redis()
    during = _reports(32, ("FRA-WEB-01", "SIN-WEB-01"), 6)
    _publish(rabbitmq_server, exchange, [(r["site_id"], orjson.dumps(r)) for r in during])
    wait_for(
        lambda: (
            _metric(metrics_port, "tier0_amqp_ingest_redis_errors_total") >= 1
            and _metric(metrics_port, "tier0_amqp_ingest_requeued_total") >= len(during)
        ),
        20,
        what="the worker failing to write and requeueing",
    )
    queue = f"{exchange}.outage"
    listed = tier0_servers.rabbitmq_node().ctl(
        "list_queues", "--quiet", "--no-table-headers", "name", "messages"
    )
    held = dict(line.split() for line in listed.stdout.splitlines() if line.strip())
    assert int(held[queue]) == len(during), listed.stdout
    assert _metric(metrics_port, "tier0_amqp_ingest_written_total") == 1

    start_redis()  # back with the warm-up report (AOF)
    wait_for(
        lambda: client.xlen(USERS_ACTIVITY) == 1 + len(during),
        30,
        what="every report written once Redis is back",
    )
    stream_ids = sorted(fields["message_id"] for _, fields in client.xrange(USERS_ACTIVITY))
    assert stream_ids == sorted(r["message_id"] for r in [warmup, *during])
    assert _stored_hash(client, "FRA-WEB-01") == _expected_hash(during[-2])
    assert _stored_hash(client, "SIN-WEB-01") == _expected_hash(during[-1])
    wait_for(
        lambda: _metric(metrics_port, "tier0_amqp_ingest_written_total") == 1 + len(during),
        10,
        what="the written counter to include the backlog",
    )
    assert _queue_counts(rabbitmq_server, queue) == (0, 1)
    client.close()
