"""The application factory: one FastAPI app per region process, built from Settings.

``create_app(settings, extra_routers=...)`` wires the built-in routers, any extra ones
(tier0_ai's images and diagnostics routers join this way, see __main__), the Redis
client's lifecycle, Prometheus metrics, access logs and the error mapping that turns a
lost Redis into a 503 with a JSON body instead of a stack trace.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import redis
import redis.asyncio as aioredis
import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from tier0_api.deps import Runtime
from tier0_api.failover import routes as failover
from tier0_api.failover.connection import Connection
from tier0_api.failover.errors import FailoverError
from tier0_api.failover.store import FailoverStore
from tier0_api.observability import APP_INFO, ObservabilityMiddleware
from tier0_api.redis_commands import IndexMissing
from tier0_api.routers import builtin_routers
from tier0_api.schemas import ErrorResponse
from tier0_api.settings import Settings
from tier0_api.shutdown import ConnectionPolicyMiddleware, Drain
from tier0_api.system import queries as system
from tier0_common.logs import configure_logging

log = structlog.get_logger("tier0_api")


def redis_client(settings: Settings) -> aioredis.Redis:
    """RESP2 with decoded strings; short timeouts so a lost Redis answers 503 quickly.

    One quick retry (redis-py's default is three with growing backoff, about 4 s on a
    refused connection) covers a pooled connection dropped by a Redis restart without
    making probes and the operator's gates wait on a dead Redis.
    """
    return aioredis.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        password=settings.redis_password.get_secret_value() if settings.redis_password else None,
        decode_responses=True,
        protocol=2,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1),
    )


def _lifespan(settings: Settings):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis_client(settings)
        app.state.redis = client
        try:
            created = await system.ensure_index(client)
            log.info("device index ready", index_created=created)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # Start anyway: /health reports 503 and retries the index until Redis is back,
            # so Kubernetes keeps the pod out of the Service instead of crash-looping it.
            log.warning("redis unavailable at startup", error=str(exc))
        log.info(
            "api started",
            region=settings.region,
            version=settings.app_version,
            redis=f"{settings.redis_host}:{settings.redis_port}",
        )
        try:
            yield
        finally:
            await client.aclose()
            app.state.failover_store.connection.close()

    return lifespan


def _unavailable(settings: Settings, error: str, detail: str) -> JSONResponse:
    body = ErrorResponse(error=error, detail=detail, region=settings.region)
    return JSONResponse(body.model_dump(), status_code=503)


def create_app(
    settings: Settings | None = None,
    extra_routers: Iterable[APIRouter] = (),
    drain: Drain | None = None,
) -> FastAPI:
    """``drain`` is shared with the server that flips it on SIGTERM (shutdown.py)."""
    settings = settings or Settings()
    drain = drain or Drain()
    configure_logging("tier0_api", settings.log_level)
    app = FastAPI(
        title=f"tier0 region API ({settings.region})",
        version=settings.app_version,
        description="Devices, users, status and health of one tier0 region.",
        lifespan=_lifespan(settings),
        responses={503: {"model": ErrorResponse, "description": "Redis unavailable"}},
    )
    app.state.settings = settings
    app.state.drain = drain
    app.state.runtime = Runtime(startup_time=datetime.now(UTC), started_monotonic=time.monotonic())
    # Kubernetes credentials load on the first failover request, not here (kube/connection.py).
    app.state.failover_store = FailoverStore(Connection(settings))
    APP_INFO.labels(region=settings.region, version=settings.app_version).set(1)

    @app.exception_handler(redis.ConnectionError)
    @app.exception_handler(redis.TimeoutError)
    async def redis_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("redis unavailable", path=request.url.path, error=str(exc))
        return _unavailable(
            settings,
            "redis_unavailable",
            f"Redis {settings.redis_host}:{settings.redis_port} is unavailable: {exc}",
        )

    @app.exception_handler(IndexMissing)
    async def index_missing(request: Request, exc: Exception) -> JSONResponse:
        log.warning("device index missing", path=request.url.path, error=str(exc))
        return _unavailable(
            settings,
            "index_missing",
            "The device index idx:dev does not exist yet; /health recreates it.",
        )

    app.add_exception_handler(FailoverError, failover.failover_error)
    if settings.failover_trust_loopback:
        log.warning(
            "FAILOVER_TRUST_LOOPBACK is on: POST /api/failover/* from 127.0.0.1/::1 needs "
            "no token; a process-mode setting for the seed's scripts, never for a cluster",
            region=settings.region,
        )

    for router in [*builtin_routers(), *extra_routers]:
        app.include_router(router)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus exposition of the process registry (a route, not a mount: no redirect)."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
        )
    app.add_middleware(ObservabilityMiddleware)
    app.add_middleware(
        ConnectionPolicyMiddleware,
        region=settings.region,
        drain=drain,
        max_age=settings.connection_max_age_seconds,
    )
    return app
