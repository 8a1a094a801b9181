"""Physical metric models per device type: drift, noise, faults and the status they cause.

Why vectorised: a round of 100,000 devices must be computed in a few milliseconds so
the publisher, not the model, sets the pace. Each type's devices are one numpy matrix
(devices x metrics) advanced together.

Why deterministic per (seed, round): the whole fleet is advanced every round whatever
shard a process publishes, from a generator seeded with (seed, type, round). So N
sharded Job pods publish exactly what one process would, and a test can recompute the
state after R rounds (fleet.expected_final_states) from the arguments alone.

The story of a device: every metric sits near its nominal value with a per-device
offset, a slow mean-reverting drift and a little noise. Now and then (FAULT_RATE per
round) a fault takes one watched metric past its warning limit, or past its alarm
limit, for a few rounds, then the device recovers. The status is derived from the
metrics against the limits, so state, code and message always match the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from tier0_common.catalog import ID_PREFIX, METRICS, DeviceState, DeviceType

#: Default chance per device and round that a fault starts (about 0.2% of a fleet in a
#: fault at any time with the durations below; at 100,000 devices, ~200 WARN/ALERT
#: devices). The simulator's FAULT_RATE setting overrides it, e.g. so a small fleet run
#: for a few rounds in a test sees faults.
FAULT_RATE: Final = 0.0001
FAULT_ROUNDS: Final = (10, 40)
#: A fault's severity is uniform in this range: < 1 lands between the warning and the
#: alarm limits (WARN), >= 1 beyond the alarm limit (ALERT); about a third are ALERTs.
SEVERITY: Final = (0.3, 1.3)
DRIFT_KEEP: Final = 0.98
DRIFT_STEP: Final = 0.004


@dataclass(frozen=True)
class Limit:
    """A watched metric: its limits (above them when ``high``), code stem and wording."""

    metric: str
    warn: float
    alert: float
    high: bool
    stem: str
    label: str
    unit: str


@dataclass(frozen=True)
class TypeModel:
    nominal: tuple[float, ...]
    noise: tuple[float, ...]
    decimals: tuple[int, ...]
    limits: tuple[Limit, ...]


MODELS: Final[dict[DeviceType, TypeModel]] = {
    # rpm, inlet_temp_c, exhaust_temp_c, vibration_mm_s, pressure_bar, power_kw
    DeviceType.TURBINE: TypeModel(
        nominal=(3500.0, 410.0, 530.0, 2.1, 17.8, 12850.0),
        noise=(0.004, 0.005, 0.005, 0.04, 0.01, 0.01),
        decimals=(0, 1, 1, 2, 1, 1),
        limits=(
            Limit("vibration_mm_s", 4.5, 7.1, True, "VIB", "Vibration", "mm/s"),
            Limit("exhaust_temp_c", 600.0, 650.0, True, "EGT", "Exhaust temperature", "C"),
        ),
    ),
    # rpm, coolant_temp_c, oil_temp_c, oil_pressure_bar, fuel_flow_lph, load_pct
    DeviceType.THERMAL_ENGINE: TypeModel(
        nominal=(1800.0, 88.0, 95.0, 4.5, 210.0, 70.0),
        noise=(0.004, 0.006, 0.006, 0.01, 0.02, 0.02),
        decimals=(0, 1, 1, 2, 1, 1),
        limits=(
            Limit("coolant_temp_c", 105.0, 115.0, True, "COOLANT", "Coolant temperature", "C"),
            Limit("oil_pressure_bar", 2.5, 1.5, False, "OILP", "Oil pressure", "bar"),
        ),
    ),
    # rpm, winding_temp_c, current_a, voltage_v, vibration_mm_s, insulation_mohm
    DeviceType.ELECTRICAL_ROTOR: TypeModel(
        nominal=(1480.0, 95.0, 420.0, 690.0, 1.8, 500.0),
        noise=(0.003, 0.006, 0.01, 0.003, 0.04, 0.01),
        decimals=(0, 1, 1, 1, 2, 0),
        limits=(
            Limit("winding_temp_c", 130.0, 155.0, True, "WIND", "Winding temperature", "C"),
            Limit("insulation_mohm", 100.0, 20.0, False, "INSUL", "Insulation resistance", "MOhm"),
        ),
    ),
    # pressure_bar, flow_rate_m3h, temp_c, h2s_ppm, methane_ppm, valve_open_pct
    DeviceType.OIL_GAS_SENSOR: TypeModel(
        nominal=(62.0, 145.0, 48.0, 2.0, 40.0, 65.0),
        noise=(0.01, 0.02, 0.01, 0.05, 0.05, 0.02),
        decimals=(1, 1, 1, 2, 1, 1),
        limits=(
            Limit("h2s_ppm", 10.0, 20.0, True, "H2S", "H2S concentration", "ppm"),
            Limit("pressure_bar", 80.0, 95.0, True, "PRES", "Line pressure", "bar"),
        ),
    ),
}

_TYPE_SALT: Final[dict[DeviceType, int]] = {t: i for i, t in enumerate(DeviceType)}


def ok_status(device_type: DeviceType) -> dict[str, str]:
    return {"state": DeviceState.OK.value, "code": f"{ID_PREFIX[device_type]}-OK",
            "message": "Nominal"}  # fmt: skip


def limit_status(
    device_type: DeviceType, limit: Limit, value: float, alert: bool
) -> dict[str, str]:
    state = DeviceState.ALERT if alert else DeviceState.WARN
    bound = limit.alert if alert else limit.warn
    word = "above" if limit.high else "below"
    kind = "alarm" if alert else "warning"
    return {
        "state": state.value,
        "code": f"{ID_PREFIX[device_type]}-{limit.stem}-{state.value}",
        "message": f"{limit.label} {value:g} {limit.unit} {word} {kind} limit {bound:g}",
    }


class TypeFleet:
    """All devices of one type, advanced one round at a time."""

    def __init__(
        self, device_type: DeviceType, count: int, seed: int, fault_rate: float = FAULT_RATE
    ) -> None:
        self.device_type = device_type
        self.fault_rate = fault_rate
        self.model = MODELS[device_type]
        self.names = METRICS[device_type]
        self.count = count
        self.seed = seed
        setup = np.random.default_rng([seed, _TYPE_SALT[device_type], 1 << 30])
        width = len(self.names)
        self.nominal = np.asarray(self.model.nominal) * (1 + setup.normal(0, 0.03, (count, width)))
        self.noise = np.asarray(self.model.noise)
        self.drift = np.zeros((count, width))
        self.fault_left = np.zeros(count, dtype=np.int64)
        self.fault_limit = np.zeros(count, dtype=np.int64)
        self.fault_target = np.zeros(count)
        self._columns = [self.names.index(limit.metric) for limit in self.model.limits]
        self.values = self.nominal.copy()

    def step(self, round_number: int) -> None:
        rng = np.random.default_rng([self.seed, _TYPE_SALT[self.device_type], round_number])
        count, width = int(self.values.shape[0]), int(self.values.shape[1])
        self.drift = self.drift * DRIFT_KEEP + rng.normal(0, DRIFT_STEP, (count, width))
        noise = rng.normal(0, 1, (count, width)) * self.noise
        values = self.nominal * (1 + self.drift + noise)
        starts = (rng.random(count) < self.fault_rate) & (self.fault_left == 0)
        picks = rng.integers(0, len(self.model.limits), count)
        lengths = rng.integers(FAULT_ROUNDS[0], FAULT_ROUNDS[1] + 1, count)
        severity = rng.uniform(SEVERITY[0], SEVERITY[1], count)
        if starts.any():
            self.fault_left[starts] = lengths[starts]
            self.fault_limit[starts] = picks[starts]
            warn = np.array([limit.warn for limit in self.model.limits])[picks]
            alert = np.array([limit.alert for limit in self.model.limits])[picks]
            # Severity 1 sits just past the alarm limit, 0.3 well inside the warning band.
            target = warn + (alert - warn) * (severity + 0.05)
            self.fault_target[starts] = target[starts]
        faulty = np.nonzero(self.fault_left > 0)[0]
        for limit_index, column in enumerate(self._columns):
            rows = faulty[self.fault_limit[faulty] == limit_index]
            if rows.size:
                values[rows, column] = self.fault_target[rows] * (1 + noise[rows, column] / 4)
        self.fault_left[faulty] -= 1
        for column, decimals in enumerate(self.model.decimals):
            values[:, column] = np.round(values[:, column], decimals)
        self.values = values

    def statuses(self) -> dict[int, dict[str, str]]:
        """Non-OK statuses by row; every other device is ok_status()."""
        out: dict[int, dict[str, str]] = {}
        worst = np.zeros(self.count, dtype=np.int8)
        hits: list[tuple[np.ndarray, np.ndarray, Limit, int]] = []
        for limit, column in zip(self.model.limits, self._columns, strict=True):
            column_values = self.values[:, column]
            if limit.high:
                warn, alert = column_values > limit.warn, column_values > limit.alert
            else:
                warn, alert = column_values < limit.warn, column_values < limit.alert
            hits.append((warn, alert, limit, column))
            worst = np.maximum(worst, np.where(alert, 2, np.where(warn, 1, 0)).astype(np.int8))
        for row in np.nonzero(worst)[0].tolist():
            # The first limit at the device's worst level names the status.
            for warn, alert, limit, column in hits:
                level = 2 if alert[row] else 1 if warn[row] else 0
                if level == worst[row]:
                    out[row] = limit_status(
                        self.device_type, limit, float(self.values[row, column]), level == 2
                    )
                    break
        return out
