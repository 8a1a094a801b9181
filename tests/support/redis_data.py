"""Write region data into Redis exactly as tier0_common.keys lays it out.

API tests seed Redis through these helpers (not through ingest), so each endpoint can
be checked against values the test chose and computes independently. The device hash
fields follow keys.DEVICE_FIELDS; a user report is stored as flat fields named like
the wire payload (the field set of tier0_ingest.amqp.writer), in both
``users:site:{id}`` and the ``users:activity`` stream.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tier0_common.catalog import METRICS, SITES_BY_ID, DeviceState, device_identity
from tier0_common.keys import (
    INGEST_LAST,
    USERS_ACTIVITY,
    USERS_ACTIVITY_MAXLEN,
    canary_key,
    device_key,
    metric_field,
    users_site_key,
)
from tier0_common.schema import ActivityMetrics, Location, Status, Telemetry, UserActivity


def device_mapping(telemetry: Telemetry, seen: float) -> dict[str, str]:
    """The ``dev:{id}`` hash of one reading, as ingest stores it."""
    mapping = {
        "id": telemetry.device_id,
        "type": telemetry.device_type.value,
        "site": telemetry.site_id,
        "ts": f"{telemetry.timestamp_utc.timestamp():.3f}",
        "seen": f"{seen:.3f}",
        "fw": telemetry.firmware,
        "state": telemetry.status.state.value,
        "code": telemetry.status.code,
        "msg": telemetry.status.message,
        "lat": repr(telemetry.location.lat),
        "lon": repr(telemetry.location.lon),
        "tags": json.dumps(telemetry.tags, separators=(",", ":")),
    }
    for name, value in telemetry.metrics.items():
        mapping[metric_field(name)] = repr(float(value))
    return mapping


def write_devices(
    client: Any, readings: Iterable[tuple[Telemetry, float]], batch: int = 1000
) -> int:
    """HSET each ``(telemetry, seen)`` in pipelined batches; returns how many were written."""
    written = 0
    pipe = client.pipeline(transaction=False)
    for telemetry, seen in readings:
        pipe.hset(device_key(telemetry.device_id), mapping=device_mapping(telemetry, seen))
        written += 1
        if written % batch == 0:
            pipe.execute()
    pipe.execute()
    return written


_CODES = {DeviceState.OK: "OK", DeviceState.WARN: "WARN", DeviceState.ALERT: "ALERT"}


def make_telemetry(
    index: int,
    fleet_size: int,
    *,
    state: DeviceState = DeviceState.OK,
    rng: random.Random | None = None,
    when: datetime | None = None,
) -> Telemetry:
    """A valid reading of fleet device ``index`` with random metric values."""
    rng = rng or random.Random(index)
    identity = device_identity(index, fleet_size)
    site = SITES_BY_ID[identity.site_id]
    prefix = identity.device_id.split("-")[0]
    return Telemetry(
        device_id=identity.device_id,
        device_type=identity.device_type,
        site_id=identity.site_id,
        timestamp_utc=when or datetime.now(UTC),
        firmware="3.2.1",
        metrics={name: round(rng.uniform(0, 1000), 3) for name in METRICS[identity.device_type]},
        status=Status(
            state=state,
            code=f"{prefix}-{_CODES[state]}",
            message="Nominal" if state is DeviceState.OK else f"{state.value.title()} condition",
        ),
        location=Location(lat=site.lat, lon=site.lon),
        tags={"vendor": "HanTech", "loop": "A1"},
    )


def fleet(
    fleet_size: int,
    *,
    seen: float,
    state_of: Any = None,
    seed: int = 7,
) -> Iterator[Telemetry]:
    """Readings for the whole fleet; ``state_of(index)`` picks each device's state."""
    rng = random.Random(seed)
    when = datetime.fromtimestamp(seen, UTC) - timedelta(milliseconds=200)
    for index in range(fleet_size):
        state = state_of(index) if state_of else DeviceState.OK
        yield make_telemetry(index, fleet_size, state=state, rng=rng, when=when)


def activity_fields(report: UserActivity, seen: float) -> dict[str, str]:
    """Flat fields of one user-activity report (hash and stream entry alike)."""
    metrics = report.metrics
    return {
        "message_id": report.message_id,
        "site_id": report.site_id,
        "timestamp_utc": report.timestamp_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ts": repr(report.timestamp_utc.timestamp()),
        "received": f"{seen:.3f}",
        "active_users": str(metrics.active_users),
        "active_connections": str(metrics.active_connections),
        "server_cpu_pct": repr(metrics.server_cpu_pct),
        "server_memory_gb": repr(metrics.server_memory_gb),
        "average_latency_ms": repr(metrics.average_latency_ms),
        "users_listed": str(len(report.active_users_list)),
    }


def make_activity(site_id: str, users: int, connections: int, seq: int = 1) -> UserActivity:
    return UserActivity(
        message_id=f"MSG-{site_id}-{seq:05d}",
        timestamp_utc=datetime.now(UTC),
        site_id=site_id,
        metrics=ActivityMetrics(
            active_users=users,
            active_connections=connections,
            server_cpu_pct=50.0 + seq % 10,
            server_memory_gb=16.0,
            average_latency_ms=70.0 + seq,
        ),
    )


def write_activity(client: Any, report: UserActivity, seen: float) -> str:
    """Store a report as ingest does: latest per site plus a bounded stream entry."""
    fields = activity_fields(report, seen)
    client.hset(users_site_key(report.site_id), mapping=fields)
    stream_id: str = client.xadd(
        USERS_ACTIVITY, fields, maxlen=USERS_ACTIVITY_MAXLEN, approximate=True
    )
    return stream_id


def mark_ingest(client: Any, source: str, at: float) -> None:
    client.hset(INGEST_LAST, source, f"{at:.3f}")


def write_canary(client: Any, canary_id: str, at: float, ttl: int = 600) -> None:
    client.set(canary_key(canary_id), f"{at:.3f}", ex=ttl)
