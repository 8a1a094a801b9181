"""The fleet catalogue: device types, sites, metric names and device identities.

Why a module of its own: the simulator, the ingest workers, the region API and the
tests must agree on which device index maps to which id, type and site, without
exchanging anything at run time. A pure function of (index, fleet size, sites) gives
every component the same answer, so an end-to-end test can compute what it expects
from the simulator's arguments alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class DeviceType(StrEnum):
    TURBINE = "turbine"
    THERMAL_ENGINE = "thermal_engine"
    ELECTRICAL_ROTOR = "electrical_rotor"
    OIL_GAS_SENSOR = "oil_gas_sensor"


class DeviceState(StrEnum):
    OK = "OK"
    WARN = "WARN"
    ALERT = "ALERT"


#: Device-id prefix per type; the seed's sample id is ``TURB-00912``.
ID_PREFIX: Final[dict[DeviceType, str]] = {
    DeviceType.TURBINE: "TURB",
    DeviceType.THERMAL_ENGINE: "THRM",
    DeviceType.ELECTRICAL_ROTOR: "ROTR",
    DeviceType.OIL_GAS_SENSOR: "OGS",
}

#: Metric names per type. Ingest validates against these, the API aggregates them.
METRICS: Final[dict[DeviceType, tuple[str, ...]]] = {
    DeviceType.TURBINE: (
        "rpm",
        "inlet_temp_c",
        "exhaust_temp_c",
        "vibration_mm_s",
        "pressure_bar",
        "power_kw",
    ),
    DeviceType.THERMAL_ENGINE: (
        "rpm",
        "coolant_temp_c",
        "oil_temp_c",
        "oil_pressure_bar",
        "fuel_flow_lph",
        "load_pct",
    ),
    DeviceType.ELECTRICAL_ROTOR: (
        "rpm",
        "winding_temp_c",
        "current_a",
        "voltage_v",
        "vibration_mm_s",
        "insulation_mohm",
    ),
    DeviceType.OIL_GAS_SENSOR: (
        "pressure_bar",
        "flow_rate_m3h",
        "temp_c",
        "h2s_ppm",
        "methane_ppm",
        "valve_open_pct",
    ),
}

#: Every metric name any type uses, in a stable order (Redis hash fields ``m_<name>``).
ALL_METRICS: Final[tuple[str, ...]] = tuple(
    dict.fromkeys(name for names in METRICS.values() for name in names)
)


@dataclass(frozen=True, slots=True)
class Site:
    site_id: str
    name: str
    lat: float
    lon: float


#: The ten field sites. WY-ALPHA is the seed's sample site.
SITES: Final[tuple[Site, ...]] = (
    Site("WY-ALPHA", "Wyoming Alpha", 43.4231, -106.3148),
    Site("TX-BRAVO", "Texas Bravo", 31.9686, -102.0779),
    Site("ND-CHARLIE", "North Dakota Charlie", 47.9253, -103.2360),
    Site("OK-DELTA", "Oklahoma Delta", 35.4676, -97.5164),
    Site("NM-ECHO", "New Mexico Echo", 32.4207, -104.2288),
    Site("CO-FOXTROT", "Colorado Foxtrot", 40.4233, -104.7091),
    Site("AK-GOLF", "Alaska Golf", 70.2553, -148.3371),
    Site("LA-HOTEL", "Louisiana Hotel", 29.9511, -90.0715),
    Site("CA-INDIA", "California India", 35.3733, -119.0187),
    Site("PA-JULIET", "Pennsylvania Juliet", 41.2033, -77.1945),
)

SITE_IDS: Final[tuple[str, ...]] = tuple(site.site_id for site in SITES)
SITES_BY_ID: Final[dict[str, Site]] = {site.site_id: site for site in SITES}

#: Web sites reporting user activity over RabbitMQ; SFO-WEB-01 is the seed's sample.
WEB_SITES: Final[tuple[str, ...]] = (
    "SFO-WEB-01",
    "NYC-WEB-01",
    "LON-WEB-01",
    "FRA-WEB-01",
    "SIN-WEB-01",
)

DEVICE_TYPES: Final[tuple[DeviceType, ...]] = tuple(DeviceType)


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    index: int
    device_id: str
    device_type: DeviceType
    site_id: str

    @property
    def topic(self) -> str:
        return telemetry_topic(self.site_id, self.device_type, self.device_id)


def id_width(fleet_size: int) -> int:
    """Digits in a device number: 5 as in the seed's TURB-00912, more for huge fleets."""
    per_type = max(1, -(-fleet_size // len(DEVICE_TYPES)))
    return max(5, len(str(per_type - 1)))


def device_identity(index: int, fleet_size: int, num_sites: int = len(SITES)) -> DeviceIdentity:
    """Identity of device ``index`` in a fleet: types interleave, sites round-robin per type.

    Interleaving types keeps any contiguous shard of the fleet balanced across types,
    and any fleet size divisible by 4 * num_sites balanced across sites.
    """
    if not 0 <= index < fleet_size:
        raise ValueError(f"device index {index} outside fleet of {fleet_size}")
    if not 1 <= num_sites <= len(SITES):
        raise ValueError(f"num_sites must be 1..{len(SITES)}, got {num_sites}")
    device_type = DEVICE_TYPES[index % len(DEVICE_TYPES)]
    number = index // len(DEVICE_TYPES)
    site_id = SITE_IDS[number % num_sites]
    device_id = f"{ID_PREFIX[device_type]}-{number:0{id_width(fleet_size)}d}"
    return DeviceIdentity(index, device_id, device_type, site_id)


# -- wire names: MQTT (telemetry) and AMQP (user activity) -------------------------

TOPIC_ROOT: Final = "og/field"
#: Canary messages travel the real broker path but never count as fleet devices.
CANARY_TOPIC_ROOT: Final = "tier0/canary"


def telemetry_topic(site_id: str, device_type: str, device_id: str) -> str:
    return f"{TOPIC_ROOT}/{site_id}/{device_type}/{device_id}"


def canary_topic(canary_id: str) -> str:
    return f"{CANARY_TOPIC_ROOT}/{canary_id}"


#: Durable topic exchange the user-activity simulator publishes to (AMQP_EXCHANGE default).
ACTIVITY_EXCHANGE: Final = "tier0.user-activity"
#: Each region's queue binds every activity report.
ACTIVITY_BINDING_KEY: Final = "activity.#"


def activity_routing_key(site_id: str) -> str:
    """``activity.<site_id>``: one report of one web site."""
    return f"activity.{site_id}"


def activity_queue(exchange: str, region: str) -> str:
    """A region's durable queue on ``exchange``: every region consumes every report."""
    return f"{exchange}.{region}"


def dead_letter_queue(queue: str) -> str:
    """Where RabbitMQ moves what a region's ingest refused (also its DLX's name)."""
    return f"{queue}.dlq"
