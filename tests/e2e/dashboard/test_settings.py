"""The dashboard's settings and /config.json, without a browser (fast): what the page
is told must follow REGION_APIS / ACTIVE_API, and bad values must stop start-up."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tier0_common.catalog import SITE_IDS
from tier0_dashboard.app import create_app
from tier0_dashboard.content import QUICK_QUERIES
from tier0_dashboard.settings import Settings


def test_region_list_keeps_its_order_and_the_first_region_is_active() -> None:
    settings = Settings(
        region_apis="region2=http://b:8100/,region1=http://a:8000", log_level="WARNING"
    )
    assert list(settings.region_apis.items()) == [
        ("region2", "http://b:8100"),
        ("region1", "http://a:8000"),
    ]
    assert settings.active_api == "http://b:8100" and settings.active_region == "region2"


def test_active_api_may_be_a_group_url_outside_the_region_list() -> None:
    settings = Settings(
        region_apis="region1=http://a:8000,region2=http://b:8100",
        active_api="https://tier0.example/",
    )
    assert settings.active_api == "https://tier0.example"
    # The version button then asks for region1's version through the group's URL.
    assert settings.active_region == "region1"


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("region_apis", "", "at least one region"),
        ("region_apis", "regionA=http://a", "region<N>=URL"),
        ("region_apis", "region1=http://a,region1=http://b", "listed twice"),
        ("region_apis", "region1=ftp://a", "http(s) URL"),
        ("active_api", "not a url", "ACTIVE_API"),
        ("log_level", "LOUD", "unknown log level"),
    ],
)
def test_bad_values_stop_start_up_naming_the_problem(
    variable: str, value: str, complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        Settings(**{variable: value})  # type: ignore[arg-type]


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "REGION_APIS", "region1=http://127.0.0.1:26001,region2=http://127.0.0.1:26002"
    )
    monkeypatch.setenv("ACTIVE_API", "http://127.0.0.1:26002")
    monkeypatch.setenv("DASHBOARD_PORT", "26000")
    settings = Settings()
    assert settings.dashboard_port == 26000 and settings.active_region == "region2"


def test_config_json_tells_the_page_where_the_regions_are() -> None:
    settings = Settings(
        region_apis="region1=http://a:8000,region2=http://b:8100", log_level="WARNING"
    )
    with TestClient(create_app(settings)) as client:
        config = client.get("/config.json").json()
        page = client.get("/")
        module = client.get("/js/main.js")
    assert config["regions"] == [
        {"name": "region1", "url": "http://a:8000"},
        {"name": "region2", "url": "http://b:8100"},
    ]
    assert config["active_api"] == "http://a:8000" and config["sites"] == list(SITE_IDS)
    assert config["quick_queries"] == list(QUICK_QUERIES)
    assert page.status_code == 200 and 'src="/js/main.js"' in page.text
    assert module.headers["content-type"].startswith("text/javascript")
    policy = page.headers["content-security-policy"]
    assert (
        "connect-src 'self' http://a:8000 http://b:8100" in policy and "script-src 'self'" in policy
    )
