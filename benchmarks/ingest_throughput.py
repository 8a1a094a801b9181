"""End-to-end MQTT ingest throughput, next to the C and paho baselines, in one run.

Why a script and not a test: the figures depend on the machine and its load; the
point is to print them side by side from one run so the ratios mean something.
It starts its own Mosquitto and Redis (tier0_devenv's specs, private ports and
folders) and measures, with the seed-shaped ~400-byte payloads of our fleet:

  ours   python -m tier0_simulators.iot -> Mosquitto -> python -m tier0_ingest.mqtt -> Redis
         (counted in Redis: every message in site:* msgs, every device in idx:dev).
         This is the figure the issue's targets are judged on. Readings at QoS 0
         (the default READING_QOS); the worker subscribes at QoS 1 as in production.
  ours, QoS 1   the same with READING_QOS=1: every message acked by the broker to the
                simulator and by the worker (after its Redis write) to the broker
  (a)    mosquitto_pub -l -> Mosquitto -> mosquitto_sub          (C on both ends)
  (b)    mosquitto_pub -l -> Mosquitto -> paho-mqtt 2.2 subscriber + orjson parse

and two views of our path that take the publisher's CPU out of it, for comparison
with (a), whose C publisher costs little (on 2 cores every process competes):

  ours, replay    the same fleet's frames pre-encoded into a file and written to the
                  broker in 1 MB chunks (mosquitto_pub cannot give each message its own
                  topic, and the worker refuses a topic that does not name the device)
  ours, backlog   the worker is paused (SIGSTOP) while the replay is published, then
                  resumed: the worker, broker delivery and Redis alone

A rate is messages over the time from the first to the last message received, and a
run counts only if nothing was lost. It also reports Redis used_memory per 100,000
devices and the worker's resident memory.

    .venv/bin/python -m benchmarks.ingest_throughput [--devices 100000 --rounds 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import orjson
import redis

from tests.support.servers import free_port
from tests.support.wait import wait_for
from tier0_common import mqtt_wire
from tier0_devenv import credentials, infra
from tier0_devenv.processes import ProcessSpec, Supervisor
from tier0_simulators.iot.fleet import Fleet

REPO = Path(__file__).resolve().parents[1]

PAHO_SUBSCRIBER = textwrap.dedent(
    """
    import sys, time, orjson
    import paho.mqtt.client as mqtt
    host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    state = {"n": 0, "first": 0.0, "last": 0.0}
    def on_message(client, userdata, message):
        orjson.loads(message.payload)
        state["n"] += 1
        now = time.perf_counter()
        if state["n"] == 1:
            state["first"] = now
        state["last"] = now
        if state["n"] >= total:
            client.disconnect()
    def on_connect(client, userdata, flags, reason, properties):
        client.subscribe("bench/#", qos=0)
    def on_subscribe(client, userdata, mid, reasons, properties):
        print("ready", flush=True)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-paho")
    client.on_message, client.on_connect, client.on_subscribe = on_message, on_connect, on_subscribe
    client.connect(host, port, keepalive=60)
    # Stop after 10 s without a message: a lost message must not hang the benchmark.
    while state["n"] < total:
        client.loop(timeout=0.5)
        if state["n"] and time.perf_counter() - state["last"] > 10:
            break
    print(state["n"], state["last"] - state["first"], flush=True)
    """
)


def mosquitto_unbounded(run: Path, port: int) -> list[ProcessSpec]:
    """tier0_devenv's broker, with no cap on a subscriber's queue: the devenv caps it at
    100,000 messages, which a slow baseline subscriber (paho) overruns within seconds
    of a C publisher, and a benchmark must measure throughput, not drops."""
    # The baselines' C tools and the replayed session connect without credentials; an
    # anonymous ACL keeps the broker's per-message ACL check as in `make up`.
    creds = credentials.load_or_create(run)
    specs = infra.mosquitto_specs(
        run, port, creds, name="mosquitto-bench", anonymous_acl=("topic readwrite #",)
    )
    conf = run / "mosquitto-bench" / "mosquitto.conf"
    original = specs[0].prepare

    def prepare() -> None:
        if original is not None:
            original()
        text = conf.read_text()
        conf.write_text(
            "\n".join(
                "max_queued_messages 0" if line.startswith("max_queued_messages") else line
                for line in text.splitlines()
            )
            + "\n"
        )

    return [dataclasses.replace(specs[0], prepare=prepare)]


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def write_payloads(path: Path, devices: int, rounds: int) -> int:
    """The fleet's payloads, one JSON per line, for the C and paho baselines."""
    fleet = Fleet(devices, 10, seed=273)
    count = 0
    with path.open("wb") as out:
        for number in range(rounds):
            fleet.advance(number)
            for _, payload in fleet.payloads(lambda: "2025-11-16T12:00:00.000Z"):
                out.write(orjson.dumps(payload) + b"\n")
                count += 1
    return count


def write_frames(path: Path, devices: int, rounds: int) -> int:
    """The fleet's messages as one MQTT session (CONNECT, PUBLISHes with each device's
    topic, DISCONNECT), ready to be written to the broker as they are."""
    fleet = Fleet(devices, 10, seed=273)
    count = 0
    with path.open("wb") as out:
        out.write(mqtt_wire.encode_connect(f"bench-replay-{uuid.uuid4().hex[:6]}"))
        for number in range(rounds):
            fleet.advance(number)
            stamp = f"2025-11-16T12:00:{number % 60:02d}.000Z"
            for topic, payload in fleet.payloads(lambda stamp=stamp: stamp):
                out.write(mqtt_wire.encode_publish(topic, orjson.dumps(payload)))
                count += 1
        out.write(mqtt_wire.DISCONNECT)
    return count


def replay(port: int, path: Path) -> None:
    """Write a pre-encoded session to the broker; returns once the broker closed it
    (after DISCONNECT), i.e. once it has routed every message."""
    with (
        socket.create_connection((infra.LOOPBACK, port), timeout=600) as sock,
        path.open("rb") as source,
    ):
        while chunk := source.read(1 << 20):
            sock.sendall(chunk)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(1 << 16):
            pass


def publish_file(port: int, path: Path) -> None:
    with path.open("rb") as source:
        subprocess.run(
            ["mosquitto_pub", "-h", infra.LOOPBACK, "-p", str(port), "-t", "bench/x", "-l"],
            stdin=source, check=True, timeout=600,
        )  # fmt: skip


def bench_c(port: int, path: Path, total: int) -> float:
    sub = subprocess.Popen(
        ["mosquitto_sub", "-h", infra.LOOPBACK, "-p", str(port), "-t", "bench/#", "-C", str(total),
         "-i", f"bench-c-{uuid.uuid4().hex[:6]}"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.5)  # mosquitto_sub prints nothing when subscribed; give it the time
    started = time.perf_counter()
    publish_file(port, path)
    try:
        code = sub.wait(timeout=120)
    except subprocess.TimeoutExpired:
        sub.kill()
        raise RuntimeError("mosquitto_sub did not receive every message") from None
    if code != 0:
        raise RuntimeError(f"mosquitto_sub failed with exit code {code}")
    return total / (time.perf_counter() - started)


def bench_paho(port: int, path: Path, total: int) -> float:
    sub = subprocess.Popen(
        [sys.executable, "-c", PAHO_SUBSCRIBER, infra.LOOPBACK, str(port), str(total)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert sub.stdout is not None
    if sub.stdout.readline().strip() != "ready":
        raise RuntimeError("paho subscriber did not start")
    publish_file(port, path)
    received, seconds = sub.stdout.readline().split()
    sub.wait(timeout=60)
    if int(received) != total:
        raise RuntimeError(f"paho subscriber got {received} of {total}")
    return total / float(seconds)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_cpu_seconds(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_ours(
    mqtt_port: int,
    redis_port: int,
    devices: int,
    rounds: int,
    run: Path,
    frames: Path | None = None,
    paused: bool = False,
    reading_qos: int = 0,
) -> dict[str, float]:
    """Our path into Redis. Publisher: the simulator, or ``frames`` replayed; ``paused``
    holds the worker stopped until the replay is in the broker."""
    client = redis.Redis(host=infra.LOOPBACK, port=redis_port, decode_responses=True)
    client.flushall()
    baseline_memory = int(client.info("memory")["used_memory"])
    log = (run / "ingest.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "tier0_ingest.mqtt"],
        env={**os.environ, "REGION": "bench", "REDIS_HOST": infra.LOOPBACK,
             "REDIS_PORT": str(redis_port), "MQTT_HOST": infra.LOOPBACK,
             "MQTT_PORT": str(mqtt_port), "METRICS_PORT": "0",
             # One stable id, as in production: every path resumes the same session
             # (a new id per path would leave the last one's session in the group).
             "MQTT_CLIENT_ID": "tier0-bench-worker"},
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
    )  # fmt: skip
    try:
        wait_for(lambda: b"mqtt_subscribed" in (run / "ingest.log").read_bytes(), 60,
                 what="ingest worker subscribed")  # fmt: skip
        total = devices * rounds
        worker_cpu = cpu_seconds(worker.pid)
        redis_cpu = redis_cpu_seconds(client)
        if frames is not None:
            if paused:
                worker.send_signal(signal.SIGSTOP)
            replay(mqtt_port, frames)
            if paused:
                worker.send_signal(signal.SIGCONT)
            sim = None
        else:
            sim = subprocess.Popen(
                [sys.executable, "-m", "tier0_simulators.iot", "--mqtt-port", str(mqtt_port),
                 "--devices", str(devices), "--rounds", str(rounds), "--interval", "0",
                 "--metrics-port", "0", "--progress-seconds", "5",
                 "--reading-qos", str(reading_qos)],
                cwd=REPO, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip

        def counted() -> int:
            return sum(int(client.hget(k, "msgs") or 0) for k in client.scan_iter("site:*"))

        first = wait_for(counted, 300, interval=0.02, what="first messages in Redis")
        started = time.perf_counter()
        last_report = started
        while (done := counted()) < total:
            now = time.perf_counter()
            if now - last_report >= 5:
                rate = (done - first) / (now - started)
                say(f"ours: {done:,}/{total:,} in Redis, {rate:,.0f} msg/s")
                last_report = now
            if sim is not None and sim.poll() not in (None, 0):
                raise RuntimeError(f"simulator failed: {sim.stderr.read() if sim.stderr else ''}")
            if now - started > 600:
                raise RuntimeError(f"only {done} of {total} messages reached Redis")
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        worker_cpu = cpu_seconds(worker.pid) - worker_cpu
        redis_cpu = redis_cpu_seconds(client) - redis_cpu
        simulator_rate = 0.0
        if sim is not None:
            sim_summary = sim.communicate(timeout=60)[1].strip().splitlines()[-1]
            sent = orjson.loads(sim_summary)
            if sent["sent"] != total or sent["lost"]:
                raise RuntimeError(f"simulator did not send everything: {sent}")
            simulator_rate = float(sent["rate_per_s"])
        indexed = int(client.ft("idx:dev").info()["num_docs"])
        if indexed != devices:
            raise RuntimeError(f"{indexed} devices indexed, expected {devices}")
        memory = int(client.info("memory")["used_memory"]) - baseline_memory
        return {
            "rate": (total - first) / seconds,
            "simulator_rate": simulator_rate,
            "worker_us_per_msg": worker_cpu / total * 1e6,
            "redis_us_per_msg": redis_cpu / total * 1e6,
            "redis_mb_per_100k": memory / 1e6 * 100_000 / devices,
            "worker_rss_mb": rss_mb(worker.pid),
        }
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(
        prog="python -m benchmarks.ingest_throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument("--devices", type=int, default=100_000, help="fleet size for our path")
    cli.add_argument("--rounds", type=int, default=2, help="rounds (messages = devices x rounds)")
    args = cli.parse_args(argv)
    for tool in ("mosquitto", "mosquitto_pub", "mosquitto_sub"):
        if shutil.which(tool) is None:
            sys.stderr.write(f"{tool} not found: run scripts/install.sh\n")
            return 2
    total = args.devices * args.rounds
    say(f"machine: {platform.node()} {os.cpu_count()} cores, load {load()}")
    with tempfile.TemporaryDirectory(prefix="tier0-bench-") as tmp:
        run = Path(tmp)
        supervisor = Supervisor(run)
        mqtt_port, redis_port = free_port(), free_port()
        specs = [
            *mosquitto_unbounded(run, mqtt_port),
            *infra.redis_specs(run, redis_port, name="redis-bench"),
        ]
        try:
            for spec in specs:
                supervisor.start(spec)
            say(f"writing {total:,} payloads")
            payloads = run / "payloads.jsonl"
            write_payloads(payloads, args.devices, args.rounds)
            say(f"(a) mosquitto_pub -> mosquitto_sub, {total:,} messages")
            c_rate = bench_c(mqtt_port, payloads, total)
            say(f"(a) {c_rate:,.0f} msg/s")
            say(f"(b) mosquitto_pub -> paho-mqtt + orjson, {total:,} messages")
            paho_rate = bench_paho(mqtt_port, payloads, total)
            say(f"(b) {paho_rate:,.0f} msg/s")
            say(f"ours: simulator -> ingest -> Redis, {args.devices:,} devices x {args.rounds}")
            ours = bench_ours(mqtt_port, redis_port, args.devices, args.rounds, run)
            say(f"ours: {ours['rate']:,.0f} msg/s")
            say("ours, readings at QoS 1")
            qos1 = bench_ours(mqtt_port, redis_port, args.devices, args.rounds, run, reading_qos=1)
            say(f"ours, QoS 1: {qos1['rate']:,.0f} msg/s")
            frames = run / "frames.bin"
            write_frames(frames, args.devices, args.rounds)
            say("ours, replay publisher")
            replayed = bench_ours(mqtt_port, redis_port, args.devices, args.rounds, run, frames)
            say(f"ours, replay: {replayed['rate']:,.0f} msg/s")
            say("ours, backlog (worker paused during the replay)")
            backlog = bench_ours(
                mqtt_port, redis_port, args.devices, args.rounds, run, frames, paused=True
            )
            say(f"ours, backlog: {backlog['rate']:,.0f} msg/s")
        finally:
            for spec in reversed(specs):
                supervisor.stop(spec.name)
    print(f"machine        {platform.node()}, {os.cpu_count()} cores, load at end {load()}")
    print(f"messages       {total:,} per path, zero loss checked on every path")
    print(f"(a) C -> C     {c_rate:>10,.0f} msg/s")
    print(f"(b) C -> paho  {paho_rate:>10,.0f} msg/s")
    print(
        f"ours (e2e)     {ours['rate']:>10,.0f} msg/s   "
        f"(simulator alone sent at {ours['simulator_rate']:,.0f} msg/s)"
    )
    print(
        f"ours, QoS 1    {qos1['rate']:>10,.0f} msg/s   "
        f"({qos1['rate'] / ours['rate']:.2f}x QoS 0; simulator alone {qos1['simulator_rate']:,.0f})"
    )
    print(f"ours / C       {ours['rate'] / c_rate:>10.2f}x   (target >= 0.8)")
    print(f"ours / paho    {ours['rate'] / paho_rate:>10.2f}x   (target >= 4)")
    for label, result in (("replay", replayed), ("backlog", backlog)):
        print(
            f"ours, {label:<8} {result['rate']:>8,.0f} msg/s   "
            f"({result['rate'] / c_rate:.2f}x C, {result['rate'] / paho_rate:.2f}x paho)"
        )
    print("CPU per message (worker / Redis), us:")
    rows = (("simulator", ours), ("QoS 1", qos1), ("replay", replayed), ("backlog", backlog))
    for label, result in rows:
        print(
            f"  {label:<10} {result['worker_us_per_msg']:>6.1f} / "
            f"{result['redis_us_per_msg']:>5.1f}"
        )
    memory = ours["redis_mb_per_100k"]
    print(f"redis memory   {memory:>10.1f} MB per 100,000 devices (target <= 100)")
    print(f"worker RSS     {ours['worker_rss_mb']:>10.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
