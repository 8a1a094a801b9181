"""The payload models accept the seed's samples and reject what ingest must set aside."""

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from tests.support.payloads import SEED_ACTIVITY, SEED_TELEMETRY
from tier0_common.schema import Telemetry, UserActivity


def test_seed_samples_validate() -> None:
    telemetry = Telemetry.model_validate(SEED_TELEMETRY)
    assert telemetry.metrics["rpm"] == 3487
    assert UserActivity.model_validate(SEED_ACTIVITY).metrics.active_users == 324


def _mutated(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SEED_TELEMETRY)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    "path,value",
    [
        (("device_type",), "windmill"),
        (("metrics", "rpm"), "fast"),
        (("metrics", "rpm"), "3487.5"),
        (("metrics", "rpm"), True),
        (("location", "lon"), "-106.3"),
        (("location", "lat"), False),
        (("timestamp_utc",), "2025-11-16T12:00:00"),
        (("metrics", "rpm"), float("nan")),
        (("metrics", "power_kw"), KeyError),
        (("metrics", "coolant_temp_c"), 10.0),
        (("status", "state"), "BROKEN"),
        (("location", "lat"), 123.0),
        (("timestamp_utc",), "yesterday"),
        (("device_id",), ""),
        (("device_id",), "TURB 1; DROP"),
        (("firmware",), KeyError),
        (("unexpected",), 1),
    ],
)
def test_invalid_telemetry_is_rejected(path: tuple[str, ...], value: Any) -> None:
    with pytest.raises(ValidationError):
        Telemetry.model_validate(_mutated(path, value))


def test_negative_user_counts_are_rejected() -> None:
    doc = copy.deepcopy(SEED_ACTIVITY)
    doc["metrics"]["active_users"] = -1
    with pytest.raises(ValidationError):
        UserActivity.model_validate(doc)


def test_numbers_may_be_ints_and_times_may_carry_an_offset() -> None:
    doc = _mutated(("metrics", "rpm"), 3000)
    doc["location"]["lat"] = 43
    doc["timestamp_utc"] = "2025-11-16T14:00:00+02:00"
    telemetry = Telemetry.model_validate(doc)
    assert telemetry.metrics["rpm"] == 3000.0 and telemetry.location.lat == 43.0
    assert telemetry.timestamp_utc.timestamp() == 1763294400
