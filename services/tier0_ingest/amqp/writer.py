"""One Redis round trip per batch: latest state per site, the recent-reports stream, the
freshness mark and the batch's dead letters, all in one MULTI/EXEC.

Why one transaction: the worker acknowledges the whole batch only after ``execute``
returns, so either Redis holds everything the acks vouch for, or the batch is requeued
and written again. A repeat can add a duplicate entry to ``users:activity`` (delivery is
at least once); the per-site hash is idempotent.

Why a script for the per-site hash: after a requeue RabbitMQ can deliver an older report
after a newer one. ``users:site:{id}`` must hold the newest report, so the hash is only
overwritten when the incoming report is not older than the stored one (equal timestamps:
the later delivery wins). A Lua script makes that check-and-set atomic in one call.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import orjson
import redis

from tier0_common.keys import DLQ_ACTIVITY, INGEST_LAST, USERS_ACTIVITY, users_site_key
from tier0_common.rfc3339 import format_rfc3339_seconds
from tier0_common.schema import UserActivity

from ..deadletter import add_dead_letter

#: KEYS[1] the site hash; ARGV[1] the report's epoch; ARGV[2..] field/value pairs.
_SET_IF_NOT_OLDER: Final = """
local stored = redis.call('HGET', KEYS[1], 'ts')
if stored and tonumber(stored) > tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
"""


def _epoch(moment: datetime) -> float:
    # A report without a zone is read as UTC, as the seed's field name says.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _iso(moment: datetime) -> str:
    return format_rfc3339_seconds(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _number(value: float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def stream_fields(report: UserActivity, received: float) -> dict[str, str]:
    """A report without its user list: what ``users:activity`` keeps per entry."""
    metrics = report.metrics
    return {
        "site_id": report.site_id,
        "message_id": report.message_id,
        "timestamp_utc": _iso(report.timestamp_utc),
        "ts": _number(_epoch(report.timestamp_utc)),
        "received": f"{received:.3f}",
        "active_users": str(metrics.active_users),
        "active_connections": str(metrics.active_connections),
        "server_cpu_pct": _number(metrics.server_cpu_pct),
        "server_memory_gb": _number(metrics.server_memory_gb),
        "average_latency_ms": _number(metrics.average_latency_ms),
        "users_listed": str(len(report.active_users_list)),
    }


def site_fields(report: UserActivity, received: float) -> dict[str, str]:
    """The ``users:site:{site_id}`` hash of a report: the stream fields plus the list."""
    fields = stream_fields(report, received)
    users = [
        {"user_id": u.user_id, "session_start_utc": _iso(u.session_start_utc), "page": u.page}
        for u in report.active_users_list
    ]
    fields["active_users_list"] = orjson.dumps(users).decode()
    return fields


def latest_per_site(reports: Iterable[UserActivity]) -> dict[str, UserActivity]:
    """Newest report per site among ``reports`` (in delivery order; ties go to the later)."""
    latest: dict[str, UserActivity] = {}
    for report in reports:
        held = latest.get(report.site_id)
        if held is None or _epoch(report.timestamp_utc) >= _epoch(held.timestamp_utc):
            latest[report.site_id] = report
    return latest


@dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: str
    body: bytes
    routing_key: str


class BatchWriter:
    """Writes batches into one region's Redis; raises redis errors for the caller to handle."""

    def __init__(self, client: redis.Redis, *, stream_maxlen: int) -> None:
        self._client = client
        self._stream_maxlen = stream_maxlen
        self._set_if_not_older = client.register_script(_SET_IF_NOT_OLDER)

    def write(self, reports: list[UserActivity], dead_letters: list[DeadLetter]) -> None:
        received = time.time()
        pipe = self._client.pipeline(transaction=True)
        for report in reports:
            pipe.xadd(
                USERS_ACTIVITY,
                stream_fields(report, received),  # type: ignore[arg-type]
                maxlen=self._stream_maxlen,
                approximate=True,
            )
        for site_id, report in latest_per_site(reports).items():
            fields = site_fields(report, received)
            pairs = [item for pair in fields.items() for item in pair]
            self._set_if_not_older(
                keys=[users_site_key(site_id)], args=[fields["ts"], *pairs], client=pipe
            )
        for letter in dead_letters:
            add_dead_letter(
                pipe,
                DLQ_ACTIVITY,
                source="amqp",
                reason=letter.reason,
                payload=letter.body,
                where=letter.routing_key,
            )
        if reports:
            pipe.hset(INGEST_LAST, "amqp", f"{received:.3f}")
        pipe.execute()
