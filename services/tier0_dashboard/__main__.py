"""``python -m tier0_dashboard``: serve the dashboard on DASHBOARD_HOST:DASHBOARD_PORT."""

from __future__ import annotations

import structlog
import uvicorn

from .app import create_app
from .settings import Settings


def main() -> None:
    settings = Settings()
    app = create_app(settings)
    structlog.get_logger("tier0_dashboard").info(
        "dashboard starting",
        port=settings.dashboard_port,
        regions=settings.region_apis,
        active_api=settings.active_api,
    )
    uvicorn.run(app, host=settings.dashboard_host, port=settings.dashboard_port, log_config=None)


if __name__ == "__main__":
    main()
