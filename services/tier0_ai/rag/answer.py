"""The answer model every route returns, and its sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Source:
    id: str
    kind: str  # "computation" | "incident" | "passage" | "log"
    title: str
    snippet: str
    score: float | None = None


@dataclass(slots=True)
class Answer:
    question: str
    route: str
    answer: str
    sources: list[Source] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    generator: str = "offline"
    embedding_model: str | None = None
    fallback_reason: str | None = None
    synthetic_data: bool = False
    found: bool = True
    #: What the question was read as: applied constraints, not understood, not found.
    interpretation: dict[str, Any] = field(default_factory=dict)
