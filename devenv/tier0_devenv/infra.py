"""Process specs for the three servers tier0 needs: Mosquitto, RabbitMQ, Redis.

Each builder writes the server's configuration under the run folder and returns
ProcessSpecs for the supervisor; `make up` and the pytest fixtures both use them, so
a server is started one way only. Every instance is private: own ports, own data
and log folders, own Erlang cookie and epmd, nothing read from /etc or /var. That
keeps it clear of the Debian system services and of other instances on the machine.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import binaries, credentials
from .credentials import AmqpPermission, StackCredentials
from .probes import AmqpProbe, MqttProbe, RedisProbe
from .processes import ProcessSpec, StartFailed, TcpCheck

LOOPBACK = "127.0.0.1"
#: Largest MQTT message Mosquitto accepts. A telemetry payload is ~400 bytes and a
#: canary ~80; the margin allows richer devices, while a client flooding megabytes
#: is dropped at the broker instead of in every subscriber's memory.
MQTT_MESSAGE_SIZE_LIMIT = 16384


def mosquitto_specs(
    run_dir: Path,
    port: int,
    creds: StackCredentials,
    *,
    name: str = "mosquitto",
    bind_all: bool = False,
    acl: Mapping[str, tuple[str, ...]] = credentials.MQTT_ACL,
    anonymous_acl: tuple[str, ...] = (),
    message_size_limit: int = MQTT_MESSAGE_SIZE_LIMIT,
) -> list[ProcessSpec]:
    """One Mosquitto broker: no anonymous clients, a password and ACL per component
    (credentials.MQTT_ACL), persistent, sized for a 100k-device fleet.

    Persistence keeps the ingest workers' sessions (clean session off) and the QoS 1
    messages queued for them across a broker restart, written on shutdown and every
    30 s, so a restart loses nothing the broker acked at QoS 1 (a kill -9 of the
    broker loses what arrived since the last save).

    ``anonymous_acl`` is for benchmarks, whose C baselines (mosquitto_pub/sub) connect
    without credentials, and for the MQTT conformance tests, which exercise the wire
    protocol on topics of their own: it admits anonymous clients to those topics, so
    the broker still checks an ACL on every message as in `make up`.
    ``message_size_limit`` 0 lifts the limit, for tests of a subscriber's own defence
    against huge messages (a broker configured by someone else)."""
    folder = run_dir / name
    conf = folder / "mosquitto.conf"
    passwords = folder / "passwords"
    acl_file = folder / "acl"
    listener = f"listener {port}" if bind_all else f"listener {port} {LOOPBACK}"
    lines = [
        "# Written by tier0_devenv; edits are overwritten on the next start.",
        listener,
        f"allow_anonymous {'true' if anonymous_acl else 'false'}",
        f"password_file {passwords}",
        f"acl_file {acl_file}",
        f"message_size_limit {message_size_limit}",
        "persistence true",
        f"persistence_location {folder}/",
        "autosave_interval 30",
        # Sessions of replicas that never come back are dropped after a day.
        "persistent_client_expiration 1d",
        # Bursts from 100k devices must queue, not drop, for slow subscribers: a QoS 1
        # message beyond this queue is dropped although the broker acked it to the
        # device (10 rounds of the full fleet; the bound is memory, ~0.5 KB a message).
        "max_queued_messages 1000000",
        # QoS 1 deliveries awaiting PUBACK per client. Unlimited (0) let a backlog run
        # past the 65,535 packet ids and stalled delivery (measured: a 200,000-message
        # QoS 1 burst stopped at 100,000); 1,000 keeps ~13-18k msg/s to one worker,
        # which acks each batch after its Redis write.
        "max_inflight_messages 1000",
        "max_connections -1",
        "set_tcp_nodelay true",
        # stdout is captured by the supervisor into logs/<name>.log.
        "log_dest stdout",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        # Run as the caller: started as root, Mosquitto would switch to `mosquitto`.
        f"user {pwd.getpwuid(os.getuid()).pw_name}",
    ]
    return [
        ProcessSpec(
            name=name,
            argv=[binaries.mosquitto(), "-c", str(conf)],
            ports=[port],
            health=MqttProbe(LOOPBACK, port),
            start_timeout=15,
            prepare=lambda: _prepare_mosquitto(
                conf, lines, passwords, acl_file, creds, acl, anonymous_acl
            ),
            url=f"mqtt://{LOOPBACK}:{port}",
        )
    ]


def _prepare_mosquitto(
    conf: Path,
    lines: list[str],
    passwords: Path,
    acl_file: Path,
    creds: StackCredentials,
    acl: Mapping[str, tuple[str, ...]],
    anonymous_acl: tuple[str, ...],
) -> None:
    _write(conf, lines)
    acl_lines = credentials.mosquitto_acl_lines(creds, acl)
    credentials.write_private(acl_file, [acl_lines[0], *anonymous_acl, *acl_lines[1:]])
    # Clear passwords go to a 0600 file that mosquitto_passwd -U hashes in place, so
    # none is ever an argument of a process.
    credentials.write_private(passwords, credentials.mosquitto_password_lines(creds))
    result = subprocess.run(
        [binaries.mosquitto_passwd(), "-U", str(passwords)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        passwords.unlink(missing_ok=True)
        raise StartFailed(f"mosquitto_passwd -U failed: {result.stderr.strip()}")


def _write(path: Path, lines: list[str], mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=mode)
    path.write_text("\n".join(lines) + "\n")


@dataclass(frozen=True)
class RabbitNode:
    """One private RabbitMQ node and the environment its server and CLI must share."""

    base: Path
    port: int
    dist_port: int
    epmd_port: int
    creds: StackCredentials = field(repr=False)
    permissions: Mapping[str, AmqpPermission] = field(
        default_factory=lambda: dict(credentials.AMQP_PERMISSIONS)
    )

    @property
    def node(self) -> str:
        return f"tier0-{self.port}@localhost"

    @property
    def url(self) -> str:
        """Where clients connect; the credential is each client's own (creds.amqp_url)."""
        return f"amqp://{LOOPBACK}:{self.port}/%2F"

    def client_url(self, role: str) -> str:
        return self.creds.amqp_url(role, LOOPBACK, self.port)

    def env(self) -> dict[str, str]:
        return {
            # The Erlang cookie is read from $HOME; a private HOME keeps ours apart.
            "HOME": str(self.base),
            "ERL_EPMD_PORT": str(self.epmd_port),
            # Never spawn a detached epmd nobody supervises; ours is started first.
            "ERL_AFLAGS": "-start_epmd false",
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_USE_LONGNAME": "false",
            "RABBITMQ_NODE_IP_ADDRESS": LOOPBACK,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "rabbitmq.pid"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
        }

    def prepare(self) -> None:
        for sub in ("mnesia", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        cookie = self.base / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(16).upper())
            cookie.chmod(0o400)
        definitions = self.base / "definitions.json"
        credentials.write_private(
            definitions,
            [json.dumps(credentials.rabbitmq_definitions(self.creds, self.permissions))],
        )
        (self.base / "rabbitmq.conf").write_text(
            "# Written by tier0_devenv.\n"
            # Users come from the definitions only: no guest, one user per component.
            f"load_definitions = {definitions}\n"
            "log.console = true\n"
            "log.console.level = info\n"
            "log.file = false\n"
        )
        (self.base / "rabbitmq-env.conf").write_text("")
        (self.base / "enabled_plugins").write_text("[].\n")

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run rabbitmqctl against this node (same cookie, same epmd)."""
        return subprocess.run(
            [binaries.rabbitmqctl(), "-n", self.node, *args],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def rabbitmq_node(
    run_dir: Path,
    port: int,
    creds: StackCredentials,
    *,
    name: str = "rabbitmq",
    dist_port: int | None = None,
    epmd_port: int | None = None,
    permissions: Mapping[str, AmqpPermission] = credentials.AMQP_PERMISSIONS,
) -> RabbitNode:
    """Defaults: distribution on port+20000 (RabbitMQ's convention), epmd on port+20001."""
    return RabbitNode(
        base=run_dir / name,
        port=port,
        dist_port=dist_port if dist_port is not None else port + 20000,
        epmd_port=epmd_port if epmd_port is not None else port + 20001,
        creds=creds,
        permissions=dict(permissions),
    )


def rabbitmq_specs(node: RabbitNode, *, name: str = "rabbitmq") -> list[ProcessSpec]:
    """A private epmd, then the broker (foreground, so the supervisor owns it)."""
    env = node.env()
    return [
        ProcessSpec(
            name=f"{name}-epmd",
            argv=[binaries.epmd(), "-port", str(node.epmd_port)],
            env=env,
            ports=[node.epmd_port],
            health=TcpCheck(LOOPBACK, node.epmd_port),
            start_timeout=10,
            prepare=node.prepare,
            url=f"epmd://{LOOPBACK}:{node.epmd_port}",
        ),
        ProcessSpec(
            name=name,
            argv=[binaries.rabbitmq_server()],
            env=env,
            cwd=node.base,
            ports=[node.port, node.dist_port],
            health=AmqpProbe(LOOPBACK, node.port),
            start_timeout=90,
            stop_timeout=30,
            prepare=node.prepare,
            url=node.url,
        ),
    ]


def redis_specs(
    run_dir: Path, port: int, *, name: str, password: str | None = None
) -> list[ProcessSpec]:
    """Redis 8 with the Query Engine and JSON, persisted by an append-only file.

    AOF with fsync every second (no RDB snapshots): a restart, or a crash of Redis
    alone, keeps the region's state (a kill of the machine loses at most the last
    second), so a region restarting its Redis does not come back empty and wait for
    every device's next reading. The data stays in the run folder across restarts.
    """
    found = binaries.redis()
    data_dir = run_dir / name
    lines = [
        "# Written by tier0_devenv; edits are overwritten on the next start.",
        f"port {port}",
        f"bind {LOOPBACK}",
        'save ""',
        "appendonly yes",
        "appendfsync everysec",
        f"dir {data_dir}",
        "daemonize no",
        # Refuses clients from other hosts while no password is set (a misconfiguration
        # never exposes an open store); with requirepass, AUTH is needed anyway.
        "protected-mode yes",
        *(f"loadmodule {module}" for module in found.modules),
    ]
    if password:
        lines.append(f"requirepass {password}")
    conf = data_dir / "redis.conf"
    return [
        ProcessSpec(
            name=name,
            # A config file rather than arguments keeps a password out of `ps`.
            argv=[found.server, str(conf)],
            ports=[port],
            health=RedisProbe(LOOPBACK, port, password),
            start_timeout=30,
            prepare=lambda: _write(conf, lines, mode=0o600),
            url=f"redis://{LOOPBACK}:{port}/0",
        )
    ]
