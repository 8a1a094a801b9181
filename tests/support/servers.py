"""Real servers for the test suite, started on free ports in a private run folder.

The start logic is tier0_devenv's (the same specs `make up` uses), so a server that
works in tests works locally and the other way round. Servers start lazily, the
first time a test asks for one, and stop when the session ends.
"""

from __future__ import annotations

import json
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pika
import redis

from tier0_devenv import credentials, infra
from tier0_devenv.credentials import AmqpPermission, Credential, StackCredentials
from tier0_devenv.processes import (
    ProcessSpec,
    Supervisor,
    process_alive,
    process_start_ticks,
)

Kind = Literal["mqtt", "amqp", "redis"]
#: The suite's own RabbitMQ user: it declares and deletes test queues and exchanges of
#: any name, which no component may. Components' tests use the component roles.
HARNESS = "harness"
HARNESS_AMQP = {HARNESS: AmqpPermission(".*", ".*", ".*")}
#: Marks a run folder with the pytest process that owns its servers.
OWNER_FILE = "owner.json"


@dataclass(frozen=True)
class Endpoint:
    """Where a test server listens and the credentials its clients use (the servers run
    with authentication on, as in `make up`). ``url`` is the form each client library
    takes; an AMQP URL carries the suite's own user."""

    host: str
    port: int
    kind: Kind = "redis"
    creds: StackCredentials | None = field(default=None, repr=False, compare=False)

    @property
    def url(self) -> str:
        if self.kind == "mqtt":
            return f"mqtt://{self.host}:{self.port}"
        if self.kind == "amqp":
            return self.amqp_url(HARNESS) if self.creds else f"amqp://{self.host}:{self.port}/%2F"
        return f"redis://{self.host}:{self.port}/0"

    def _creds(self) -> StackCredentials:
        if self.creds is None:
            raise RuntimeError(f"{self} has no credentials")
        return self.creds

    @property
    def password(self) -> str:
        """Redis' password."""
        return self._creds().redis_password

    def amqp_url(self, role: str) -> str:
        return self._creds().amqp_url(role, self.host, self.port)

    def mqtt_user(self, role: str) -> Credential:
        return self._creds().mqtt[role]

    def redis_env(self) -> dict[str, str]:
        """REDIS_* as every tier0 component reads them."""
        return {
            "REDIS_HOST": self.host,
            "REDIS_PORT": str(self.port),
            "REDIS_PASSWORD": self.password,
        }

    def mqtt_env(self, role: str) -> dict[str, str]:
        """MQTT_* of a component acting as ``role`` (credentials.MQTT_ACL)."""
        user = self.mqtt_user(role)
        return {
            "MQTT_HOST": self.host,
            "MQTT_PORT": str(self.port),
            "MQTT_USERNAME": user.username,
            "MQTT_PASSWORD": user.password,
        }

    def redis_client(self, **options: Any) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, password=self.password, **options)


#: Where test servers get their ports: below the kernel's ephemeral range (32768-60999
#: by default), because a port the kernel hands out for bind(0) can be taken by any
#: outgoing connection before the server binds it (seen as "Address already in use"
#: on busy runs); above the real node's fixed ports (11248-16443) and the operator
#: tests' own bands (21000-21100, 25000-25100) and make up's RabbitMQ (25672-25673);
#: below the NodePorts (30000-32767).
TEST_PORTS = range(26100, 30000)


def free_ports(count: int, ports: range = TEST_PORTS) -> list[int]:
    """Distinct ports nothing listens on right now, held together while picking so they
    differ; tried in random order so sessions running side by side rarely meet."""
    held: list[socket.socket] = []
    try:
        for port in random.sample(ports, len(ports)):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((infra.LOOPBACK, port))
            except OSError:
                sock.close()
                continue
            held.append(sock)
            if len(held) == count:
                return [int(s.getsockname()[1]) for s in held]
    finally:
        for sock in held:
            sock.close()
    raise RuntimeError(f"fewer than {count} free ports in {ports}")


def free_port() -> int:
    return free_ports(1)[0]


@dataclass
class ServerPool:
    """Starts each kind of server at most once per session; stops them all at the end."""

    run_dir: Path
    supervisor: Supervisor = field(init=False)
    creds: StackCredentials = field(init=False)
    _started: list[str] = field(default_factory=list)
    _endpoints: dict[str, Endpoint] = field(default_factory=dict)
    _rabbit: infra.RabbitNode | None = None

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.creds = credentials.load_or_create(
            self.run_dir, amqp_roles=(*credentials.AMQP_PERMISSIONS, *HARNESS_AMQP)
        )
        me = {"pid": os.getpid(), "start_ticks": process_start_ticks(os.getpid())}
        (self.run_dir / OWNER_FILE).write_text(json.dumps(me))

    def _start(self, specs: list[ProcessSpec]) -> None:
        for spec in specs:
            self.supervisor.start(spec)
            self._started.append(spec.name)

    def mosquitto(self) -> Endpoint:
        if "mosquitto" not in self._endpoints:
            port = free_port()
            self._start(infra.mosquitto_specs(self.run_dir, port, self.creds))
            self._endpoints["mosquitto"] = Endpoint(infra.LOOPBACK, port, "mqtt", self.creds)
        return self._endpoints["mosquitto"]

    def rabbitmq_node(self) -> infra.RabbitNode:
        if self._rabbit is None:
            port, dist_port, epmd_port = free_ports(3)
            node = infra.rabbitmq_node(
                self.run_dir,
                port,
                self.creds,
                dist_port=dist_port,
                epmd_port=epmd_port,
                permissions={**credentials.AMQP_PERMISSIONS, **HARNESS_AMQP},
            )
            self._start(infra.rabbitmq_specs(node))
            self._rabbit = node
        return self._rabbit

    def rabbitmq(self) -> Endpoint:
        return Endpoint(infra.LOOPBACK, self.rabbitmq_node().port, "amqp", self.creds)

    def redis(self, region: str) -> Endpoint:
        name = f"redis-{region}"
        if name not in self._endpoints:
            port = free_port()
            password = self.creds.redis_password
            self._start(infra.redis_specs(self.run_dir, port, name=name, password=password))
            self._endpoints[name] = Endpoint(infra.LOOPBACK, port, "redis", self.creds)
        return self._endpoints[name]

    def reset_rabbitmq(self) -> None:
        """Delete every queue and every non-default exchange in the default vhost."""
        node = self.rabbitmq_node()
        queues = _ctl_names(node, "list_queues")
        exchanges = [
            name
            for name in _ctl_names(node, "list_exchanges")
            if name and not name.startswith("amq.")
        ]
        if not queues and not exchanges:
            return
        connection = pika.BlockingConnection(pika.URLParameters(self.rabbitmq().url))
        try:
            channel = connection.channel()
            for queue in queues:
                channel.queue_delete(queue)
            for exchange in exchanges:
                channel.exchange_delete(exchange)
        finally:
            connection.close()

    def stop_all(self) -> None:
        errors = []
        for name in reversed(self._started):
            try:
                self.supervisor.stop(name)
            except OSError as exc:
                errors.append(f"{name}: {exc}")
        self._started.clear()
        if errors:
            raise RuntimeError("could not stop test servers: " + "; ".join(errors))


def search_indexes(client: redis.Redis) -> list[str]:
    """Names of the Query Engine indexes (FT._LIST), as text."""
    # redis-py leaves execute_command unannotated; give it a type once, here.
    execute: Callable[..., Any] = client.execute_command
    return [name.decode() if isinstance(name, bytes) else str(name) for name in execute("FT._LIST")]


def reap_abandoned(pattern_root: Path, pattern: str) -> list[str]:
    """Stop servers left by test sessions that died without teardown (killed, timed out).

    Only run folders whose owning pytest process is gone are touched, so concurrent
    sessions on the same machine keep their servers; and the supervisor only signals
    processes whose pidfile still matches.
    """
    reaped = []
    for owner in pattern_root.glob(f"{pattern}/{OWNER_FILE}"):
        try:
            data = json.loads(owner.read_text())
        except (OSError, ValueError):
            continue
        pid = int(data.get("pid", 0))
        if process_alive(pid) and process_start_ticks(pid) == data.get("start_ticks"):
            continue
        supervisor = Supervisor(owner.parent)
        for name in reversed(supervisor.recorded_names()):
            if supervisor.stop(name):
                reaped.append(f"{owner.parent}:{name}")
        owner.unlink(missing_ok=True)
    return reaped


def clean_redis(endpoint: Endpoint) -> redis.Redis:
    """A decoded RESP2 client on an empty database with no search indexes."""
    client = endpoint.redis_client(decode_responses=True)
    # FLUSHALL empties the indexes but keeps their definitions; drop them so a test that
    # creates an index never trips over the previous test's.
    for index in search_indexes(client):
        client.ft(index).dropindex()
    client.flushall()
    return client


def _ctl_names(node: infra.RabbitNode, command: str) -> list[str]:
    result = node.ctl(command, "--quiet", "--no-table-headers", "name")
    if result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {command} failed: {result.stderr.strip()}")
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]
