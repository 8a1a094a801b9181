"""A device's reading as the Redis wire bytes of its ``HSET dev:{id}`` (RESP text).

Why pre-rendered RESP: the writer sends each batch as one buffer of commands rendered
here (writer.py measures the difference: about twice the throughput of redis-py
building the same commands). The slowly changing values of a device (identity,
firmware, location, tags, status) are rendered once into its :class:`Device` and
reused until they change; every reading adds only its timestamp, ``seen`` and
metrics. Field names and value formats follow tier0_common.keys.DEVICE_FIELDS
(numbers as Python ``repr`` of floats, times as epoch seconds with 3 decimals, tags
as compact JSON). validate.py decides what is valid; this module only encodes.
"""

from __future__ import annotations

from typing import Final

import orjson

from tier0_common.catalog import METRICS, TOPIC_ROOT
from tier0_common.keys import DEVICE_FIELDS, DEVICE_PREFIX, metric_field

# Device and render write these fields by name; fail at import if the layout changes.
assert DEVICE_FIELDS == (
    "id", "type", "site", "ts", "seen", "fw", "state", "code", "msg", "lat", "lon", "tags"
), "redis_encoding.Device and render must follow tier0_common.keys.DEVICE_FIELDS"  # fmt: skip

TOPIC_PREFIX: Final = TOPIC_ROOT + "/"


def bulk(text: str) -> str:
    """One RESP bulk string."""
    return f"${len(text.encode())}\r\n{text}\r\n"


def field(name: str, value: str) -> str:
    """A hash field and its value, as two bulk strings."""
    return bulk(name) + bulk(value)


def status_text(status: dict[str, str]) -> str:
    """The ``state``, ``code`` and ``msg`` fields of a device status."""
    return (
        field("state", status["state"]) + field("code", status["code"])
        + field("msg", status["message"])
    )  # fmt: skip


#: Per device type: metric names, their set, and each metric's field-name bulk string.
TYPES: Final[dict[str, tuple[tuple[str, ...], frozenset[str], tuple[str, ...]]]] = {
    device_type.value: (names, frozenset(names), tuple(bulk(metric_field(name)) for name in names))
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
    for name, spec in TYPES.items()
    for full in (False, True)
}


class Device:
    """One device's slowly changing values, validated, with their RESP text.

    Immutable once built: a changed status or static value makes a new ``Device``, so a
    reading waiting in a batch keeps the values it arrived with. ``static`` (id, type,
    site, fw, lat, lon, tags as field/value bulk strings) is shared between a device's
    snapshots while those values do not change, so the writer can tell by identity
    that Redis already holds it. ``status`` and ``status_text`` come as one pair so
    the validator can share a single copy of the common ones (validate.StatusTexts).
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
        status: tuple[dict[str, str], str],
        static: str | None = None,
    ) -> None:
        self.device_id = device_id
        self.device_type = device_type
        self.site_id = site_id
        self.firmware = firmware
        self.location = location
        self.tags = tags
        self.topic = f"{TOPIC_PREFIX}{site_id}/{device_type}/{device_id}".encode()
        self.key = bulk(DEVICE_PREFIX + device_id)
        self.heads = TYPES[device_type][2]
        self.static = static if static is not None else (
            field("id", device_id) + field("type", device_type) + field("site", site_id)
            + field("fw", firmware) + field("lat", repr(float(location["lat"])))
            + field("lon", repr(float(location["lon"])))
            + field("tags", orjson.dumps(tags).decode())
        )  # fmt: skip
        self.status, self.status_text = status

    def with_status(self, status: tuple[dict[str, str], str]) -> Device:
        return Device(
            self.device_id, self.device_type, self.site_id, self.firmware, self.location,
            self.tags, status, self.static,
        )  # fmt: skip


def render(device: Device, dynamic: str, full: bool) -> str:
    """The ``HSET dev:{id}`` of one reading as RESP text; ``full`` adds the static fields
    (id, type, site, fw, lat, lon, tags), which Redis keeps between writes otherwise."""
    if full:
        return f"{_HEADERS[device.device_type, True]}{device.key}{device.static}{device.status_text}{dynamic}"
    return f"{_HEADERS[device.device_type, False]}{device.key}{device.status_text}{dynamic}"
