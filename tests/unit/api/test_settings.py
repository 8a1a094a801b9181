"""Settings fail fast on bad configuration and build the seed's version string."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tier0_api.settings import Settings


def test_version_defaults_to_base_and_region() -> None:
    assert Settings(region="region2").app_version == "v1.0.0057_region2"
    assert Settings(region="region1", app_base_version="v2.0.1").app_version == "v2.0.1_region1"


def test_explicit_version_wins() -> None:
    assert Settings(app_version="v9-custom").app_version == "v9-custom"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGION", "region2")
    monkeypatch.setenv("REDIS_PORT", "6380")
    monkeypatch.setenv("CORS_ORIGINS", "http://a.example, http://b.example")
    monkeypatch.setenv("FRESHNESS_SOURCES", "mqtt")
    monkeypatch.setenv("ACTIVE_WINDOW_SECONDS", "30")
    settings = Settings()
    assert settings.region == "region2"
    assert settings.redis_port == 6380
    assert settings.cors_origins == ("http://a.example", "http://b.example")
    assert settings.freshness_sources == ("mqtt",)
    assert settings.active_window_seconds == 30


@pytest.mark.parametrize(
    "bad",
    [
        {"region": "eu-west"},
        {"redis_port": 0},
        {"active_window_seconds": 0},
        {"log_level": "LOUD"},
        {"freshness_sources": ""},
        {"alerts_max_limit": 0},
    ],
)
def test_bad_values_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**bad)  # type: ignore[arg-type]
