"""Decoding refuses exactly what the shared schema refuses, with a labelled reason."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from tier0_common.schema import MAX_ACTIVITY_BYTES, UserActivity
from tier0_ingest.amqp.decode import Refusal, decode
from tier0_ingest.deadletter import reason_label
from tier0_simulators.users.generator import ActivityGenerator

GOOD: dict[str, Any] = ActivityGenerator(9, max_listed_users=3).report(
    "SFO-WEB-01", datetime(2025, 11, 16, 12, tzinfo=UTC)
)


def _without(*path: str) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    target = doc
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return doc


def _with(value: Any, *path: str) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def test_a_simulator_report_decodes() -> None:
    decoded = decode(orjson.dumps(GOOD))
    assert isinstance(decoded, UserActivity)
    assert decoded.site_id == "SFO-WEB-01"
    assert len(decoded.active_users_list) == 3


@pytest.mark.parametrize(
    ("body", "label"),
    [
        (b"{not json", "bad_json"),
        (b"", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b"[1, 2]", "schema"),
        (b"null", "schema"),
        (orjson.dumps(_without("message_id")), "schema"),
        (orjson.dumps(_without("metrics", "active_users")), "schema"),
        (orjson.dumps(_with("many", "metrics", "active_users")), "schema"),
        (orjson.dumps(_with(-1, "metrics", "active_connections")), "schema"),
        (orjson.dumps(_with(140.0, "metrics", "server_cpu_pct")), "schema"),
        (orjson.dumps(_with("yesterday", "timestamp_utc")), "schema"),
        (orjson.dumps(_with("SFO WEB", "site_id")), "schema"),
        (orjson.dumps(_with([{"user_id": "u"}], "active_users_list")), "schema"),
        (orjson.dumps(_with(1, "surprise")), "schema"),
        (b" " * (MAX_ACTIVITY_BYTES + 1), "too_large"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(body: bytes, label: str) -> None:
    decoded = decode(body)
    assert isinstance(decoded, Refusal)
    assert reason_label(decoded.reason) == label


def test_reason_names_the_offending_field() -> None:
    decoded = decode(orjson.dumps(_with("many", "metrics", "active_users")))
    assert isinstance(decoded, Refusal)
    assert "metrics.active_users" in decoded.reason
