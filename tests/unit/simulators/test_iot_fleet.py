"""The IoT fleet: identities, payload shape, determinism, sharding, faults and recovery."""

from __future__ import annotations

from collections import Counter

import pytest

from tier0_common.catalog import METRICS, DeviceType, device_identity
from tier0_common.schema import Telemetry
from tier0_simulators.iot.__main__ import Clock
from tier0_simulators.iot.fleet import Fleet, Shard, expected_final_states
from tier0_simulators.iot.models import MODELS


def _round(fleet: Fleet, number: int) -> list[tuple[bytes, dict]]:
    fleet.advance(number)
    return list(fleet.payloads(lambda: "2025-11-16T12:00:00.000Z"))


def test_payloads_validate_and_match_the_catalogue() -> None:
    fleet = Fleet(400, 10, seed=1)
    for topic, payload in _round(fleet, 0):
        reading = Telemetry.model_validate(payload)
        number = int(reading.device_id.split("-")[1])
        index = number * 4 + list(DeviceType).index(reading.device_type)
        identity = device_identity(index, 400, 10)
        assert (reading.device_id, reading.device_type, reading.site_id) == (
            identity.device_id, identity.device_type, identity.site_id,
        )  # fmt: skip
        assert topic == identity.topic.encode()
        assert list(payload) == [
            "device_id", "device_type", "site_id", "timestamp_utc", "firmware", "metrics",
            "status", "location", "tags",
        ]  # fmt: skip
        assert tuple(payload["metrics"]) == METRICS[reading.device_type]


def test_fleet_splits_evenly_over_types_and_sites() -> None:
    fleet = Fleet(100_000, 10, seed=1)
    types = Counter(d.identity.device_type for d in fleet.devices)
    sites = Counter(d.identity.site_id for d in fleet.devices)
    assert set(types.values()) == {25_000}
    assert len(sites) == 10 and set(sites.values()) == {10_000}


def test_same_seed_same_readings_other_seed_other_readings() -> None:
    a = _round(Fleet(200, 10, seed=5), 0)
    b = _round(Fleet(200, 10, seed=5), 0)
    c = _round(Fleet(200, 10, seed=6), 0)
    assert a == b
    assert a != c


def test_shards_publish_exactly_what_one_process_would() -> None:
    whole = Fleet(1_003, 10, seed=9)
    shards = [Fleet(1_003, 10, seed=9, shard=Shard(i, 3)) for i in range(3)]
    for number in range(3):
        expected = _round(whole, number)
        got = [item for shard in shards for item in _round(shard, number)]
        assert got == expected
    assert sum(len(s) for s in shards) == 1_003


def test_devices_fault_with_matching_codes_and_recover() -> None:
    fleet = Fleet(20_000, 10, seed=3)
    histories: dict[tuple[DeviceType, int], list[tuple[int, str]]] = {}
    rounds = 80
    for number in range(rounds):
        fleet.advance(number)
        for device_type, model_fleet in fleet.types.items():
            for row, status in model_fleet.statuses().items():
                histories.setdefault((device_type, row), []).append((number, status["state"]))
                limit = next(
                    lim for lim in MODELS[device_type].limits if f"-{lim.stem}-" in status["code"]
                )
                assert status["code"].endswith(f"-{status['state']}")
                value = float(model_fleet.values[row, model_fleet.names.index(limit.metric)])
                bound = limit.alert if status["state"] == "ALERT" else limit.warn
                assert (value > bound) if limit.high else (value < bound), (status, value)
                assert f"{value:g}" in status["message"]
    states = {state for history in histories.values() for _, state in history}
    assert states == {"WARN", "ALERT"}
    # Recovered: faulted after round 0 and OK again (absent from statuses) before the end.
    recovered = [h for h in histories.values() if h[0][0] > 0 and h[-1][0] < rounds - 1]
    assert recovered, "some device should fault and come back to OK"
    assert len(histories) < 0.05 * 20_000, "faults should stay rare"


def test_expected_final_states_equal_the_last_round_sent() -> None:
    fleet = Fleet(120, 4, seed=11, shard=Shard(1, 2))
    for number in range(4):
        last = _round(fleet, number)
    expected = expected_final_states(120, 4, 11, 4, Shard(1, 2))
    sent = {p["device_id"]: {k: v for k, v in p.items() if k != "timestamp_utc"} for _, p in last}
    assert sent == expected


def test_clock_is_strictly_later_each_round() -> None:
    clock = Clock()
    stamps = []
    for _ in range(5):
        clock.new_round()
        stamps.append(clock())
    assert stamps == sorted(stamps) and len(set(stamps)) == 5
    assert all(s.endswith("Z") and len(s) == 24 for s in stamps)


def test_bad_shard_is_refused() -> None:
    with pytest.raises(ValueError):
        Fleet(10, 1, seed=1, shard=Shard(2, 2))


def test_a_high_fault_rate_makes_a_small_fleet_fault_with_matching_statuses() -> None:
    """FAULT_RATE is what lets an end-to-end test with 40 devices and 3 rounds see
    WARN and ALERT devices; their codes and messages must match their metrics."""
    fleet = Fleet(40, 4, seed=7, fault_rate=0.5)
    seen_states: set[str] = set()
    for number in range(3):
        for _, payload in _round(fleet, number):
            status = payload["status"]
            seen_states.add(status["state"])
            if status["state"] == "OK":
                assert status["code"].endswith("-OK") and status["message"] == "Nominal"
                continue
            device_type = DeviceType(payload["device_type"])
            limit = next(
                lim for lim in MODELS[device_type].limits if f"-{lim.stem}-" in status["code"]
            )
            assert (
                status["code"] == f"{status['code'].split('-')[0]}-{limit.stem}-{status['state']}"
            )
            value = payload["metrics"][limit.metric]
            bound = limit.alert if status["state"] == "ALERT" else limit.warn
            assert (value > bound) if limit.high else (value < bound), (status, value)
            assert f"{value:g}" in status["message"]
            Telemetry.model_validate({**payload, "timestamp_utc": "2025-11-16T12:00:00Z"})
    assert {"WARN", "ALERT"} <= seen_states
    calm = Fleet(40, 4, seed=7, fault_rate=0.0)
    for number in range(3):
        assert all(p["status"]["state"] == "OK" for _, p in _round(calm, number))


def test_the_fault_rate_is_part_of_the_ground_truth() -> None:
    fleet = Fleet(40, 4, seed=7, fault_rate=0.5)
    for number in range(3):
        last = _round(fleet, number)
    sent = {p["device_id"]: {k: v for k, v in p.items() if k != "timestamp_utc"} for _, p in last}
    assert expected_final_states(40, 4, 7, 3, fault_rate=0.5) == sent
    assert expected_final_states(40, 4, 7, 3) != sent
