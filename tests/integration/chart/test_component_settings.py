"""Every environment variable the chart sets is one the component actually reads.

The chart and the components are written separately; a renamed setting would leave
the chart setting a variable nobody reads (the component silently on its default).
This imports each entrypoint's pydantic-settings classes and compares their env
names with the env of the container that runs that entrypoint.
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from pydantic_settings import BaseSettings

from tests.support.helm import Helm

from . import checks

pytestmark = pytest.mark.integration

#: Settings modules read by each entrypoint (the API also mounts tier0_ai's routers).
SETTINGS_MODULES = {
    "tier0_api": ["tier0_api.settings", "tier0_ai.settings"],
    "tier0_ingest.mqtt": ["tier0_ingest.mqtt.settings"],
    "tier0_ingest.amqp": ["tier0_ingest.amqp.settings"],
    "tier0_simulators.iot": ["tier0_simulators.iot.settings"],
    "tier0_simulators.users": ["tier0_simulators.users.settings"],
    "tier0_operator": ["tier0_operator.settings"],
}


def env_names(module_names: list[str]) -> set[str]:
    names: set[str] = set()
    for module_name in module_names:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, BaseSettings) or cls is BaseSettings:
                continue
            prefix = str(cls.model_config.get("env_prefix") or "")
            for field, info in cls.model_fields.items():
                alias = info.validation_alias or info.alias
                env = alias if isinstance(alias, str) else f"{prefix}{field}"
                names.add(env.upper())
    return names


def test_chart_env_is_read_by_the_component(helm_cli: Helm) -> None:
    objects = helm_cli.template(
        set_values=["api.cohere.existingSecret=cohere", "api.appVersion=v9"]
    )
    problems = []
    seen = set()
    for obj, container in checks.containers(objects):
        if not checks.is_tier0(container):
            continue
        module = container["command"][2]
        seen.add(module)
        unread = {e["name"] for e in container.get("env", [])} - env_names(SETTINGS_MODULES[module])
        if unread:
            problems.append(f"{checks.label_of(obj)} ({module}) sets unread {sorted(unread)}")
    assert seen == set(SETTINGS_MODULES)
    assert problems == []
