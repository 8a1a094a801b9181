"""The application factory: static files, ``/config.json``, probes and metrics.

The page is served as files (no build step); everything it needs to know about the
deployment comes from ``/config.json``, built from Settings, so the same files work on
a laptop, in the tests and behind a Kubernetes Ingress. A Content-Security-Policy
limits what the page may load or call to this origin and the configured region APIs:
the page renders API text, and the policy keeps a bad answer from pulling in anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest
from starlette.middleware.base import RequestResponseEndpoint

from tier0_common.catalog import SITE_IDS
from tier0_common.logs import configure_logging

from .content import IMAGE_EXAMPLES, QUICK_QUERIES
from .settings import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"

REQUESTS = Counter(
    "tier0_dashboard_requests_total",
    "Requests answered by the dashboard, by kind (config, static, health, metrics) and status",
    ["kind", "status"],
)
INFO = Gauge(
    "tier0_dashboard_info",
    "Always 1; labels name the API the buttons call",
    ["active_api", "active_region"],
)


def _kind(path: str) -> str:
    if path == "/config.json":
        return "config"
    if path in ("/health", "/metrics"):
        return path.lstrip("/")
    return "static"


def content_security_policy(settings: Settings) -> str:
    apis = " ".join(dict.fromkeys([*settings.region_apis.values(), settings.active_api]))
    return "; ".join(
        (
            "default-src 'self'",
            f"connect-src 'self' {apis}",
            f"img-src 'self' data: {apis}",
            "style-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


def page_config(settings: Settings) -> dict[str, Any]:
    """What the page is told: where the regions are and which URL the buttons call."""
    return {
        "regions": [{"name": name, "url": url} for name, url in settings.region_apis.items()],
        "active_api": settings.active_api,
        "active_region": settings.active_region,
        "refresh_seconds": settings.dashboard_refresh_seconds,
        "request_timeout_seconds": settings.dashboard_request_timeout_seconds,
        "sites": list(SITE_IDS),
        "quick_queries": list(QUICK_QUERIES),
        "image_examples": list(IMAGE_EXAMPLES),
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging("tier0_dashboard", settings.log_level)
    app = FastAPI(title="tier0 SRE dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    config = page_config(settings)
    policy = content_security_policy(settings)
    INFO.labels(active_api=settings.active_api, active_region=settings.active_region).set(1)

    @app.middleware("http")
    async def headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        # The page's files change with each deploy and are tiny; always revalidate.
        response.headers.setdefault("Cache-Control", "no-cache")
        REQUESTS.labels(kind=_kind(request.url.path), status=str(response.status_code)).inc()
        return response

    @app.get("/config.json")
    async def config_json() -> JSONResponse:
        return JSONResponse(config)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "active_api": settings.active_api}

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static")
    return app
