"""Telemetry bytes -> a validated reading of ``dev:{id}``, or the reason it is refused.

Why two paths: pydantic (tier0_common.schema.Telemetry) is the contract, but at
~30 us a message it would cap one worker far below the broker's rate. The fast path
recognises the canonical shape the simulators send (orjson, exact key sets, exact
types) in a few microseconds. It only ever *accepts*: anything it is not sure of (a
timestamp with an offset or as epoch seconds, an integer beyond 64 bits, bad JSON, a
wrong type, a missing field) goes to the model, which decides and words the reason.
So ingest accepts and rejects exactly what the model does, plus two transport rules
the model cannot see: the size cap and the topic naming the same site, type and
device as the payload. tests/unit/ingest/test_mqtt_validate.py holds both paths to
the same cases.

Why a per-device cache: a device's identity, firmware, location and tags almost
never change between readings, and its status rarely does. The last accepted values
are kept per device with their RESP text already rendered (``Device``); a reading
whose values *equal* the cached ones (dict and string equality, plus a type check on
the two location numbers, since ``True == 1``) skips their checks, and only the
timestamp, the metrics and a changed status are checked and rendered. The cached values
passed every check once, and equal values pass them again, so the verdict is the same.

The caches live in a :class:`Validator` (one per worker), not in module globals, so a
test or a second worker starts from nothing. Encoding the accepted values as Redis
wire text is redis_encoding.py's job; a good message comes out as a :class:`Reading`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final, NamedTuple

import orjson
from pydantic import ValidationError

from tier0_common.catalog import DeviceState
from tier0_common.schema import MAX_TELEMETRY_BYTES, Telemetry

from .redis_encoding import TYPES, Device, bulk, field, status_text


class Rejection:
    """Why a message was refused. ``reason`` reads ``<kind>: <detail>``; the kind is
    the dead-letter metric label (too_large, bad_json, invalid, topic_mismatch)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Rejection({self.reason!r})"


class Reading(NamedTuple):
    """A good message."""

    device_id: str
    site_id: str
    #: Device time, epoch seconds.
    time: float
    #: The device's cached values and their RESP text.
    device: Device
    #: RESP text of the fields every reading writes (ts, seen, metrics).
    dynamic: str


_new_reading: Final = tuple.__new__
_IDENT: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_ISO_Z: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")
_TOP_KEYS: Final = frozenset(
    ("device_id", "device_type", "site_id", "timestamp_utc", "firmware", "metrics", "status",
     "location", "tags")
)  # fmt: skip
_TOP_KEYS_NO_TAGS: Final = _TOP_KEYS - {"tags"}
_STATUS_KEYS: Final = frozenset(("state", "code", "message"))
_LOCATION_KEYS: Final = frozenset(("lat", "lon"))
_STATES: Final = frozenset(state.value for state in DeviceState)
_NUMBER: Final = (int, float)
_NO_TAGS: Final[dict[str, str]] = {}
#: Bound on the caches (devices, ids and timestamps already proven valid).
_CACHE_LIMIT: Final = 1 << 20
_TIME_CACHE_LIMIT: Final = 4096
#: Devices cached (~1.3 KB each: ~135 MB for the 100,000-device fleet). A larger fleet
#: per worker still works, with more readings taking the uncached checks.
_DEVICE_CACHE_LIMIT: Final = 200_000
#: Distinct statuses shared between devices.
_SHARED_LIMIT: Final = 4096


def _status_ok(status: object) -> bool:
    if type(status) is not dict or status.keys() != _STATUS_KEYS:
        return False
    code = status["code"]
    message = status["message"]
    return (
        status["state"] in _STATES
        and type(code) is str
        and 0 < len(code) <= 64
        and type(message) is str
        and len(message) <= 256
    )


class Validator:
    """Validates telemetry for one worker, remembering what it has already proven."""

    def __init__(self) -> None:
        self._devices: dict[str, Device] = {}
        self._good_ids: set[str] = set()
        #: Timestamp text -> (epoch seconds, the ``ts`` field and value as RESP).
        self._good_times: dict[str, tuple[float, str]] = {}
        #: The last ``seen`` text and its RESP field (one per batch of a socket read).
        self._seen: list[str] = ["", ""]
        #: Statuses (dict, RESP text) by text, shared by the devices that report them:
        #: most devices share a few (``TURB-OK``, "Nominal"), and one copy of each is
        #: most of the cache's memory at 100,000 devices.
        self._statuses: dict[str, tuple[dict[str, str], str]] = {}

    def check(self, topic: bytes, payload: bytes, seen: str) -> Reading | Rejection:
        """Validate one telemetry message received on ``topic`` at ``seen`` (epoch text)."""
        if len(payload) > MAX_TELEMETRY_BYTES:
            return Rejection(f"too_large: {len(payload)} bytes > {MAX_TELEMETRY_BYTES}")
        cached_seen = self._seen
        if cached_seen[0] != seen:
            cached_seen[0], cached_seen[1] = seen, field("seen", seen)
        try:
            result: Reading | Rejection | None = self._fast(orjson.loads(payload), cached_seen[1])
        except orjson.JSONDecodeError:
            result = None
        if result is None:
            result = self._slow(payload, cached_seen[1])
            if type(result) is Rejection:
                return result
        device = result.device  # type: ignore[union-attr]
        if topic != device.topic:
            shown = topic.decode(errors="replace")
            expected = device.topic.decode()
            return Rejection(f"topic_mismatch: topic {shown!r} but payload is for {expected!r}")
        return result

    def _status(self, status: dict[str, str]) -> tuple[dict[str, str], str]:
        text = status_text(status)
        shared = self._statuses.get(text)
        if shared is None and len(self._statuses) < _SHARED_LIMIT:
            shared = self._statuses[text] = (status, text)
        return shared or (status, text)

    def _ident(self, value: object) -> bool:
        good = self._good_ids
        if value in good:
            return True
        if type(value) is str and _IDENT.fullmatch(value):
            if len(good) >= _CACHE_LIMIT:
                good.clear()
            good.add(value)
            return True
        return False

    def _time(self, value: object) -> tuple[float, str] | None:
        if type(value) is not str:
            return None
        known = self._good_times.get(value)
        if known is not None:
            return known
        if not _ISO_Z.fullmatch(value):
            return None
        try:
            epoch = datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
        if len(self._good_times) >= _TIME_CACHE_LIMIT:
            self._good_times.clear()
        known = self._good_times[value] = (epoch, field("ts", f"{epoch:.3f}"))
        return known

    def _learn(self, doc: dict[str, object]) -> Device | None:
        """Check a device's slowly changing values in full; a new Device, or None to let
        the model decide."""
        device_type = doc["device_type"]
        device_id = doc["device_id"]
        site_id = doc["site_id"]
        firmware = doc["firmware"]
        location = doc["location"]
        status = doc["status"]
        tags = doc.get("tags", _NO_TAGS)
        if (
            type(device_type) is not str
            or device_type not in TYPES
            or not self._ident(device_id)
            or not self._ident(site_id)
            or type(firmware) is not str
            or not 0 < len(firmware) <= 32
            or type(location) is not dict
            or location.keys() != _LOCATION_KEYS
            or type(tags) is not dict
            or not _status_ok(status)
        ):
            return None
        lat = location["lat"]
        lon = location["lon"]
        if (
            type(lat) not in _NUMBER
            or type(lon) not in _NUMBER
            or not -90 <= lat <= 90
            or not -180 <= lon <= 180
        ):
            return None
        for value in tags.values():
            if type(value) is not str:
                return None
        device = Device(
            device_id, device_type, site_id, firmware, location, tags,  # type: ignore[arg-type]
            self._status(status),  # type: ignore[arg-type]
        )  # fmt: skip
        if len(self._devices) >= _DEVICE_CACHE_LIMIT:
            self._devices.clear()
        return device

    def _fast(self, doc: object, seen_field: str) -> Reading | None:
        """The canonical shape, or None to let the model decide. Checks are inlined: this
        runs for every message."""
        if type(doc) is not dict:
            return None
        keys = doc.keys()
        if keys != _TOP_KEYS and keys != _TOP_KEYS_NO_TAGS:
            return None
        device_id = doc["device_id"]
        device = self._devices.get(device_id) if type(device_id) is str else None
        location = doc["location"]
        if (
            device is None
            or doc["device_type"] != device.device_type
            or doc["site_id"] != device.site_id
            or doc["firmware"] != device.firmware
            or location != device.location
            # Equal to numbers, but True == 1: the model refuses a bool.
            or type(location["lat"]) is bool
            or type(location["lon"]) is bool
            or doc.get("tags", _NO_TAGS) != device.tags
        ):
            device = self._learn(doc)
            if device is None:
                return None
        elif doc["status"] != device.status:
            status = doc["status"]
            if not _status_ok(status):
                return None
            device = device.with_status(self._status(status))
        when = self._time(doc["timestamp_utc"])
        metrics = doc["metrics"]
        spec = TYPES[device.device_type]
        if when is None or type(metrics) is not dict or metrics.keys() != spec[1]:
            return None
        parts = [when[1], seen_field]
        for head, name in zip(spec[2], spec[0], strict=True):
            value = metrics[name]
            # orjson never yields NaN or infinity (it refuses them), so any float is finite.
            kind = type(value)
            if kind is float:
                text = repr(value)
            elif kind is int:
                text = repr(float(value))
            else:
                return None
            parts.append(f"{head}${len(text)}\r\n{text}\r\n")
        self._devices[device_id] = device
        # tuple.__new__ skips the NamedTuple's Python-level __new__: this is per message.
        return _new_reading(Reading, (device_id, device.site_id, when[0], device, "".join(parts)))

    def _slow(self, payload: bytes, seen_field: str) -> Reading | Rejection:
        """The model's verdict, for everything the fast path did not recognise."""
        try:
            reading = Telemetry.model_validate_json(payload)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            kind = "bad_json" if first["type"] == "json_invalid" else "invalid"
            detail = f"{where}: {first['msg']}" if where else first["msg"]
            more = exc.error_count() - 1
            return Rejection(f"{kind}: {detail}" + (f" (+{more} more)" if more else ""))
        epoch = reading.timestamp_utc.timestamp()
        device_type = reading.device_type.value
        status = reading.status
        device = Device(
            reading.device_id, device_type, reading.site_id, reading.firmware,
            {"lat": reading.location.lat, "lon": reading.location.lon}, reading.tags,
            self._status(
                {"state": status.state.value, "code": status.code, "message": status.message}
            ),
        )  # fmt: skip
        names, _, heads = TYPES[device_type]
        values = [repr(float(reading.metrics[name])) for name in names]
        dynamic = (
            field("ts", f"{epoch:.3f}")
            + seen_field
            + "".join(head + bulk(value) for head, value in zip(heads, values, strict=True))
        )
        return Reading(reading.device_id, reading.site_id, epoch, device, dynamic)
