"""Who may do what on the local brokers and stores, and the secrets that prove it.

`make up` (and the test fixtures) must run with authentication on, like the chart:
an open broker lets one bad client take down both regions. Every component gets its
own broker identity with the least it needs (docs/security.md): the IoT simulator may
only publish telemetry, ingest may only read it, the operator's canary may only
publish canaries. The passwords are generated on the first start of a run folder and
kept in ``<run_dir>/secrets/credentials.json`` (folder 0700, file 0600), never in the
repository, never on a command line (`ps` shows those to every user), never in a log;
the supervisor hands each process its own credential through its environment.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from tier0_common.catalog import CANARY_TOPIC_ROOT, TOPIC_ROOT

from .settings import DevenvSettings

#: Mosquitto ACL lines per role (`topic read` also covers SUBSCRIBE; shared
#: subscriptions are checked against the filter after the ``$share/<group>/`` prefix).
MQTT_ACL: Final[Mapping[str, tuple[str, ...]]] = {
    "simulator": (f"topic write {TOPIC_ROOT}/#",),
    "ingest": (f"topic read {TOPIC_ROOT}/#", f"topic read {CANARY_TOPIC_ROOT}/#"),
    "canary": (f"topic write {CANARY_TOPIC_ROOT}/#",),
}

#: The user-activity exchange; queues are ``<exchange>.<region>`` and ``....dlq``.
AMQP_EXCHANGE: Final = "tier0.user-activity"
_EXCHANGE_RE = AMQP_EXCHANGE.replace(".", r"\.")


@dataclass(frozen=True)
class AmqpPermission:
    """RabbitMQ's three regular expressions on the default vhost."""

    configure: str
    write: str
    read: str


#: Queues and exchanges share one name space in RabbitMQ's permissions, so the
#: simulator may declare and publish to the exchange only, and ingest may declare,
#: bind and read its region's queues (and their dead-letter pair) but not publish
#: to the exchange the simulator feeds.
AMQP_PERMISSIONS: Final[Mapping[str, AmqpPermission]] = {
    "simulator": AmqpPermission(f"^{_EXCHANGE_RE}$", f"^{_EXCHANGE_RE}$", "^$"),
    "ingest": AmqpPermission(
        f"^{_EXCHANGE_RE}(\\..+)?$", f"^{_EXCHANGE_RE}\\..+$", f"^{_EXCHANGE_RE}(\\..+)?$"
    ),
}

CREDENTIALS_FILE: Final = "credentials.json"


@dataclass(frozen=True)
class Credential:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class StackCredentials:
    """The identities of one run folder: per-role MQTT and AMQP users, Redis' password."""

    path: Path
    mqtt: Mapping[str, Credential]
    amqp: Mapping[str, Credential]
    redis_password: str = field(repr=False)

    def amqp_url(self, role: str, host: str, port: int) -> str:
        """The URL a pika client takes; passwords are URL-safe by construction."""
        cred = self.amqp[role]
        return f"amqp://{cred.username}:{cred.password}@{host}:{port}/%2F"


def _password() -> str:
    # token_urlsafe: no character needs quoting in a URL, a config line or a password file.
    return secrets.token_urlsafe(24)


def _credential(role: str) -> dict[str, str]:
    return {"username": f"tier0-{role}", "password": _password()}


def secrets_dir(run_dir: Path) -> Path:
    return run_dir / "secrets"


def load_or_create(
    run_dir: Path,
    *,
    mqtt_roles: tuple[str, ...] = tuple(MQTT_ACL),
    amqp_roles: tuple[str, ...] = tuple(AMQP_PERMISSIONS),
) -> StackCredentials:
    """Read the run folder's credentials, generating (and saving) any that are missing.

    Kept across restarts so a component restarted alone still matches its broker."""
    folder = secrets_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / CREDENTIALS_FILE
    data: dict[str, dict[str, dict[str, str]] | str] = {}
    if path.exists():
        data = json.loads(path.read_text())
    changed = not path.exists()
    sections: dict[str, dict[str, dict[str, str]]] = {}
    for section, roles in (("mqtt", mqtt_roles), ("amqp", amqp_roles)):
        stored = data.get(section)
        sections[section] = dict(stored) if isinstance(stored, dict) else {}
        for role in roles:
            if role not in sections[section]:
                sections[section][role] = _credential(role)
                changed = True
    redis_password = data.get("redis_password")
    if not isinstance(redis_password, str):
        redis_password = _password()
        changed = True
    if changed:
        _write_private(path, json.dumps({**sections, "redis_password": redis_password}, indent=2))
    return StackCredentials(
        path=path,
        mqtt={role: Credential(**c) for role, c in sections["mqtt"].items()},
        amqp={role: Credential(**c) for role, c in sections["amqp"].items()},
        redis_password=redis_password,
    )


def of_run(settings: DevenvSettings) -> StackCredentials:
    """The credentials of `make up`'s run folder."""
    return load_or_create(settings.run_dir)


def redis_password(settings: DevenvSettings) -> str:
    """TIER0_REDIS_PASSWORD when set, else the run folder's generated one."""
    return settings.redis_password or of_run(settings).redis_password


def _write_private(path: Path, text: str) -> None:
    """Create or replace ``path`` with mode 0600 from the first byte (no window where
    another user could open it)."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")
    tmp.replace(path)


def mosquitto_password_lines(creds: StackCredentials) -> list[str]:
    """``user:password`` lines; mosquitto_passwd -U hashes them in place."""
    return [f"{c.username}:{c.password}" for c in creds.mqtt.values()]


def mosquitto_acl_lines(creds: StackCredentials, acl: Mapping[str, tuple[str, ...]]) -> list[str]:
    """One ``user`` block per role; anonymous clients never get this far."""
    lines = ["# Written by tier0_devenv from tier0_devenv.credentials; no anonymous block."]
    for role, cred in creds.mqtt.items():
        lines += [f"user {cred.username}", *acl[role], ""]
    return lines


def rabbitmq_password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)),
    so the definitions file never holds a clear password."""
    salt = salt if salt is not None else secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def rabbitmq_definitions(
    creds: StackCredentials, permissions: Mapping[str, AmqpPermission]
) -> dict[str, object]:
    """The users, vhost and permissions RabbitMQ imports at boot (no guest among them)."""
    users = []
    grants = []
    for role, cred in creds.amqp.items():
        users.append(
            {
                "name": cred.username,
                "password_hash": rabbitmq_password_hash(cred.password),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
            }
        )
        perm = permissions[role]
        grants.append(
            {
                "user": cred.username,
                "vhost": "/",
                "configure": perm.configure,
                "write": perm.write,
                "read": perm.read,
            }
        )
    return {"users": users, "vhosts": [{"name": "/"}], "permissions": grants}


def write_private(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(path, "\n".join(lines))
