"""Query-string escaping and reply parsing, the pure parts of the Redis queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tier0_api.queries import search, users


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("WY-ALPHA", r"WY\-ALPHA"),
        ("thermal_engine", r"thermal\_engine"),
        ("a b.c:d", r"a\ b\.c\:d"),
        ("OK", "OK"),
    ],
)
def test_escape_tag(raw: str, escaped: str) -> None:
    assert search.escape_tag(raw) == escaped


def test_tag_clause_joins_alternatives() -> None:
    assert search.tag_clause("state", ["WARN", "ALERT"]) == "@state:{WARN|ALERT}"


def test_search_reply_parsing() -> None:
    reply = [2, "dev:A", ["id", "A", "seen", "1.5"], "dev:B", ["id", "B"]]
    assert search.search_total(reply) == 2
    assert search.search_docs(reply) == [
        ("dev:A", {"id": "A", "seen": "1.5"}),
        ("dev:B", {"id": "B"}),
    ]
    assert search.search_docs([7]) == []


def test_aggregate_rows_skip_the_count() -> None:
    rows = search.aggregate_rows([99, ["type", "turbine", "n", "3"]])
    assert rows == [{"type": "turbine", "n": "3"}]


@pytest.mark.parametrize(
    ("raw", "value"), [("1.5", 1.5), ("", None), (None, None), ("nan", None), ("x", None)]
)
def test_to_float(raw: object, value: float | None) -> None:
    assert search.to_float(raw) == value


def test_report_from_flat_fields() -> None:
    values = users.report_values(
        "SFO-WEB-01",
        {
            "message_id": "M1",
            "timestamp_utc": "2025-11-16T12:00:00Z",
            "active_users": "324",
            "active_connections": "289",
            "server_cpu_pct": "64.3",
        },
    )
    assert values["timestamp_utc"] == datetime(2025, 11, 16, 12, tzinfo=UTC)
    assert (values["active_users"], values["active_connections"]) == (324, 289)
    assert values["server_cpu_pct"] == 64.3
    assert values["server_memory_gb"] is None


def test_report_from_payload_json() -> None:
    payload = (
        '{"message_id": "M2", "site_id": "NYC-WEB-01", "timestamp_utc": "2025-11-16T12:00:00Z",'
        ' "metrics": {"active_users": 5, "active_connections": 4, "server_cpu_pct": 1.0,'
        ' "server_memory_gb": 2.0, "average_latency_ms": 3.0}}'
    )
    values = users.report_values("", {"payload": payload})
    assert values["site_id"] == "NYC-WEB-01"
    assert values["active_users"] == 5
    assert values["average_latency_ms"] == 3.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1700000000", datetime.fromtimestamp(1700000000, UTC)),
        ("2025-11-16T12:00:00", datetime(2025, 11, 16, 12, tzinfo=UTC)),
        ("garbage", None),
        (None, None),
    ],
)
def test_parse_time(raw: object, expected: datetime | None) -> None:
    assert users.parse_time(raw) == expected
