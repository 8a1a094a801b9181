"""The ingest fast path and the shared pydantic model must agree on every case.

Each case is a mutation of the seed's sample payload. For every one, ``check`` accepts
exactly when ``Telemetry`` does, whether the device is new to the worker ("cold") or
its previous reading is cached ("warm": the cache skips re-checking unchanged values);
when both accept, the rendered HSET holds exactly the hash the API's test helper
builds from the model (tests/support/redis_data), so ingest and the API agree on the
stored form too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from tests.support.payloads import SEED_TELEMETRY
from tests.support.redis_data import device_mapping
from tier0_common.schema import MAX_TELEMETRY_BYTES, Telemetry
from tier0_ingest.mqtt.redis_encoding import render
from tier0_ingest.mqtt.validate import Reading, Rejection, Validator

Check = Callable[[bytes, bytes, str], Reading | Rejection]

TOPIC = b"og/field/WY-ALPHA/turbine/TURB-00912"
SEEN = "1763294401.250"


@pytest.fixture
def check() -> Check:
    """A fresh validator per test: no device is cached yet."""
    return Validator().check


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = doc
        for part in parents:
            target = target[part]
        target[last] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = doc
        for part in parents:
            target = target[part]
        del target[last]

    return mutate


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "seed sample": lambda doc: None,
    "no tags": _drop("tags"),
    "empty tags": _set("tags", {}),
    "tag not a string": _set("tags.loop", 1),
    "tags null": _set("tags", None),
    "metric as int": _set("metrics.rpm", 3000),
    "metric as float string": _set("metrics.rpm", "3487.5"),
    "metric as numeric string": _set("metrics.rpm", "3487"),
    "metric as bool": _set("metrics.rpm", True),
    "metric as word": _set("metrics.rpm", "fast"),
    "metric null": _set("metrics.rpm", None),
    "metric missing": _drop("metrics.power_kw"),
    "metric extra": _set("metrics.torque_nm", 1.0),
    "metrics of another type": _set("metrics", {"temp_c": 1.0}),
    "metric huge int": _set("metrics.rpm", 10**30),
    "unknown device type": _set("device_type", "blender"),
    "device type not a string": _set("device_type", 3),
    "device id empty": _set("device_id", ""),
    "device id with space": _set("device_id", "TURB 00912"),
    "device id trailing newline": _set("device_id", "TURB-00912\n"),
    "device id too long": _set("device_id", "T" * 65),
    "site id number": _set("site_id", 7),
    "missing firmware": _drop("firmware"),
    "empty firmware": _set("firmware", ""),
    "long firmware": _set("firmware", "1" * 33),
    "extra top-level field": _set("owner", "ops"),
    "timestamp with fraction": _set("timestamp_utc", "2025-11-16T12:00:00.250Z"),
    "timestamp with offset": _set("timestamp_utc", "2025-11-16T14:00:00+02:00"),
    "timestamp naive": _set("timestamp_utc", "2025-11-16T12:00:00"),
    "timestamp epoch number": _set("timestamp_utc", 1763294400),
    "timestamp impossible day": _set("timestamp_utc", "2025-02-30T12:00:00Z"),
    "timestamp leap second": _set("timestamp_utc", "2025-11-16T12:00:60Z"),
    "timestamp garbage": _set("timestamp_utc", "yesterday"),
    "state unknown": _set("status.state", "MAYBE"),
    "state lower case": _set("status.state", "ok"),
    "code empty": _set("status.code", ""),
    "message unicode": _set("status.message", "Température élevée"),
    "message too long": _set("status.message", "x" * 257),
    "status extra field": _set("status.severity", 3),
    "status missing": _drop("status"),
    "latitude out of range": _set("location.lat", 91),
    "latitude int": _set("location.lat", 43),
    "latitude bool": _set("location.lat", True),
    "latitude string": _set("location.lat", "43.4231"),
    "tags changed": _set("tags.loop", "B2"),
    "firmware changed": _set("firmware", "3.2.2"),
    "status changed": _set(
        "status",
        {
            "state": "WARN",
            "code": "TURB-VIB-WARN",
            "message": "Vibration 6.1 mm/s above warning limit 6",
        },
    ),
    "status changed to invalid": _set("status.state", "FINE"),
    "longitude string": _set("location.lon", "-106.3"),
    "location extra": _set("location.alt", 1200),
    "metrics not an object": _set("metrics", [1, 2, 3]),
}


def _payload(name: str) -> bytes:
    doc = copy.deepcopy(SEED_TELEMETRY)
    MUTATIONS[name](doc)
    # json, not orjson: it can write integers beyond 64 bits (one of the cases).
    return json.dumps(doc, ensure_ascii=False).encode()


def _model_accepts(payload: bytes) -> Telemetry | None:
    try:
        return Telemetry.model_validate_json(payload)
    except ValidationError:
        return None


def _as_hash(command: bytes) -> dict[str, str]:
    """Decode a rendered RESP HSET back to its key and field map."""
    parts = command.decode().split("\r\n")
    assert parts[0] == f"*{(len(parts) - 1) // 2}"
    args = parts[2:-1:2]
    for length, value in zip(parts[1:-1:2], args, strict=True):
        assert int(length[1:]) == len(value.encode())
    assert args[0] == "HSET"
    fields = dict(zip(args[2::2], args[3::2], strict=True))
    fields["_key"] = args[1]
    return fields


@pytest.mark.parametrize("cache", ["cold", "warm"])
@pytest.mark.parametrize("case", list(MUTATIONS))
def test_fast_path_agrees_with_the_model(case: str, cache: str, check: Check) -> None:
    payload = _payload(case)
    model = _model_accepts(payload)
    if cache == "warm":
        assert not isinstance(check(TOPIC, _payload("seed sample"), SEEN), Rejection)
    result = check(TOPIC, payload, SEEN)
    if model is None:
        assert isinstance(result, Rejection), f"{case}: model refuses, ingest accepted"
        assert result.reason.split(":", 1)[0] in {"invalid", "bad_json"}
        return
    assert not isinstance(result, Rejection), f"{case}: model accepts, ingest said {result}"
    device_id, site_id, device_ts, device, dynamic = result
    assert (device_id, site_id) == (model.device_id, model.site_id)
    expected = device_mapping(model, float(SEEN))
    stored = _as_hash(render(device, dynamic, True).encode())
    assert stored.pop("_key") == f"dev:{model.device_id}"
    assert {k: v for k, v in stored.items() if k != "tags"} == {
        k: v for k, v in expected.items() if k != "tags"
    }
    assert orjson.loads(stored["tags"]) == model.tags
    assert device_ts == pytest.approx(float(stored["ts"]), abs=1e-3)


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (b"{not json", "bad_json"),
        (b"", "bad_json"),
        (b"[1, 2]", "invalid"),
        (b'"just a string"', "invalid"),
        (_payload("seed sample").replace(b"3487", b"NaN"), "invalid"),
        (_payload("seed sample").replace(b"3487", b"Infinity"), "invalid"),
        (b"\xff\xfe" + _payload("seed sample"), "bad_json"),
    ],
)
def test_malformed_bytes_are_refused_with_a_kind(payload: bytes, kind: str, check: Check) -> None:
    result = check(TOPIC, payload, SEEN)
    assert isinstance(result, Rejection)
    assert result.reason.startswith(f"{kind}:"), result.reason
    assert _model_accepts(payload) is None


def test_huge_payload_is_refused_before_parsing(check: Check) -> None:
    doc = copy.deepcopy(SEED_TELEMETRY)
    doc["status"]["message"] = "x" * MAX_TELEMETRY_BYTES
    result = check(TOPIC, orjson.dumps(doc), SEEN)
    assert isinstance(result, Rejection)
    assert result.reason.startswith("too_large:")


@pytest.mark.parametrize(
    "topic",
    [
        b"og/field/TX-BRAVO/turbine/TURB-00912",
        b"og/field/WY-ALPHA/thermal_engine/TURB-00912",
        b"og/field/WY-ALPHA/turbine/TURB-00913",
        b"og/field/WY-ALPHA/turbine/TURB-00912/extra",
        b"og/field/WY-ALPHA/turbine",
    ],
)
def test_topic_must_name_the_payloads_device(topic: bytes, check: Check) -> None:
    result = check(topic, _payload("seed sample"), SEEN)
    assert isinstance(result, Rejection)
    assert result.reason.startswith("topic_mismatch:")


def test_a_partial_write_carries_the_changing_fields_only(check: Check) -> None:
    check(TOPIC, _payload("seed sample"), SEEN)
    result = check(TOPIC, _payload("metric as int"), "1763294402.000")
    assert not isinstance(result, Rejection)
    _, _, _, device, dynamic = result
    stored = _as_hash(render(device, dynamic, False).encode())
    full = _as_hash(render(device, dynamic, True).encode())
    assert set(stored) == {"_key", "ts", "seen", "state", "code", "msg"} | {
        f"m_{name}" for name in SEED_TELEMETRY["metrics"]
    }
    assert stored == {k: v for k, v in full.items() if k in stored}
    assert (stored["m_rpm"], stored["seen"]) == ("3000.0", "1763294402.000")


def test_a_cached_location_does_not_let_a_bool_through(check: Check) -> None:
    """``True == 1``: a device cached at lat 1 must not pass with lat true."""
    doc = copy.deepcopy(SEED_TELEMETRY)
    doc["location"] = {"lat": 1, "lon": 0}
    assert not isinstance(check(TOPIC, orjson.dumps(doc), SEEN), Rejection)
    doc["location"] = {"lat": True, "lon": 0}
    result = check(TOPIC, orjson.dumps(doc), SEEN)
    assert isinstance(result, Rejection) and result.reason.startswith("invalid:")


def test_slow_path_acceptance_is_also_topic_checked(check: Check) -> None:
    payload = _payload("timestamp with offset")
    assert not isinstance(check(TOPIC, payload, SEEN), Rejection)
    assert isinstance(check(b"og/field/X/turbine/TURB-00912", payload, SEEN), Rejection)
