"""``python -m tier0_simulators.iot``: publish the fleet's telemetry in rounds.

A round publishes every device of this process's shard once; rounds start every
PUBLISH_INTERVAL_SECONDS (back to back if a round takes longer, which the progress
line shows as a rate below the fleet size per interval). ``--rounds N`` publishes N
rounds, flushes the socket through an MQTT DISCONNECT and exits: what tests and the
benchmark use to know exactly what was sent.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any

import orjson
from prometheus_client import Counter, Gauge, start_http_server
from pydantic import ValidationError

from tier0_common import mqtt_wire
from tier0_common.logs import configure_logging

from .fleet import Fleet, Shard
from .publisher import BrokerUnavailable, Publisher
from .settings import IotSimulatorSettings

SENT = Counter("tier0_sim_iot_messages_sent_total", "Telemetry messages written to the broker")
LOST = Counter(
    "tier0_sim_iot_messages_lost_total", "Messages dropped because the broker was unreachable"
)
ROUNDS = Counter("tier0_sim_iot_rounds_total", "Completed publish rounds")
RATE = Gauge("tier0_sim_iot_rate_messages_per_second", "Send rate over the last progress interval")
DEVICES = Gauge("tier0_sim_iot_devices", "Devices of the whole fleet per state", ["state"])
ROUND_SECONDS = Gauge("tier0_sim_iot_round_seconds", "Duration of the last round")

#: Flag -> settings field. Every flag defaults to the environment (then the default).
FLAGS: dict[str, tuple[str, type, str]] = {
    "--mqtt-host": ("mqtt_host", str, "MQTT_HOST"),
    "--mqtt-port": ("mqtt_port", int, "MQTT_PORT"),
    "--devices": ("num_devices", int, "NUM_DEVICES"),
    "--sites": ("num_sites", int, "NUM_SITES"),
    "--interval": ("publish_interval_seconds", float, "PUBLISH_INTERVAL_SECONDS"),
    "--duration": ("duration_seconds", float, "DURATION_SECONDS"),
    "--rounds": ("rounds", int, "ROUNDS"),
    "--max-rate": ("max_rate", float, "MAX_RATE"),
    "--seed": ("seed", int, "SEED"),
    "--fault-rate": ("fault_rate", float, "FAULT_RATE"),
    "--shard-index": ("shard_index", int, "SHARD_INDEX"),
    "--shard-count": ("shard_count", int, "SHARD_COUNT"),
    "--metrics-port": ("metrics_port", int, "METRICS_PORT"),
    "--progress-seconds": ("progress_seconds", float, "PROGRESS_SECONDS"),
    "--record": ("record", Path, "RECORD"),
    "--reading-qos": ("reading_qos", int, "READING_QOS"),
    "--log-level": ("log_level", str, "LOG_LEVEL"),
}


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m tier0_simulators.iot",
        description=(
            "Simulate the IoT fleet: NUM_DEVICES devices (a quarter each of turbines, "
            "thermal engines, electrical rotors, oil & gas sensors) over NUM_SITES sites "
            "publish the seed's telemetry JSON on og/field/{site}/{type}/{device} (QoS 1 "
            "for alerts and state changes, READING_QOS for the rest), "
            "one round every PUBLISH_INTERVAL_SECONDS. Metrics drift; now and then a device "
            "faults into WARN or ALERT (with a matching code and message) and recovers. "
            "Same --seed, same readings; --shard-index/--shard-count split the fleet "
            "between processes (Kubernetes Job pods). Stops after --rounds rounds or "
            "--duration seconds, whichever comes first, or on SIGTERM."
        ),
        epilog="Each flag overrides the environment variable named in its help; "
        "progress goes to stderr as JSON lines, with a final summary (sent, rate).",
    )
    for flag, (field, kind, env) in FLAGS.items():
        info = IotSimulatorSettings.model_fields[field]
        cli.add_argument(
            flag,
            dest=field,
            type=kind,
            default=None,
            metavar=env,
            help=f"{info.description} (env {env}; default {info.default})",
        )
    return cli


class Clock:
    """``timestamp_utc`` strings, millisecond resolution, strictly later each round.

    Strictly increasing per device lets a reader order two readings of one device by
    timestamp even when rounds run back to back faster than a millisecond.
    """

    def __init__(self) -> None:
        self._last_ms = 0
        self._floor_ms = 0
        self._text = ""

    def new_round(self) -> None:
        self._floor_ms = self._last_ms + 1

    def __call__(self) -> str:
        now_ms = max(int(time.time() * 1000), self._floor_ms)
        if now_ms != self._last_ms or not self._text:
            self._last_ms = now_ms
            moment = datetime.fromtimestamp(now_ms // 1000, UTC)
            self._text = f"{moment:%Y-%m-%dT%H:%M:%S}.{now_ms % 1000:03d}Z"
        return self._text


class Simulator:
    def __init__(self, settings: IotSimulatorSettings, log: Any) -> None:
        self.settings = settings
        self.log = log
        shard = Shard(settings.shard_index, settings.shard_count)
        self.fleet = Fleet(
            settings.num_devices, settings.num_sites, settings.seed, shard, settings.fault_rate
        )
        self.publisher = Publisher(
            settings.mqtt_host,
            settings.mqtt_port,
            f"tier0-sim-iot-{settings.shard_index}-{os.getpid()}",
            max_rate=settings.max_rate,
            username=settings.mqtt_username,
            password=settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
        )
        self.stopping = threading.Event()
        self.lost = 0
        self.rounds = 0
        self.qos1 = 0
        #: Devices whose last reading was not OK (their next one is QoS 1 whatever it says).
        self._not_ok: set[str] = set()
        self._next_connect = 0.0
        self._backoff = 0.2
        self._started = 0.0
        self._progress_due = 0.0
        self._progress_sent = 0
        self._progress_at = 0.0

    def _ensure_connected(self) -> bool:
        if self.publisher.connected:
            return True
        now = time.monotonic()
        if now < self._next_connect:
            return False
        try:
            self.publisher.connect()
        except BrokerUnavailable as exc:
            self._next_connect = now + self._backoff
            self.log.warning("mqtt_unavailable", error=str(exc), retry_in=round(self._backoff, 2))
            self._backoff = min(self._backoff * 2, 10.0)
            return False
        self._backoff = 0.2
        self.log.info("mqtt_connected", broker=f"{self.publisher.host}:{self.publisher.port}")
        return True

    def _await_connection(self) -> bool:
        """Retry (with the back-off) until connected; False if asked to stop first."""
        while not self.stopping.is_set():
            if self._ensure_connected():
                return True
            self.stopping.wait(0.05)
        return False

    def _lose(self, exc: BrokerUnavailable) -> None:
        self.lost += exc.lost
        LOST.inc(exc.lost)
        self.log.warning("mqtt_send_failed", error=str(exc), lost=exc.lost)
        self._next_connect = time.monotonic() + self._backoff

    def run(self) -> dict[str, Any]:
        settings = self.settings
        record: IO[bytes] | None = settings.record.open("wb") if settings.record else None
        clock = Clock()
        publish = self.publisher.publish
        publish_qos1 = self.publisher.publish_qos1
        all_qos1 = settings.reading_qos == 1
        not_ok = self._not_ok
        prefix = mqtt_wire.publish_prefix
        dumps = orjson.dumps
        self._started = self._progress_at = time.monotonic()
        self._progress_due = self._started + settings.progress_seconds
        deadline = self._started + settings.duration_seconds if settings.duration_seconds else None
        while self._ensure_connected() is False and not self.stopping.is_set():
            self.stopping.wait(0.1)
        try:
            while not self.stopping.is_set():
                if settings.rounds and self.rounds >= settings.rounds:
                    break
                round_started = time.monotonic()
                if deadline is not None and round_started >= deadline:
                    break
                self.fleet.advance(self.rounds)
                clock.new_round()
                self.publisher.reset_pace()
                for position, (topic, payload) in enumerate(self.fleet.payloads(clock)):
                    body = dumps(payload)
                    if record is not None:
                        record.write(body + b"\n")
                    device_id = payload["device_id"]
                    alert = payload["status"]["state"] != "OK"
                    qos1 = all_qos1 or alert or device_id in not_ok
                    if alert:
                        not_ok.add(device_id)
                    else:
                        not_ok.discard(device_id)
                    if not self.publisher.connected and not self._ensure_connected():
                        # A QoS 1 message waits for the broker, as a device would
                        # keep it; a QoS 0 one is lost.
                        if not (qos1 and self._await_connection()):
                            self.lost += 1
                            LOST.inc()
                            continue
                    try:
                        if qos1:
                            self.qos1 += 1
                            publish_qos1(topic, body)
                        else:
                            publish(prefix(topic, len(body)) + body)
                    except BrokerUnavailable as exc:
                        self._lose(exc)
                    if position & 1023 == 0:
                        self._progress()
                        if self.stopping.is_set() or (deadline and time.monotonic() >= deadline):
                            break
                try:
                    self.publisher.flush()
                except BrokerUnavailable as exc:
                    self._lose(exc)
                self.rounds += 1
                ROUNDS.inc()
                ROUND_SECONDS.set(time.monotonic() - round_started)
                for state, count in self.fleet.state_counts().items():
                    DEVICES.labels(state=state).set(count)
                if settings.rounds and self.rounds >= settings.rounds:
                    break
                self._wait_next_round(round_started + settings.publish_interval_seconds)
        finally:
            try:
                self.publisher.close()
            except BrokerUnavailable as exc:
                self._lose(exc)
            unacked = self.publisher.give_up()
            if unacked:
                self.lost += unacked
                LOST.inc(unacked)
                self.log.warning("qos1_unacked_at_exit", lost=unacked)
            if record is not None:
                record.close()
        self._progress(force=True)
        elapsed = time.monotonic() - self._started
        sent = self.publisher.sent
        return {
            "sent": sent,
            "lost": self.lost,
            "qos1": self.qos1,
            "resent": self.publisher.resent,
            "rounds": self.rounds,
            "devices": len(self.fleet),
            "seconds": round(elapsed, 3),
            "rate_per_s": round(sent / elapsed, 1) if elapsed > 0 else 0.0,
        }

    def _wait_next_round(self, start_at: float) -> None:
        while not self.stopping.is_set():
            remaining = start_at - time.monotonic()
            if remaining <= 0:
                return
            try:
                self.publisher.idle(min(remaining, 1.0))
            except BrokerUnavailable as exc:
                self._lose(exc)
                self.stopping.wait(min(remaining, 0.2))
            self._progress()

    def _progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._progress_due:
            return
        sent = self.publisher.sent
        rate = (sent - self._progress_sent) / max(now - self._progress_at, 1e-9)
        SENT.inc(sent - self._progress_sent)
        RATE.set(rate)
        self._progress_sent, self._progress_at = sent, now
        self._progress_due = now + self.settings.progress_seconds
        if not force:
            self.log.info(
                "progress", sent=sent, rate_per_s=round(rate, 1), round=self.rounds, lost=self.lost
            )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    overrides = {name: value for name, value in vars(args).items() if value is not None}
    try:
        settings = IotSimulatorSettings(**overrides)
    except ValidationError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    log = configure_logging("sim-iot", settings.log_level)
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
    simulator = Simulator(settings, log)

    def _stop(signum: int, frame: FrameType | None) -> None:
        simulator.stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info(
        "simulator_started",
        devices=len(simulator.fleet),
        fleet=settings.num_devices,
        shard=f"{settings.shard_index}/{settings.shard_count}",
        interval=settings.publish_interval_seconds,
        rounds=settings.rounds,
        max_rate=settings.max_rate,
        seed=settings.seed,
        fault_rate=settings.fault_rate,
        reading_qos=settings.reading_qos,
    )
    summary = simulator.run()
    log.info("simulator_finished", **summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
