"""Telemetry bytes -> a Redis HSET command for ``dev:{id}``, or the reason it is refused.

Why two paths: pydantic (tier0_common.schema.Telemetry) is the contract, but at
~30 us a message it would cap one worker far below the broker's rate. The fast path
recognises the canonical shape the simulators send (orjson, exact key sets, exact
types) in a few microseconds. It only ever *accepts*: anything it is not sure of (a
metric sent as ``"12.5"`` or ``true``, a timestamp with an offset or as epoch seconds,
bad JSON, a wrong type, a missing field) goes to the model, which decides and words
the reason. So ingest accepts and rejects exactly what the model does, plus two
transport rules the model cannot see: the size cap and the topic naming the same
site, type and device as the payload. tests/unit/ingest/test_mqtt_validate.py holds
both paths to the same cases.

The command is rendered here, not in the writer, so the per-message work happens in
one pass; its field values follow tier0_common.keys.DEVICE_FIELDS (numbers as Python
``repr`` of floats, times as epoch seconds with 3 decimals, tags as compact JSON).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
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


#: A message's values, validated, in the order _render takes them.
Fields = tuple[
    str, str, str, tuple[float, str], str, str, str, str, float, float, dict[str, str], list[str]
]
#: What check() returns for a good message: device id, site id, device time (epoch s)
#: and the complete RESP-encoded HSET.
Accepted = tuple[str, str, float, bytes]

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
_PREFIX_LEN: Final = len(DEVICE_PREFIX)
#: Bound on the caches of strings already proven valid (ids, timestamps).
_CACHE_LIMIT: Final = 1 << 20

# _render writes these fields by name; fail at import if the shared layout changes.
assert DEVICE_FIELDS == (
    "id", "type", "site", "ts", "seen", "fw", "state", "code", "msg", "lat", "lon", "tags"
), "validate._render must be updated with tier0_common.keys.DEVICE_FIELDS"  # fmt: skip


def _bulk(text: str) -> str:
    return f"${len(text.encode())}\r\n{text}\r\n"


#: Per type: metric names, their set, and each metric's RESP field-name bulk string.
_TYPES: Final[dict[str, tuple[tuple[str, ...], frozenset[str], tuple[str, ...]]]] = {
    device_type.value: (
        names, frozenset(names), tuple(_bulk(metric_field(name)) for name in names)
    )
    for device_type, names in METRICS.items()
}
#: RESP argument count of each type's HSET: command, key, then field/value pairs.
_ARGC: Final[dict[str, int]] = {
    name: 2 + 2 * (len(DEVICE_FIELDS) + len(spec[0])) for name, spec in _TYPES.items()
}
_NO_TAGS: Final[dict[str, str]] = {}

_good_ids: set[str] = set()
_good_times: dict[str, tuple[float, str]] = {}


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
    known = _good_times.get(value) if type(value) is str else None
    if known is not None:
        return known
    if type(value) is not str or not _ISO_Z.fullmatch(value):
        return None
    try:
        epoch = datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None
    if len(_good_times) >= 4096:
        _good_times.clear()
    known = _good_times[value] = (epoch, f"{epoch:.3f}")
    return known


def _fast(doc: object) -> Fields | None:
    """The canonical shape, or None to let the model decide. Checks are inlined: this
    runs for every message."""
    if type(doc) is not dict:
        return None
    keys = doc.keys()
    if keys != _TOP_KEYS and keys != _TOP_KEYS_NO_TAGS:
        return None
    device_type = doc["device_type"]
    spec = _TYPES.get(device_type) if type(device_type) is str else None
    device_id = doc["device_id"]
    site_id = doc["site_id"]
    metrics = doc["metrics"]
    status = doc["status"]
    location = doc["location"]
    firmware = doc["firmware"]
    tags = doc.get("tags", _NO_TAGS)
    when = _time(doc["timestamp_utc"])
    if (
        spec is None
        or when is None
        or not (device_id in _good_ids or _ident(device_id))
        or not (site_id in _good_ids or _ident(site_id))
        or type(firmware) is not str
        or not 0 < len(firmware) <= 32
        or type(metrics) is not dict
        or metrics.keys() != spec[1]
        or type(status) is not dict
        or status.keys() != _STATUS_KEYS
        or type(location) is not dict
        or location.keys() != _LOCATION_KEYS
        or type(tags) is not dict
    ):
        return None
    state = status["state"]
    code = status["code"]
    message = status["message"]
    lat = location["lat"]
    lon = location["lon"]
    if (
        state not in _STATES
        or type(code) is not str
        or not 0 < len(code) <= 64
        or type(message) is not str
        or len(message) > 256
        or type(lat) not in _NUMBER
        or type(lon) not in _NUMBER
        or not -90 <= lat <= 90
        or not -180 <= lon <= 180
    ):
        return None
    for value in tags.values():
        if type(value) is not str:
            return None
    values = []
    for name in spec[0]:
        value = metrics[name]
        # orjson never yields NaN or infinity (it refuses them), so any float is finite.
        kind = type(value)
        if kind is float:
            values.append(repr(value))
        elif kind is int:
            values.append(repr(float(value)))
        else:
            return None
    return (
        device_id, device_type, site_id, when, firmware, state, code, message,
        float(lat), float(lon), tags, values,
    )  # fmt: skip


def _render(fields: Fields, seen: str) -> Accepted:
    """The HSET as RESP bytes; one f-string for the fixed fields (the fastest way to
    build it in CPython), lengths from ``len`` when the free-text values are ASCII."""
    (device_id, device_type, site_id, when, firmware, state, code, message, lat, lon, tags,
     metric_values) = fields  # fmt: skip
    lat_text = repr(lat)
    lon_text = repr(lon)
    tags_text = orjson.dumps(tags).decode()
    if (firmware + code + message + tags_text).isascii():
        fw_len, code_len, msg_len, tags_len = len(firmware), len(code), len(message), len(tags_text)
    else:
        fw_len, code_len, msg_len, tags_len = (
            len(firmware.encode()), len(code.encode()), len(message.encode()),
            len(tags_text.encode()),
        )  # fmt: skip
    heads = _TYPES[device_type][2]
    ts_text = when[1]
    id_len = len(device_id)
    text = (
        f"*{_ARGC[device_type]}\r\n$4\r\nHSET\r\n"
        f"${id_len + _PREFIX_LEN}\r\n{DEVICE_PREFIX}{device_id}\r\n"
        f"$2\r\nid\r\n${id_len}\r\n{device_id}\r\n"
        f"$4\r\ntype\r\n${len(device_type)}\r\n{device_type}\r\n"
        f"$4\r\nsite\r\n${len(site_id)}\r\n{site_id}\r\n"
        f"$2\r\nts\r\n${len(ts_text)}\r\n{ts_text}\r\n"
        f"$4\r\nseen\r\n${len(seen)}\r\n{seen}\r\n"
        f"$2\r\nfw\r\n${fw_len}\r\n{firmware}\r\n"
        f"$5\r\nstate\r\n${len(state)}\r\n{state}\r\n"
        f"$4\r\ncode\r\n${code_len}\r\n{code}\r\n"
        f"$3\r\nmsg\r\n${msg_len}\r\n{message}\r\n"
        f"$3\r\nlat\r\n${len(lat_text)}\r\n{lat_text}\r\n"
        f"$3\r\nlon\r\n${len(lon_text)}\r\n{lon_text}\r\n"
        f"$4\r\ntags\r\n${tags_len}\r\n{tags_text}\r\n"
    ) + "".join(
        [f"{head}${len(value)}\r\n{value}\r\n" for head, value in zip(heads, metric_values)]
    )
    return device_id, site_id, when[0], text.encode()


def _slow(payload: bytes) -> Fields | Rejection:
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
    stamp = reading.timestamp_utc
    if stamp.tzinfo is None:
        # The model accepts a timestamp without an offset; the seed's are UTC.
        stamp = stamp.replace(tzinfo=UTC)
    epoch = stamp.timestamp()
    spec = _TYPES[reading.device_type.value]
    return (
        reading.device_id, reading.device_type.value, reading.site_id, (epoch, f"{epoch:.3f}"),
        reading.firmware, reading.status.state.value, reading.status.code,
        reading.status.message, reading.location.lat, reading.location.lon, reading.tags,
        [repr(float(reading.metrics[name])) for name in spec[0]],
    )  # fmt: skip


def check(topic: bytes, payload: bytes, seen: str) -> Accepted | Rejection:
    """Validate one telemetry message received on ``topic`` at ``seen`` (epoch text)."""
    if len(payload) > MAX_TELEMETRY_BYTES:
        return Rejection(f"too_large: {len(payload)} bytes > {MAX_TELEMETRY_BYTES}")
    try:
        fields: Fields | Rejection | None = _fast(orjson.loads(payload))
    except orjson.JSONDecodeError:
        fields = None
    if fields is None:
        fields = _slow(payload)
        if isinstance(fields, Rejection):
            return fields
    expected = f"{_TOPIC_PREFIX}{fields[2]}/{fields[1]}/{fields[0]}"
    if topic != expected.encode():
        shown = topic.decode(errors="replace")
        return Rejection(f"topic_mismatch: topic {shown!r} but payload is for {expected!r}")
    return _render(fields, seen)
