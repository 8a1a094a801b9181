"""Request and response models of the images and diagnostics endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from tier0_common.catalog import SITE_IDS

#: Same bound as Settings.ai_max_query_chars' default; a schema needs a constant.
MAX_QUERY_CHARS = 2000
CategoryName = Literal["turbine", "thermal_engine", "electrical_rotor", "oil_gas"]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain non-whitespace text")
    return value.strip()


class ImageSearchRequest(BaseModel):
    query: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        examples=["Get turbine site that has workers without hats"],
    )
    top_k: int = Field(default=5, ge=1, le=50)
    site_id: str | None = None
    category: CategoryName | None = None

    _query = field_validator("query")(_not_blank)

    @field_validator("site_id")
    @classmethod
    def _known_site(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in SITE_IDS:
            raise ValueError(f"unknown site {value!r}; known sites: {', '.join(SITE_IDS)}")
        return value.upper() if value else None


class ImageResult(BaseModel):
    image_id: str
    site_id: str
    category: str
    caption: str
    score: float
    embedded: Literal["image", "caption"]
    url: str
    tags: list[str]
    caption_from: str = Field(
        default="", description="annotation/json or txt sidecar/captions.json/file name"
    )
    note: str | None = Field(
        default=None, description="set when the image matched on its file name only"
    )


class NotUnderstoodModel(BaseModel):
    text: str
    reason: str


class NotFoundModel(BaseModel):
    field: str
    text: str
    known: list[str] = Field(description="the values the records do contain")


class ImageFilterModel(BaseModel):
    field: str = Field(description="site, region, category, tags, count, time_of_day")
    text: str = Field(description="the query's words")
    values: list[str]
    exclude: bool = False


class ImageInterpretationModel(BaseModel):
    applied: list[ImageFilterModel] = []
    not_understood: list[NotUnderstoodModel] = []
    not_found: list[NotFoundModel] = []


class ImageSearchResponse(BaseModel):
    query: str
    model: str
    embedded: Literal["image", "caption"] = Field(
        description="what the vectors of this model were computed from"
    )
    filters: dict[str, list[str]]
    relaxed: bool = Field(description="true when inferred filters matched fewer than top_k images")
    fallback_reason: str | None = None
    interpretation: ImageInterpretationModel = Field(
        description="the query's terms: applied as filters, not understood, or naming no site"
    )
    results: list[ImageResult]


class ImageInfo(BaseModel):
    image_id: str
    site_id: str
    category: str
    caption: str
    synthetic: bool
    url: str


class ImageList(BaseModel):
    total: int
    offset: int
    images: list[ImageInfo]


class QueryRequest(BaseModel):
    question: str = Field(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        examples=["How many safety incidences occurred in BP operations in 2024?"],
    )
    top_k: int = Field(default=5, ge=1, le=20)

    _question = field_validator("question")(_not_blank)


class SourceModel(BaseModel):
    id: str
    kind: str
    title: str
    snippet: str
    score: float | None = None


class ConstraintModel(BaseModel):
    field: str = Field(
        description="operator, site, region, date, time, severity, kind, status, ip, ..."
    )
    text: str = Field(description="the question's words")
    values: list[str] = Field(description="what they were read as, in the records' vocabulary")
    note: str = ""
    exclude: bool = False


class InterpretationModel(BaseModel):
    """How the question was read. Every constraint it names is in exactly one list."""

    dataset: str | None = None
    intent: str | None = None
    group_by: str | None = None
    order: str | None = None
    limit: int | None = None
    applied: list[ConstraintModel] = []
    not_understood: list[NotUnderstoodModel] = []
    not_found: list[NotFoundModel] = []
    contradictions: list[str] = []


class QueryResponse(BaseModel):
    question: str
    route: str
    answer: str
    found: bool
    sources: list[SourceModel]
    figures: dict[str, Any]
    generator: str
    embedding_model: str | None
    fallback_reason: str | None
    synthetic_data: bool
    interpretation: InterpretationModel
    timestamp: str


class IpCountModel(BaseModel):
    ip: str
    count: int


class ErrorIps(BaseModel):
    status: int
    total: int
    ips: list[IpCountModel]


class LogStats(BaseModel):
    status_distribution: dict[str, int]
    error_rate_over_time: list[dict[str, float]]
    bucket_seconds: int


class LogSummary(BaseModel):
    summary: dict[str, Any]


class NotFound(BaseModel):
    """FastAPI's HTTPException body: what was not found and what exists instead."""

    detail: str
