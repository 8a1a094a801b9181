"""The simulator's command line: --help documents every setting, flags beat env."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tier0_simulators.iot.__main__ import FLAGS, main, parser
from tier0_simulators.iot.settings import IotSimulatorSettings


def test_help_names_every_environment_variable() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tier0_simulators.iot", "--help"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    for flag, (_, _, env) in FLAGS.items():
        assert flag in result.stdout and env in result.stdout
    assert "--rounds" in result.stdout and "shard" in result.stdout


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUM_DEVICES", "500")
    monkeypatch.setenv("MQTT_PORT", "1999")
    args = parser().parse_args(["--devices", "40", "--rounds", "2"])
    overrides = {k: v for k, v in vars(args).items() if v is not None}
    settings = IotSimulatorSettings(**overrides)
    assert (settings.num_devices, settings.rounds, settings.mqtt_port) == (40, 2, 1999)


def test_defaults_are_the_seed_fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NUM_DEVICES", "NUM_SITES", "PUBLISH_INTERVAL_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = IotSimulatorSettings()
    assert (settings.num_devices, settings.num_sites, settings.publish_interval_seconds) == (
        100_000, 10, 1.0,
    )  # fmt: skip


def test_bad_configuration_exits_with_code_2() -> None:
    assert main(["--shard-index", "3", "--shard-count", "2"]) == 2


def test_fault_rate_comes_from_flag_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAULT_RATE", raising=False)
    assert IotSimulatorSettings().fault_rate == 0.0001
    monkeypatch.setenv("FAULT_RATE", "0.2")
    assert IotSimulatorSettings().fault_rate == 0.2
    args = parser().parse_args(["--fault-rate", "0.5"])
    overrides = {k: v for k, v in vars(args).items() if v is not None}
    assert IotSimulatorSettings(**overrides).fault_rate == 0.5
    assert main(["--fault-rate", "2"]) == 2
