"""The simulated fleet: identities from the shared catalogue, metrics from the models,
payloads in the seed's exact shape, and the ground truth a test can compute.

Identity (id, type, site, topic) comes from tier0_common.catalog.device_identity, so
ingest, the API and the tests agree on it without talking. A shard is a contiguous
slice of device indexes; the models advance the whole fleet each round so a device's
readings do not depend on how the fleet is sharded.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from tier0_common.catalog import (
    DEVICE_TYPES,
    SITES_BY_ID,
    DeviceIdentity,
    device_identity,
)

from .models import FAULT_RATE, TypeFleet, ok_status

FIRMWARE: Final = ("3.2.1", "3.2.0", "3.1.4", "2.9.8")
VENDORS: Final = ("HanTech", "Siemens", "GE", "ABB", "Baker")
#: How many payloads share one timestamp string (formatting one costs more than a dict).
STAMP_EVERY: Final = 256


@dataclass(frozen=True)
class Shard:
    index: int = 0
    count: int = 1

    def bounds(self, fleet_size: int) -> range:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard index {self.index} outside 0..{self.count - 1}")
        start = fleet_size * self.index // self.count
        return range(start, fleet_size * (self.index + 1) // self.count)


@dataclass(frozen=True, slots=True)
class DeviceStatic:
    identity: DeviceIdentity
    topic: bytes
    firmware: str
    location: dict[str, float]
    tags: dict[str, str]


def _statics(indexes: range, fleet_size: int, num_sites: int, seed: int) -> list[DeviceStatic]:
    out = []
    for index in indexes:
        identity = device_identity(index, fleet_size, num_sites)
        site = SITES_BY_ID[identity.site_id]
        # Per-device constants from their own generator: stable whatever the shard.
        rng = random.Random(f"{seed}:{index}")
        out.append(
            DeviceStatic(
                identity=identity,
                topic=identity.topic.encode(),
                firmware=rng.choice(FIRMWARE),
                location={
                    "lat": round(site.lat + rng.uniform(-0.05, 0.05), 4),
                    "lon": round(site.lon + rng.uniform(-0.05, 0.05), 4),
                },
                tags={
                    "vendor": rng.choice(VENDORS),
                    "loop": f"{'ABCD'[rng.randrange(4)]}{rng.randint(1, 9)}",
                },
            )
        )
    return out


class Fleet:
    """One shard's devices; ``advance(round)`` then ``payloads(clock)`` per round."""

    def __init__(
        self,
        fleet_size: int,
        num_sites: int,
        seed: int,
        shard: Shard = Shard(),
        fault_rate: float = FAULT_RATE,
    ) -> None:
        if fleet_size < 1:
            raise ValueError("the fleet needs at least one device")
        self.fleet_size = fleet_size
        self.num_sites = num_sites
        self.seed = seed
        self.indexes = shard.bounds(fleet_size)
        self.devices = _statics(self.indexes, fleet_size, num_sites, seed)
        self.types = {
            device_type: TypeFleet(
                device_type, len(range(offset, fleet_size, len(DEVICE_TYPES))), seed, fault_rate
            )
            for offset, device_type in enumerate(DEVICE_TYPES)
        }
        self._ok = {device_type: ok_status(device_type) for device_type in DEVICE_TYPES}
        self.rounds_done = 0

    def __len__(self) -> int:
        return len(self.devices)

    def advance(self, round_number: int) -> None:
        for fleet in self.types.values():
            fleet.step(round_number)
        self.rounds_done = round_number + 1

    def payloads(
        self, clock: Callable[[], str] | None = None
    ) -> Iterator[tuple[bytes, dict[str, Any]]]:
        """``(topic, payload)`` for every device of the shard, at the current round.

        ``clock`` gives ``timestamp_utc``; it is asked every STAMP_EVERY devices. Without
        one the key is left out (the ground truth of expected_final_states).
        """
        width = len(DEVICE_TYPES)
        rows = {t: f.values.tolist() for t, f in self.types.items()}
        names = {t: f.names for t, f in self.types.items()}
        statuses = {t: f.statuses() for t, f in self.types.items()}
        stamp = clock() if clock else None
        for position, device in enumerate(self.devices):
            if clock is not None and position % STAMP_EVERY == 0 and position:
                stamp = clock()
            identity = device.identity
            device_type = identity.device_type
            row = identity.index // width
            payload: dict[str, Any] = {
                "device_id": identity.device_id,
                "device_type": device_type.value,
                "site_id": identity.site_id,
            }
            if stamp is not None:
                payload["timestamp_utc"] = stamp
            payload["firmware"] = device.firmware
            payload["metrics"] = dict(zip(names[device_type], rows[device_type][row], strict=True))
            payload["status"] = statuses[device_type].get(row) or self._ok[device_type]
            payload["location"] = device.location
            payload["tags"] = device.tags
            yield device.topic, payload

    def state_counts(self) -> dict[str, int]:
        """Devices of the whole fleet per state after the current round (for metrics)."""
        counts = {"OK": 0, "WARN": 0, "ALERT": 0}
        for fleet in self.types.values():
            for status in fleet.statuses().values():
                counts[status["state"]] += 1
        counts["OK"] = self.fleet_size - counts["WARN"] - counts["ALERT"]
        return counts


def expected_final_states(
    fleet_size: int,
    num_sites: int,
    seed: int,
    rounds: int,
    shard: Shard = Shard(),
    fault_rate: float = FAULT_RATE,
) -> dict[str, dict[str, Any]]:
    """What each device of the shard sent last after ``rounds`` rounds, by device id,
    without ``timestamp_utc`` (wall clock). A pure function of the simulator's arguments."""
    if rounds < 1:
        return {}
    fleet = Fleet(fleet_size, num_sites, seed, shard, fault_rate)
    for round_number in range(rounds):
        fleet.advance(round_number)
    return {payload["device_id"]: payload for _, payload in fleet.payloads()}
