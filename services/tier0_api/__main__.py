"""``python -m tier0_api``: serve this region's API on API_HOST:API_PORT with uvicorn.

Routers of optional components join here, through the plugin interface of
tier0_common.api_plugin: when ``tier0_ai.api`` is importable its routers (images,
diagnostics) are mounted too, so one region process serves the whole seed API while
tier0_api itself never imports AI code.
"""

from __future__ import annotations

import importlib

import structlog
import uvicorn
from fastapi import APIRouter

from tier0_api.app import create_app
from tier0_api.deps import get_redis
from tier0_api.settings import Settings
from tier0_api.shutdown import Drain, DrainingServer
from tier0_common.api_plugin import ApiPlugin, RegionServices
from tier0_common.logs import configure_logging

#: Plugin module (tier0_common.api_plugin) whose routers are mounted when it is importable.
EXTRA_ROUTERS_MODULE = "tier0_ai.api"


def extra_routers() -> list[APIRouter]:
    try:
        module = importlib.import_module(EXTRA_ROUTERS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name and EXTRA_ROUTERS_MODULE.startswith(exc.name):
            structlog.get_logger("tier0_api").info(
                "optional routers not installed", module=EXTRA_ROUTERS_MODULE
            )
            return []
        raise
    if not isinstance(module, ApiPlugin):
        raise TypeError(f"{EXTRA_ROUTERS_MODULE} has no routers(services): not an API plugin")
    return list(module.routers(RegionServices(redis=get_redis)))


def main() -> None:
    settings = Settings()
    configure_logging("tier0_api", settings.log_level)
    drain = Drain()
    app = create_app(settings, extra_routers=extra_routers(), drain=drain)
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        access_log=False,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds + 0.999),
    )
    DrainingServer(config, drain, settings.shutdown_drain_seconds).run()


if __name__ == "__main__":
    main()
