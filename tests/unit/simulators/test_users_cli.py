"""The simulator's command line: --help documents every variable, bad config fails fast."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from tier0_common.schema import UserActivity
from tier0_simulators.users.__main__ import main
from tier0_simulators.users.settings import UserSimSettings


def test_help_lists_every_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in UserSimSettings.model_fields:
        assert name.upper() in out


def test_bad_configuration_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER_SIM_INTERVAL_SECONDS", "-1")
    assert main([]) == 2


def test_dry_run_prints_valid_reports() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tier0_simulators.users", "--dry-run"],
        env={"USER_SIM_ROUNDS": "2", "USER_SIM_MAX_LISTED_USERS": "3", "PATH": ""},
        capture_output=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 10
    for line in lines:
        report = UserActivity.model_validate(orjson.loads(line))
        assert len(report.active_users_list) == 3
