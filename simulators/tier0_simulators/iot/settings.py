"""Configuration of the IoT simulator: environment variables, overridable by flags.

One typed class; the CLI (``__main__``) passes its flags as init arguments, which win
over the environment, so a Kubernetes Job sets env and a developer types flags.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tier0_common.catalog import SITES

from .models import FAULT_RATE


class IotSimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    mqtt_host: str = Field("localhost", description="Mosquitto host")
    mqtt_port: int = Field(1883, ge=1, le=65535, description="Mosquitto port")
    mqtt_username: str | None = Field(
        None,
        description="MQTT user; the broker lets the simulator publish under og/field/ only "
        "(docs/security.md)",
    )
    mqtt_password: SecretStr | None = Field(None, description="MQTT password of MQTT_USERNAME")
    num_devices: int = Field(
        100_000, ge=1, le=10_000_000, description="fleet size (types interleave: 1/4 each)"
    )
    num_sites: int = Field(
        len(SITES), ge=1, le=len(SITES), description="field sites the fleet spreads over"
    )
    publish_interval_seconds: float = Field(
        1.0, ge=0, description="time from one round's start to the next (0: back to back)"
    )
    duration_seconds: float = Field(
        0.0, ge=0, description="stop after this many seconds (0: no time limit)"
    )
    rounds: int = Field(
        0, ge=0, description="publish every device this many times, flush, exit (0: no limit)"
    )
    max_rate: float = Field(0.0, ge=0, description="cap in messages per second (0: no cap)")
    seed: int = Field(273, description="random seed: same seed, same readings")
    fault_rate: float = Field(
        FAULT_RATE,
        ge=0,
        le=1,
        description="chance per device and round that a fault (WARN/ALERT for 10-40 rounds) "
        "starts; raise it to see faults in a small fleet",
    )
    shard_index: int = Field(0, ge=0, description="this process's shard of the fleet, 0-based")
    shard_count: int = Field(1, ge=1, description="how many processes split the fleet")
    metrics_port: int = Field(
        9121, ge=0, le=65535, description="Prometheus /metrics port; 0 disables it"
    )
    progress_seconds: float = Field(5.0, gt=0, description="progress line every N seconds")
    record: Path | None = Field(
        None, description="write every payload sent to this file as JSON lines (ground truth)"
    )
    reading_qos: int = Field(
        0,
        ge=0,
        le=1,
        description="QoS of periodic readings; alerts and state changes (a reading that "
        "is not OK, or the first OK after one) are always QoS 1. 1 costs throughput "
        "(docs/ingest.md)",
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")

    @model_validator(mode="after")
    def _shard_in_range(self) -> IotSimulatorSettings:
        if self.shard_index >= self.shard_count:
            raise ValueError(
                f"shard_index {self.shard_index} must be below shard_count {self.shard_count}"
            )
        return self
