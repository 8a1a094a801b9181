"""Chaos with accounting: one fault per scenario on the local stack, every message counted.

Why a script and not a test: a scenario takes a minute, its figures depend on the
machine, and the point is a table (docs/RELIABILITY.md), not a pass/fail.

It starts the local stack as `make up` does (tier0_devenv: Mosquitto, RabbitMQ, both
regions' Redis, ingest workers and APIs, and the watcher that restarts what crashes)
in a private run folder on free ports, then per scenario:

- load: two IoT simulator shards (`python -m tier0_simulators.iot --record`), one with
  every reading at QoS 1 and one at QoS 0, each device publishing once, so a message is
  stored exactly when its device's hash in a region carries its timestamp; the user
  activity simulator on RabbitMQ; GET /api/devices/active on both regions' APIs;
- fault: injected FAULT_AT seconds in (kill -9, a stop and start, a flood, a full
  Redis); the watcher restarts killed processes with its back-off, as in `make up`;
- accounting per region: published (the simulators' records), stored, lost, and
  duplicated (site message counters beyond what was published: messages written
  twice, e.g. resent after a restart); recovery is the time from the fault to the
  region's first write after it (`ingest:last`), or for an API kill to its first
  answer; for AMQP, published (publisher confirms) against written (the workers'
  counters, summed over restarts) and what is left in the queue.

    .venv/bin/python -m benchmarks.chaos [--devices 20000 --rate 1000 --fault-at 8]
    .venv/bin/python -m benchmarks.chaos --scenarios kill-mqtt-worker,restart-redis

Scenarios that need the Kubernetes control plane (kill the operator mid-failover) are
listed as not run here. Prints a markdown table and writes JSON next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis
from prometheus_client.parser import text_string_to_metric_families

from tests.support.redis_data import device_mapping
from tests.support.servers import free_ports
from tests.support.wait import wait_for
from tier0_common import mqtt_wire
from tier0_common.keys import INGEST_LAST, device_key
from tier0_common.schema import Telemetry
from tier0_devenv import stack
from tier0_devenv.processes import Supervisor
from tier0_devenv.settings import DevenvSettings

REPO = Path(__file__).resolve().parents[1]
REGIONS = ("region1", "region2")
COMPONENTS = (
    "mosquitto,rabbitmq,redis-region1,redis-region2,ingest-mqtt-region1,ingest-mqtt-region2,"
    "ingest-amqp-region1,ingest-amqp-region2,api-region1,api-region2,watch"
)
PORT_SETTINGS = (
    "MQTT_PORT", "AMQP_PORT", "AMQP_DIST_PORT", "EPMD_PORT", "REDIS1_PORT", "REDIS2_PORT",
    "API1_PORT", "API2_PORT", "MQTT_INGEST1_METRICS_PORT", "MQTT_INGEST2_METRICS_PORT",
    "AMQP_INGEST1_METRICS_PORT", "AMQP_INGEST2_METRICS_PORT", "IOT_SIM_METRICS_PORT",
    "USERS_SIM_METRICS_PORT", "DASHBOARD_PORT", "OPERATOR_METRICS_PORT", "OPERATOR_HEALTH_PORT",
)  # fmt: skip


def say(line: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


@dataclass
class Stack:
    settings: DevenvSettings
    supervisor: Supervisor
    redis: dict[str, redis.Redis]

    def spec(self, name: str) -> Any:
        for component in stack.selected_components(self.settings):
            if component.step is None:
                for spec in component.build(self.settings):
                    if spec.name == name:
                        return spec
        raise KeyError(name)

    def kill(self, name: str) -> None:
        pid = self.supervisor.owned_pid(name)
        if pid is None:
            raise RuntimeError(f"{name} is not running")
        os.kill(pid, signal.SIGKILL)

    def restart(self, name: str) -> None:
        self.supervisor.stop(name)
        self.supervisor.start(self.spec(name))

    def api(self, region: str) -> str:
        port = self.settings.api1_port if region == "region1" else self.settings.api2_port
        return f"http://127.0.0.1:{port}"

    def amqp_metrics(self, region: str) -> str:
        s = self.settings
        port = s.amqp_ingest1_metrics_port if region == "region1" else s.amqp_ingest2_metrics_port
        return f"http://127.0.0.1:{port}/metrics"


@dataclass
class Scenario:
    name: str
    fault: str
    inject: Callable[[Stack], None]
    #: Regions whose ingest the fault hits (recovery is measured there).
    affected: tuple[str, ...] = ("region1",)
    #: Undo after the window (e.g. give Redis its memory back).
    undo: Callable[[Stack], None] | None = None
    api_fault: bool = False


def metric_total(url: str, name: str) -> float:
    text = httpx.get(url, timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


class AmqpCounter:
    """The AMQP workers' written counters, summed across restarts (a restarted worker
    starts from 0: the last value seen before it dropped is kept)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.banked = 0.0
        self.last = 0.0

    def poll(self) -> None:
        try:
            value = metric_total(self.url, "tier0_amqp_ingest_written_total")
        except (httpx.HTTPError, OSError):
            return
        if value < self.last:
            self.banked += self.last
        self.last = value

    @property
    def total(self) -> float:
        return self.banked + self.last


class Watch(threading.Thread):
    """Polls each region's ingest:last and each API while the scenario runs."""

    def __init__(self, st: Stack, amqp: dict[str, AmqpCounter]) -> None:
        super().__init__(daemon=True)
        self.st = st
        self.amqp = amqp
        self.stop = threading.Event()
        self.writes: dict[str, list[float]] = {r: [] for r in REGIONS}
        self.api_ok: dict[str, list[float]] = {r: [] for r in REGIONS}
        self.api_errors: dict[str, int] = {r: 0 for r in REGIONS}
        self.api_latency: dict[str, list[float]] = {r: [] for r in REGIONS}

    def run(self) -> None:
        client = httpx.Client(timeout=2)
        tick = 0
        while not self.stop.is_set():
            for region in REGIONS:
                try:
                    last = self.st.redis[region].hget(INGEST_LAST, "mqtt")
                    if last and (not self.writes[region] or float(last) != self.writes[region][-1]):
                        self.writes[region].append(float(last))
                except redis.RedisError:
                    pass
                started = time.time()
                try:
                    response = client.get(f"{self.st.api(region)}/api/devices/active")
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.api_ok[region].append(started)
                    self.api_latency[region].append(time.time() - started)
                else:
                    self.api_errors[region] += 1
            tick += 1
            if tick % 5 == 0:
                for counter in self.amqp.values():
                    counter.poll()
            self.stop.wait(0.1)
        client.close()


def sim_env(st: Stack) -> dict[str, str]:
    return {**os.environ, **stack.mqtt_env(st.settings, "simulator")}


def start_iot(st: Stack, record: Path, shard: int, devices: int, rate: float, seed: int,
              qos: int) -> subprocess.Popen[bytes]:  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "tier0_simulators.iot", "--devices", str(devices * 2),
         "--shard-count", "2", "--shard-index", str(shard), "--rounds", "1", "--interval", "0",
         "--max-rate", str(rate), "--seed", str(seed), "--reading-qos", str(qos),
         "--metrics-port", "0", "--record", str(record)],
        cwd=REPO, env=sim_env(st), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def start_users(st: Stack, seed: int, rounds: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AMQP_URL": stack._amqp_url(st.settings, "simulator"),  # noqa: SLF001
        "USER_SIM_INTERVAL_SECONDS": "0.5",
        "USER_SIM_ROUNDS": str(rounds),
        "USER_SIM_SEED": str(seed),
        "METRICS_PORT": "0",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tier0_simulators.users"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def last_json_line(stderr: bytes, event: str) -> dict[str, Any]:
    for line in reversed(stderr.splitlines()):
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if data.get("event") == event:
            return dict(data)
    return {}


def stored_of(client: redis.Redis, record: Path) -> tuple[int, int]:
    """(published, stored): records whose device hash carries the record's timestamp."""
    sent = [orjson.loads(line) for line in record.read_bytes().splitlines()]
    pipe = client.pipeline(transaction=False)
    for payload in sent:
        pipe.hget(device_key(payload["device_id"]), "ts")
    stored = 0
    for payload, ts in zip(sent, pipe.execute(), strict=True):
        if ts == device_mapping(Telemetry.model_validate(payload), 0.0)["ts"]:
            stored += 1
    return len(sent), stored


def site_messages(client: redis.Redis) -> int:
    return sum(int(client.hget(key, "msgs") or 0) for key in client.scan_iter("site:*"))


def raw_mqtt(st: Stack) -> socket.socket:
    cred = stack.creds(st.settings).mqtt["simulator"]
    sock = socket.create_connection(("127.0.0.1", st.settings.mqtt_port), timeout=10)
    sock.sendall(mqtt_wire.encode_connect(f"chaos-{os.getpid()}-{time.time_ns()}",
                                          username=cred.username, password=cred.password))  # fmt: skip
    if sock.recv(4)[:1] != b"\x20":
        raise RuntimeError("no CONNACK for the flooding device")
    return sock


def flood(st: Stack) -> None:
    """One device: 20 messages of 2 MB, 2,000 malformed JSON payloads, then 50
    connections that each send a malformed MQTT packet (the broker drops those)."""
    topic = b"og/field/WY-ALPHA/turbine/TURB-99999"
    sock = raw_mqtt(st)
    big = b'{"blob": "' + b"x" * 2_000_000 + b'"}'
    for _ in range(20):
        sock.sendall(mqtt_wire.encode_publish(topic, big))
    sock.sendall(b"".join(mqtt_wire.encode_publish(topic, b"{not json") for _ in range(2000)))
    sock.sendall(mqtt_wire.DISCONNECT)
    sock.close()
    for _ in range(50):
        bad = raw_mqtt(st)
        bad.sendall(b"\x30\x05\x00\x09og/")
        bad.close()


def fill_redis(st: Stack) -> None:
    """Region1's Redis at its maxmemory (noeviction): writes are refused with OOM."""
    client = st.redis["region1"]
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", str(used + 8_000_000))
    blob = "x" * 100_000
    for i in range(1000):
        try:
            client.set(f"chaos:fill:{i}", blob)
        except redis.ResponseError:
            return


def empty_redis(st: Stack) -> None:
    client = st.redis["region1"]
    keys = list(client.scan_iter("chaos:fill:*", count=1000))
    if keys:
        client.delete(*keys)
    client.config_set("maxmemory", "0")


SCENARIOS = [
    Scenario("kill-mqtt-worker", "kill -9 ingest-mqtt-region1 (the watcher restarts it)",
             lambda st: st.kill("ingest-mqtt-region1")),
    Scenario("kill-amqp-worker", "kill -9 ingest-amqp-region1 (the watcher restarts it)",
             lambda st: st.kill("ingest-amqp-region1"), affected=()),
    Scenario("restart-mosquitto", "Mosquitto stopped (SIGTERM) and started again",
             lambda st: st.restart("mosquitto"), affected=REGIONS),
    Scenario("restart-rabbitmq", "RabbitMQ stopped (SIGTERM) and started again",
             lambda st: st.restart("rabbitmq"), affected=()),
    Scenario("restart-redis", "redis-region1 stopped (SIGTERM) and started again (AOF)",
             lambda st: st.restart("redis-region1")),
    Scenario("kill-api", "kill -9 api-region1 under load (the watcher restarts it)",
             lambda st: st.kill("api-region1"), api_fault=True),
    Scenario("flood", "one device: 20 x 2 MB, 2,000 bad JSON, 50 malformed MQTT packets",
             flood, affected=REGIONS),
    Scenario("redis-maxmemory", "redis-region1 filled to maxmemory (noeviction) for 10 s",
             fill_redis, undo=empty_redis),
]  # fmt: skip
NOT_RUN = [
    ("kill-operator", "kill the operator mid-failover",
     "needs the Kubernetes control plane; not part of this script's stack"),
]  # fmt: skip


def run_scenario(st: Stack, sc: Scenario, args: argparse.Namespace, seed: int,
                 work: Path) -> dict[str, Any]:  # fmt: skip
    amqp = {r: AmqpCounter(st.amqp_metrics(r)) for r in REGIONS}
    for counter in amqp.values():
        counter.poll()
    amqp_before = {r: amqp[r].total for r in REGIONS}
    msgs_before = {r: site_messages(st.redis[r]) for r in REGIONS}
    watch = Watch(st, amqp)
    watch.start()
    records = [work / f"{sc.name}-qos1.jsonl", work / f"{sc.name}-qos0.jsonl"]
    sims = [
        start_iot(st, records[0], 0, args.devices, args.rate / 2, seed, 1),
        start_iot(st, records[1], 1, args.devices, args.rate / 2, seed, 0),
    ]
    rounds = int(args.devices / (args.rate / 2) / 0.5)
    users = start_users(st, seed, rounds)
    time.sleep(args.fault_at)
    say(f"{sc.name}: {sc.fault}")
    fault_at = time.time()
    sc.inject(st)
    injected = time.time()
    if sc.undo is not None:
        time.sleep(10)
        sc.undo(st)
    outputs = [sim.communicate(timeout=600)[1] for sim in sims]
    users_err = users.communicate(timeout=600)[1]
    # Drain: wait until both regions stop gaining messages for 5 s (or 120 s pass).
    deadline = time.time() + 120
    last, still = None, 0.0
    while time.time() < deadline:
        now = tuple(site_messages(st.redis[r]) for r in REGIONS)
        if now == last:
            if time.time() - still >= 5:
                break
        else:
            last, still = now, time.time()
        time.sleep(0.5)
    for counter in amqp.values():
        counter.poll()
    watch.stop.set()
    watch.join()
    summaries = [last_json_line(out, "simulator_finished") for out in outputs]
    confirmed = int(last_json_line(users_err, "usersim_stopped").get("confirmed", 0))
    result: dict[str, Any] = {
        "scenario": sc.name,
        "fault": sc.fault,
        "fault_seconds": round(injected - fault_at, 2),
        "published": {"qos1": 0, "qos0": 0},
        "sim_lost_qos0": sum(int(s.get("lost", 0)) for s in summaries),
        "sim_resent": sum(int(s.get("resent", 0)) for s in summaries),
        "regions": {},
        "amqp_published": confirmed,
    }
    for region in REGIONS:
        client = st.redis[region]
        pub1, stored1 = stored_of(client, records[0])
        pub0, stored0 = stored_of(client, records[1])
        result["published"] = {"qos1": pub1, "qos0": pub0}
        counted = site_messages(client) - msgs_before[region]
        after = [t for t in watch.writes[region] if t > fault_at + 0.05]
        recovery = None
        if sc.api_fault and region == "region1":
            answers = [t for t in watch.api_ok[region] if t > injected]
            recovery = answers[0] - fault_at if answers else None
        elif region in sc.affected and after:
            recovery = after[0] - fault_at
        latency = sorted(watch.api_latency[region])
        result["regions"][region] = {
            "stored_qos1": stored1,
            "stored_qos0": stored0,
            "lost_qos1": pub1 - stored1,
            "lost_qos0": pub0 - stored0,
            "duplicated": max(0, counted - (stored1 + stored0)),
            "recovery_s": None if recovery is None else round(recovery, 2),
            "amqp_written": int(amqp[region].total - amqp_before[region]),
            "api_errors": watch.api_errors[region],
            "api_p99_ms": round(latency[int(len(latency) * 0.99) - 1] * 1000, 1)
            if latency
            else None,
        }
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| scenario | fault | published QoS 1 / QoS 0 | stored region1 (QoS 1 / 0) | stored region2 (QoS 1 / 0) "
        "| lost QoS 1 (r1/r2) | lost QoS 0 (r1/r2) | duplicated (r1/r2) | recovery | AMQP published / written r1 / r2 "
        "| API errors r1/r2 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        g1, g2 = r["regions"]["region1"], r["regions"]["region2"]
        rec = (
            ", ".join(
                f"{name} {reg['recovery_s']} s"
                for name, reg in r["regions"].items()
                if reg["recovery_s"] is not None
            )
            or "-"
        )
        lines.append(
            f"| {r['scenario']} | {r['fault']} | {r['published']['qos1']:,} / {r['published']['qos0']:,} "
            f"| {g1['stored_qos1']:,} / {g1['stored_qos0']:,} | {g2['stored_qos1']:,} / {g2['stored_qos0']:,} "
            f"| {g1['lost_qos1']} / {g2['lost_qos1']} | {g1['lost_qos0']} / {g2['lost_qos0']} "
            f"| {g1['duplicated']} / {g2['duplicated']} | {rec} "
            f"| {r['amqp_published']:,} / {g1['amqp_written']:,} / {g2['amqp_written']:,} "
            f"| {g1['api_errors']} / {g2['api_errors']} |"
        )
    for name, fault, why in NOT_RUN:
        lines.append(f"| {name} | {fault} | not run: {why} |||||||||")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(
        prog="python -m benchmarks.chaos", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    cli.add_argument("--devices", type=int, default=20_000, help="devices per shard (2 shards)")
    cli.add_argument("--rate", type=float, default=1000.0, help="messages/s of both shards")
    cli.add_argument("--fault-at", type=float, default=8.0, help="seconds into the load")
    cli.add_argument("--scenarios", default="", help="comma-separated names (default: all)")
    cli.add_argument("--out", type=Path, default=None, help="JSON results (default: tmp)")
    args = cli.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.scenarios or s.name in args.scenarios.split(",")]
    work = Path(tempfile.mkdtemp(prefix="tier0-chaos-"))
    ports = free_ports(len(PORT_SETTINGS))
    os.environ.update(
        {f"TIER0_{name}": str(port) for name, port in zip(PORT_SETTINGS, ports, strict=True)}
    )
    os.environ.update({
        "TIER0_RUN_DIR": str(work / "run"), "TIER0_COMPONENTS": COMPONENTS, "TIER0_SKIP_K8S": "1",
    })  # fmt: skip
    settings = DevenvSettings()
    say(f"stack in {work} on {platform.node()}, {os.cpu_count()} cores")
    results: list[dict[str, Any]] = []
    try:
        for row in stack.up(settings, lambda line: None):
            say(f"up: {row.name} {row.status}")
        password = stack.redis_password(settings)
        st = Stack(
            settings,
            Supervisor(settings.run_dir),
            {
                "region1": redis.Redis(port=settings.redis1_port, password=password, decode_responses=True),
                "region2": redis.Redis(port=settings.redis2_port, password=password, decode_responses=True),
            },
        )  # fmt: skip
        for index, sc in enumerate(chosen):
            wait_for(lambda: all(st.supervisor.owned_pid(s.name) for s in stack.watched_specs(settings)),
                     120, what="every component up before the next scenario")  # fmt: skip
            result = run_scenario(st, sc, args, 1000 + index, work)
            say(json.dumps(result))
            results.append(result)
    finally:
        stack.down(settings, lambda line: None)
    out = args.out or work / "chaos.json"
    out.write_text(json.dumps({"machine": platform.node(), "cores": os.cpu_count(),
                               "args": {k: str(v) for k, v in vars(args).items()},
                               "results": results}, indent=2))  # fmt: skip
    print(f"machine {platform.node()}, {os.cpu_count()} cores; load at end {os.getloadavg()}")
    print(f"load: {args.devices:,} devices per shard x 2 shards at {args.rate:g} msg/s in all, "
          f"fault at {args.fault_at:g} s; results {out}")  # fmt: skip
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
