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

Field values follow tier0_common.keys.DEVICE_FIELDS (numbers as Python ``repr`` of
floats, times as epoch seconds with 3 decimals, tags as compact JSON). Rendering the
final HSET (whole or only what changed) is the writer's job: ``render``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

import orjson
from pydantic import ValidationError

from tier0_common.catalog import METRICS, TOPIC_ROOT, DeviceState
from tier0_common.keys import DEVICE_FIELDS, DEVICE_PREFIX, metric_field
from tier0_common.schema import MAX_TELEMETRY_BYTES, Telemetry


class Rejection:
    """Why a message was refused. ``reason`` reads ``<kind>: <detail>``; the kind is
    the dead-letter metric label (too_large, bad_json, invalid, topic_mismatch)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Rejection({self.reason!r})"


class Device:
    """One device's slowly changing values, validated, with their RESP text.

    Immutable once built: a changed status or static value makes a new ``Device``, so a
    reading waiting in a batch keeps the values it arrived with. ``static`` (id, type,
    site, fw, lat, lon, tags as field/value bulk strings) is shared between a device's
    snapshots while those values do not change, so the writer can tell by identity
    that Redis already holds it.
    """

    __slots__ = (
        "device_id", "device_type", "site_id", "firmware", "location", "tags", "status",
        "topic", "key", "static", "status_text", "heads",
    )  # fmt: skip

    def __init__(
        self,
        device_id: str,
        device_type: str,
        site_id: str,
        firmware: str,
        location: dict[str, float],
        tags: dict[str, str],
        status: dict[str, str],
        static: str | None = None,
    ) -> None:
        self.device_id = device_id
        self.device_type = device_type
        self.site_id = site_id
        self.firmware = firmware
        self.location = location
        self.tags = tags
        self.status = status
        self.topic = f"{_TOPIC_PREFIX}{site_id}/{device_type}/{device_id}".encode()
        self.key = _bulk(DEVICE_PREFIX + device_id)
        self.heads = _TYPES[device_type][2]
        self.static = static if static is not None else (
            _field("id", device_id) + _field("type", device_type) + _field("site", site_id)
            + _field("fw", firmware) + _field("lat", repr(float(location["lat"])))
            + _field("lon", repr(float(location["lon"])))
            + _field("tags", orjson.dumps(tags).decode())
        )  # fmt: skip
        status_text = (
            _field("state", status["state"]) + _field("code", status["code"])
            + _field("msg", status["message"])
        )  # fmt: skip
        # Most devices share a few statuses (``TURB-OK``, "Nominal") and tag sets: keep
        # one copy of each, which is most of the cache's memory at 100,000 devices.
        shared = _shared_status.get(status_text)
        if shared is None and len(_shared_status) < _SHARED_LIMIT:
            shared = _shared_status[status_text] = (status, status_text)
        self.status, self.status_text = shared or (status, status_text)

    def with_status(self, status: dict[str, str]) -> Device:
        return Device(
            self.device_id, self.device_type, self.site_id, self.firmware, self.location,
            self.tags, status, self.static,
        )  # fmt: skip


#: A good message: device id, site id, device time (epoch s), the device's cached
#: values, and the RESP text of the fields every reading writes (ts, seen, metrics).
Reading = tuple[str, str, float, Device, str]

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
_TOPIC_PREFIX: Final = TOPIC_ROOT + "/"
_NUMBER: Final = (int, float)
#: Bound on the caches (devices, ids and timestamps already proven valid).
_CACHE_LIMIT: Final = 1 << 20
_TIME_CACHE_LIMIT: Final = 4096
#: Devices cached (~1.3 KB each: ~135 MB for the 100,000-device fleet). A larger fleet
#: per worker still works, with more readings taking the uncached checks.
_DEVICE_CACHE_LIMIT: Final = 200_000

# Device and render write these fields by name; fail at import if the layout changes.
assert DEVICE_FIELDS == (
    "id", "type", "site", "ts", "seen", "fw", "state", "code", "msg", "lat", "lon", "tags"
), "validate.Device and render must be updated with tier0_common.keys.DEVICE_FIELDS"  # fmt: skip


def _bulk(text: str) -> str:
    return f"${len(text.encode())}\r\n{text}\r\n"


def _field(name: str, value: str) -> str:
    return _bulk(name) + _bulk(value)


#: Statuses (dict, RESP text) by text, shared by the devices that report them.
_shared_status: dict[str, tuple[dict[str, str], str]] = {}
_SHARED_LIMIT: Final = 4096

#: Per type: metric names, their set, and each metric's RESP field-name bulk string.
_TYPES: Final[dict[str, tuple[tuple[str, ...], frozenset[str], tuple[str, ...]]]] = {
    device_type.value: (names, frozenset(names), tuple(_bulk(metric_field(name)) for name in names))
    for device_type, names in METRICS.items()
}
#: Fields every write carries besides the metrics (ts, seen, state, code, msg) and the
#: static ones written when Redis may not hold them (id, type, site, fw, lat, lon, tags).
_DYNAMIC_FIELDS: Final = 5
_STATIC_FIELDS: Final = len(DEVICE_FIELDS) - _DYNAMIC_FIELDS
#: RESP headers per (type, static included): ``*argc`` and the command name.
_HEADERS: Final[dict[tuple[str, bool], str]] = {
    (name, full): (
        f"*{2 + 2 * (_DYNAMIC_FIELDS + len(spec[0]) + (_STATIC_FIELDS if full else 0))}"
        "\r\n$4\r\nHSET\r\n"
    )
    for name, spec in _TYPES.items()
    for full in (False, True)
}
_NO_TAGS: Final[dict[str, str]] = {}

_devices: dict[str, Device] = {}
_good_ids: set[str] = set()
#: Timestamp text -> (epoch seconds, the ``ts`` field and value as RESP).
_good_times: dict[str, tuple[float, str]] = {}
_seen_field: list[str] = ["", ""]


def render(device: Device, dynamic: str, full: bool) -> str:
    """The ``HSET dev:{id}`` of one reading as RESP text; ``full`` adds the static fields
    (id, type, site, fw, lat, lon, tags), which Redis keeps between writes otherwise."""
    if full:
        return f"{_HEADERS[device.device_type, True]}{device.key}{device.static}{device.status_text}{dynamic}"
    return f"{_HEADERS[device.device_type, False]}{device.key}{device.status_text}{dynamic}"


def forget_devices() -> None:
    """Drop the per-device cache (tests; memory is otherwise bounded by _CACHE_LIMIT)."""
    _devices.clear()


def _ident(value: object) -> bool:
    if value in _good_ids:
        return True
    if type(value) is str and _IDENT.fullmatch(value):
        if len(_good_ids) >= _CACHE_LIMIT:
            _good_ids.clear()
        _good_ids.add(value)
        return True
    return False


def _time(value: object) -> tuple[float, str] | None:
    if type(value) is not str:
        return None
    known = _good_times.get(value)
    if known is not None:
        return known
    if not _ISO_Z.fullmatch(value):
        return None
    try:
        epoch = datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None
    if len(_good_times) >= _TIME_CACHE_LIMIT:
        _good_times.clear()
    known = _good_times[value] = (epoch, _field("ts", f"{epoch:.3f}"))
    return known


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


def _learn(doc: dict[str, object]) -> Device | None:
    """Check a device's slowly changing values in full; a new Device, or None to let the
    model decide."""
    device_type = doc["device_type"]
    device_id = doc["device_id"]
    site_id = doc["site_id"]
    firmware = doc["firmware"]
    location = doc["location"]
    status = doc["status"]
    tags = doc.get("tags", _NO_TAGS)
    if (
        type(device_type) is not str
        or device_type not in _TYPES
        or not _ident(device_id)
        or not _ident(site_id)
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
    device = Device(device_id, device_type, site_id, firmware, location, tags, status)  # type: ignore[arg-type]
    if len(_devices) >= _DEVICE_CACHE_LIMIT:
        _devices.clear()
    return device


def _fast(doc: object, seen_field: str) -> Reading | None:
    """The canonical shape, or None to let the model decide. Checks are inlined: this
    runs for every message."""
    if type(doc) is not dict:
        return None
    keys = doc.keys()
    if keys != _TOP_KEYS and keys != _TOP_KEYS_NO_TAGS:
        return None
    device_id = doc["device_id"]
    device = _devices.get(device_id) if type(device_id) is str else None
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
        device = _learn(doc)
        if device is None:
            return None
    elif doc["status"] != device.status:
        status = doc["status"]
        if not _status_ok(status):
            return None
        device = device.with_status(status)
    when = _time(doc["timestamp_utc"])
    metrics = doc["metrics"]
    spec = _TYPES[device.device_type]
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
    _devices[device_id] = device
    return device_id, device.site_id, when[0], device, "".join(parts)


def _slow(payload: bytes, seen_field: str) -> Reading | Rejection:
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
        {"state": status.state.value, "code": status.code, "message": status.message},
    )  # fmt: skip
    names, _, heads = _TYPES[device_type]
    values = [repr(float(reading.metrics[name])) for name in names]
    dynamic = (
        _field("ts", f"{epoch:.3f}")
        + seen_field
        + "".join(head + _bulk(value) for head, value in zip(heads, values, strict=True))
    )
    return reading.device_id, reading.site_id, epoch, device, dynamic


def check(topic: bytes, payload: bytes, seen: str) -> Reading | Rejection:
    """Validate one telemetry message received on ``topic`` at ``seen`` (epoch text)."""
    if len(payload) > MAX_TELEMETRY_BYTES:
        return Rejection(f"too_large: {len(payload)} bytes > {MAX_TELEMETRY_BYTES}")
    cached_seen = _seen_field
    if cached_seen[0] != seen:
        cached_seen[0], cached_seen[1] = seen, _field("seen", seen)
    try:
        result: Reading | Rejection | None = _fast(orjson.loads(payload), cached_seen[1])
    except orjson.JSONDecodeError:
        result = None
    if result is None:
        result = _slow(payload, cached_seen[1])
        if type(result) is Rejection:
            return result
    device = result[3]  # type: ignore[index]
    if topic != device.topic:
        shown = topic.decode(errors="replace")
        expected = device.topic.decode()
        return Rejection(f"topic_mismatch: topic {shown!r} but payload is for {expected!r}")
    return result
