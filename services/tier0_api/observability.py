"""Prometheus metrics and the structured access log of the API.

The middleware is plain ASGI rather than Starlette's BaseHTTPMiddleware: it sits on
every request, and BaseHTTPMiddleware adds a task and a stream copy per request.
Routes are labelled by their template (``/api/devices/{device_id}``), never by the raw
path, so a scan of random ids cannot explode the metric's label cardinality.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_LATENCY = Histogram(
    "tier0_api_request_duration_seconds",
    "HTTP request latency of the region API by route template",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
REQUESTS = Counter(
    "tier0_api_requests_total",
    "HTTP requests answered by the region API by route template and status code",
    ["method", "route", "status"],
)
REDIS_QUERY_LATENCY = Histogram(
    "tier0_api_redis_query_duration_seconds",
    "Latency of the Redis queries behind each endpoint (one round trip each)",
    ["query"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
REDIS_ERRORS = Counter(
    "tier0_api_redis_errors_total",
    "Redis calls that failed (connection lost, timeout, missing index)",
    ["query"],
)
APP_INFO = Gauge(
    "tier0_api_info",
    "Always 1; labels carry the region and version this process serves",
    ["region", "version"],
)

UNMATCHED_ROUTE = "unmatched"


@contextmanager
def timed_query(name: str) -> Iterator[None]:
    """Observe one Redis round trip; failures are counted and re-raised."""
    start = time.perf_counter()
    try:
        yield
    except Exception:
        REDIS_ERRORS.labels(query=name).inc()
        raise
    finally:
        REDIS_QUERY_LATENCY.labels(query=name).observe(time.perf_counter() - start)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    root = scope.get("root_path", "")
    if scope.get("path", "").startswith(f"{root}/metrics"):
        return "/metrics"
    return UNMATCHED_ROUTE


class ObservabilityMiddleware:
    """Times every HTTP request, counts it by status and writes one access-log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger("tier0_api.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            method = scope.get("method", "GET")
            route = route_template(scope)
            REQUEST_LATENCY.labels(method=method, route=route).observe(elapsed)
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            client = scope.get("client")
            self.log.info(
                "request",
                method=method,
                path=scope.get("path", ""),
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client=client[0] if client else None,
            )
