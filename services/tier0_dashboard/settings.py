"""Configuration of the dashboard process, read from documented environment variables.

One ``Settings`` class so a malformed region list or URL stops the process at start-up
with the variable's name, instead of a page that silently calls nowhere. The URLs are
the ones the *browser* uses, so in Kubernetes they are the Services' external
addresses (an Ingress or port-forward), not cluster-internal names.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tier0_common.logs import known_level

REGION_NAME = re.compile(r"^region[0-9]+$")


def _check_url(value: str, what: str) -> str:
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{what} must be an http(s) URL such as http://127.0.0.1:8000, got {value!r}"
        )
    return url


def parse_region_apis(value: object) -> object:
    """``region1=http://a:8000,region2=http://b:8100`` -> ordered ``{name: url}``."""
    if not isinstance(value, str):
        return value
    regions: dict[str, str] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        name, sep, url = item.partition("=")
        name = name.strip()
        if not sep or not REGION_NAME.match(name):
            raise ValueError(f"expected region<N>=URL entries separated by commas, got {item!r}")
        if name in regions:
            raise ValueError(f"region {name} is listed twice")
        regions[name] = url
    return regions


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    #: interface the dashboard listens on
    dashboard_host: str = "0.0.0.0"
    #: port of the dashboard (the seed's frontend used 3000)
    dashboard_port: Annotated[int, Field(ge=1, le=65535)] = 3000
    #: region APIs as the browser reaches them, name=URL comma-separated, shown side by side in this order
    region_apis: Annotated[dict[str, str], NoDecode] = {
        "region1": "http://localhost:8000",
        "region2": "http://localhost:8100",
    }
    #: URL the four buttons, alerts, AI and failover call (the failover group's address); empty = the first region's
    active_api: str = ""
    #: seconds between two refreshes of the region columns
    dashboard_refresh_seconds: Annotated[float, Field(ge=1, le=3600)] = 5.0
    #: seconds the page waits for one API answer before showing a timeout
    dashboard_request_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 15.0
    #: DEBUG, INFO, WARNING or ERROR
    log_level: str = "INFO"

    @field_validator("region_apis", mode="before")
    @classmethod
    def _parse_regions(cls, value: object) -> object:
        return parse_region_apis(value)

    @field_validator("region_apis")
    @classmethod
    def _check_regions(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("name at least one region, e.g. region1=http://127.0.0.1:8000")
        return {name: _check_url(url, f"URL of {name}") for name, url in value.items()}

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        return known_level(value)

    @model_validator(mode="after")
    def _default_active(self) -> Settings:
        active = self.active_api or next(iter(self.region_apis.values()))
        object.__setattr__(self, "active_api", _check_url(active, "ACTIVE_API"))
        return self

    @property
    def active_region(self) -> str:
        """The region whose URL the active API is, else the first one (a failover group
        URL is normally region1's Service, repointed by the operator)."""
        for name, url in self.region_apis.items():
            if url == self.active_api:
                return name
        return next(iter(self.region_apis))
