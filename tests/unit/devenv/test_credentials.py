"""Broker and store credentials: private files, stable across restarts, least privilege."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

from tier0_devenv import credentials


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_once_into_a_private_file_and_reused(tmp_path: Path) -> None:
    first = credentials.load_or_create(tmp_path)
    assert _mode(tmp_path / "secrets") == 0o700
    assert _mode(first.path) == 0o600
    again = credentials.load_or_create(tmp_path)
    assert again == first
    users = {c.username for c in first.mqtt.values()} | {c.username for c in first.amqp.values()}
    assert users == {"tier0-simulator", "tier0-ingest", "tier0-canary"}
    # Every secret differs and is long enough to resist guessing.
    secrets = [c.password for c in [*first.mqtt.values(), *first.amqp.values()]]
    secrets.append(first.redis_password)
    assert len(set(secrets)) == len(secrets) and min(map(len, secrets)) >= 32


def test_a_role_added_later_is_generated_without_changing_the_others(tmp_path: Path) -> None:
    base = credentials.load_or_create(tmp_path)
    more = credentials.load_or_create(tmp_path, amqp_roles=("simulator", "ingest", "extra"))
    assert more.amqp["ingest"] == base.amqp["ingest"]
    assert more.amqp["extra"].username == "tier0-extra"


def test_secrets_never_appear_in_reprs(tmp_path: Path) -> None:
    creds = credentials.load_or_create(tmp_path)
    text = repr(creds)
    assert creds.redis_password not in text
    assert all(c.password not in text for c in creds.mqtt.values())


def test_acl_gives_each_role_only_its_topics(tmp_path: Path) -> None:
    creds = credentials.load_or_create(tmp_path)
    acl = "\n".join(credentials.mosquitto_acl_lines(creds, credentials.MQTT_ACL))
    blocks = {b.split("\n")[0]: b.split("\n")[1:] for b in acl.split("user ")[1:]}
    assert blocks["tier0-simulator"][0] == "topic write og/field/#"
    assert [line for line in blocks["tier0-ingest"] if line] == [
        "topic read og/field/#",
        "topic read tier0/canary/#",
    ]
    assert blocks["tier0-canary"][0] == "topic write tier0/canary/#"
    assert "readwrite" not in acl and "pattern" not in acl


def test_rabbitmq_definitions_hold_hashes_not_passwords(tmp_path: Path) -> None:
    creds = credentials.load_or_create(tmp_path)
    defs = credentials.rabbitmq_definitions(creds, credentials.AMQP_PERMISSIONS)
    text = json.dumps(defs)
    assert all(c.password not in text for c in creds.amqp.values())
    assert "guest" not in text
    user = next(u for u in defs["users"] if u["name"] == "tier0-ingest")  # type: ignore[attr-defined]
    raw = base64.b64decode(user["password_hash"])
    salt, digest = raw[:4], raw[4:]
    assert digest == hashlib.sha256(salt + creds.amqp["ingest"].password.encode()).digest()


def test_simulator_may_not_read_and_ingest_may_not_publish_to_the_exchange() -> None:
    import re

    sim = credentials.AMQP_PERMISSIONS["simulator"]
    ingest = credentials.AMQP_PERMISSIONS["ingest"]
    assert not re.match(sim.read, "tier0.user-activity.region1")
    assert not re.match(ingest.write, "tier0.user-activity")
    assert re.match(ingest.read, "tier0.user-activity.region1")
    assert re.match(ingest.write, "tier0.user-activity.region1.dlq")
