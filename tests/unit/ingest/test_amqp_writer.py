"""What a report becomes in Redis, and which report per site is the latest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from tier0_common.keys import USERS_SITE_FIELDS
from tier0_common.schema import UserActivity
from tier0_ingest.amqp.writer import latest_per_site, site_fields
from tier0_simulators.users.generator import ActivityGenerator

NOON = datetime(2025, 11, 16, 12, tzinfo=UTC)


def _report(site: str, at: datetime, seed: int = 1) -> UserActivity:
    raw = ActivityGenerator(seed, max_listed_users=4).report(site, at)
    return UserActivity.model_validate(raw)


def test_site_hash_fields_round_trip_the_report() -> None:
    report = _report("NYC-WEB-01", NOON)
    fields = site_fields(report, received=1763294401.5)
    assert tuple(sorted(fields)) == tuple(sorted(USERS_SITE_FIELDS))
    assert fields["site_id"] == "NYC-WEB-01"
    assert fields["timestamp_utc"] == "2025-11-16T12:00:00Z"
    assert float(fields["ts"]) == NOON.timestamp()
    assert fields["received"] == "1763294401.500"
    assert int(fields["active_users"]) == report.metrics.active_users
    assert float(fields["server_cpu_pct"]) == report.metrics.server_cpu_pct
    users = orjson.loads(fields["active_users_list"])
    assert users == [u.model_dump(mode="json") for u in report.active_users_list]
    assert fields["users_listed"] == str(len(users)) == "4"


def test_naive_timestamps_are_read_as_utc() -> None:
    raw = ActivityGenerator(1).report("LON-WEB-01", NOON)
    raw["timestamp_utc"] = "2025-11-16T12:00:00"
    fields = site_fields(UserActivity.model_validate(raw), received=0.0)
    assert float(fields["ts"]) == NOON.timestamp()


def test_latest_per_site_prefers_newer_then_later_delivery() -> None:
    old = _report("SFO-WEB-01", NOON)
    new = _report("SFO-WEB-01", NOON + timedelta(seconds=5), seed=2)
    tie = _report("SFO-WEB-01", NOON + timedelta(seconds=5), seed=3)
    other = _report("SIN-WEB-01", NOON)
    latest = latest_per_site([new, other, old])
    assert latest == {"SFO-WEB-01": new, "SIN-WEB-01": other}
    assert latest_per_site([new, tie])["SFO-WEB-01"] is tie
