"""The AI endpoints: a plugin of the region API (tier0_common.api_plugin).

Thin handlers: validate (Pydantic; bad input is a 4xx, never a 500), call the
search/diagnostics code with the region's Redis client (lent by the API as a
dependency, see ``routers``), shape the response. CPU work (query embedding) runs in
a worker thread so the event loop keeps serving.

No ``from __future__ import annotations`` here: the routes' parameter types are
built per router from the lent dependency, and FastAPI can only resolve such local
``Annotated`` aliases when the annotations are evaluated as the functions are defined.
"""

import time
from datetime import UTC, datetime
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from prometheus_client import Histogram

from tier0_common.api_plugin import RegionServices
from tier0_common.catalog import SITE_IDS

from .images import search as image_search
from .logs import analytics
from .schemas import (
    ErrorIps,
    ImageInfo,
    ImageInterpretationModel,
    ImageList,
    ImageResult,
    ImageSearchRequest,
    ImageSearchResponse,
    InterpretationModel,
    IpCountModel,
    LogStats,
    LogSummary,
    NotFound,
    QueryRequest,
    QueryResponse,
    SourceModel,
)
from .state import AIState, get_ai

AI = Annotated[AIState, Depends(get_ai)]

LATENCY = Histogram(
    "tier0_ai_request_seconds",
    "AI endpoint latency",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5),
)


def image_url(image_id: str) -> str:
    return f"/api/images/{image_id}/file"


def _info(fields: dict[str, str]) -> ImageInfo:
    return ImageInfo(
        image_id=fields["image_id"],
        site_id=fields["site"],
        category=fields["category"],
        caption=fields["caption"],
        synthetic=fields.get("synthetic") == "1",
        url=image_url(fields["image_id"]),
    )


def images_router(services: RegionServices) -> APIRouter:
    router = APIRouter(prefix="/api/images", tags=["images"])
    Redis = Annotated[aioredis.Redis, Depends(services.redis)]

    @router.post("/search", response_model=ImageSearchResponse)
    async def search(body: ImageSearchRequest, client: Redis, ai: AI) -> ImageSearchResponse:
        started = time.perf_counter()
        try:
            result = await image_search.search(
                client, ai.embeddings, body.query, body.top_k, body.site_id, body.category
            )
        except image_search.NoImageIndex as exc:
            raise HTTPException(503, str(exc)) from exc
        LATENCY.labels("images_search").observe(time.perf_counter() - started)
        return ImageSearchResponse(
            query=body.query,
            model=result.model,
            embedded=result.embedded,
            filters=result.filters,
            relaxed=result.relaxed,
            fallback_reason=result.fallback_reason,
            interpretation=ImageInterpretationModel.model_validate(result.interpretation),
            results=[
                ImageResult(
                    image_id=h.image_id,
                    site_id=h.site_id,
                    category=h.category,
                    caption=h.caption,
                    score=h.score,
                    embedded=h.embedded,
                    url=image_url(h.image_id),
                    tags=h.tags,
                    caption_from=h.caption_from,
                    note=h.note,
                )
                for h in result.hits
            ],
        )

    @router.get("/list", response_model=ImageList)
    async def list_images(
        client: Redis,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> ImageList:
        total, rows = await image_search.list_images(client, None, offset, limit)
        return ImageList(total=total, offset=offset, images=[_info(r) for r in rows])

    @router.get(
        "/site/{site_id}",
        response_model=ImageList,
        responses={404: {"model": NotFound, "description": "Unknown site"}},
    )
    async def site_images(
        site_id: Annotated[str, Path(max_length=64)],
        client: Redis,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> ImageList:
        if site_id.upper() not in SITE_IDS:
            raise HTTPException(
                404, f"unknown site {site_id!r}; known sites: {', '.join(SITE_IDS)}"
            )
        total, rows = await image_search.list_images(client, site_id.upper(), offset, limit)
        return ImageList(total=total, offset=offset, images=[_info(r) for r in rows])

    @router.get(
        "/{image_id}/file",
        responses={
            200: {"content": {"image/png": {}}},
            404: {"model": NotFound, "description": "No such image"},
        },
    )
    async def image_file(
        image_id: Annotated[str, Path(max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")], client: Redis
    ) -> Response:
        found = await image_search.image_bytes(client, image_id)
        if found is None:
            raise HTTPException(404, f"no image {image_id!r}")
        data, mime = found
        return Response(content=data, media_type=mime, headers={"Cache-Control": "max-age=3600"})

    return router


def diagnostics_router(services: RegionServices) -> APIRouter:
    router = APIRouter(prefix="/api/diagnostics", tags=["diagnostics"])
    Redis = Annotated[aioredis.Redis, Depends(services.redis)]

    @router.post("/query", response_model=QueryResponse)
    async def query(body: QueryRequest, client: Redis, ai: AI) -> QueryResponse:
        started = time.perf_counter()
        answer = await ai.diagnostics.ask(client, body.question, body.top_k)
        LATENCY.labels("diagnostics_query").observe(time.perf_counter() - started)
        return QueryResponse(
            question=answer.question,
            route=answer.route,
            answer=answer.answer,
            found=answer.found,
            sources=[
                SourceModel(id=s.id, kind=s.kind, title=s.title, snippet=s.snippet, score=s.score)
                for s in answer.sources
            ],
            figures=answer.figures,
            generator=answer.generator,
            embedding_model=answer.embedding_model,
            fallback_reason=answer.fallback_reason,
            synthetic_data=answer.synthetic_data,
            interpretation=InterpretationModel.model_validate(answer.interpretation),
            timestamp=datetime.now(UTC).isoformat(),
        )

    @router.get("/logs/errors/{code}", response_model=ErrorIps)
    async def errors_by_ip(
        code: Annotated[int, Path(ge=100, le=599)],
        client: Redis,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> ErrorIps:
        if not await analytics.has_logs(client):
            return ErrorIps(status=code, total=0, ips=[])
        total, ips = await analytics.top_ips(client, code, limit)
        return ErrorIps(
            status=code, total=total, ips=[IpCountModel(ip=i.ip, count=i.count) for i in ips]
        )

    @router.get("/logs/stats", response_model=LogStats)
    async def stats(
        client: Redis, bucket_seconds: Annotated[int, Query(ge=60, le=86_400)] = 3600
    ) -> LogStats:
        if not await analytics.has_logs(client):
            return LogStats(
                status_distribution={}, error_rate_over_time=[], bucket_seconds=bucket_seconds
            )
        dist = await analytics.status_distribution(client)
        series = await analytics.error_rate_over_time(client, bucket_seconds)
        return LogStats(
            status_distribution={str(k): v for k, v in dist.items()},
            error_rate_over_time=series,
            bucket_seconds=bucket_seconds,
        )

    @router.get("/logs/summary", response_model=LogSummary)
    async def summary(client: Redis) -> LogSummary:
        if not await analytics.has_logs(client):
            return LogSummary(summary={"total_entries": 0})
        return LogSummary(summary=await analytics.summary(client))

    return router


def routers(services: RegionServices) -> list[APIRouter]:
    """The routers the region API mounts (the plugin entry point)."""
    return [images_router(services), diagnostics_router(services)]
