"""The AI routes reach the region API only through the declared plugin interface."""

from __future__ import annotations

import pytest

from tier0_api import __main__ as entry
from tier0_common.api_plugin import ApiPlugin


def test_the_ai_module_is_an_api_plugin_and_is_mounted() -> None:
    import tier0_ai.api

    assert isinstance(tier0_ai.api, ApiPlugin)
    prefixes = {router.prefix for router in entry.extra_routers()}
    assert prefixes == {"/api/images", "/api/diagnostics"}


def test_a_module_without_routers_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entry, "EXTRA_ROUTERS_MODULE", "tier0_common.catalog")
    with pytest.raises(TypeError, match="not an API plugin"):
        entry.extra_routers()
