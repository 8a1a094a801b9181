"""Per-app AI state (embedding models, diagnostics service), created on first use.

The region API owns the app and its Redis client; the AI features add their own
state to ``app.state.ai`` lazily so an API that never serves an AI request never
loads the model (about 2 s and 100 MB).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from fastapi import Request

from .embeddings.service import EmbeddingService
from .rag.service import DiagnosticsService
from .settings import Settings

_LOCK = threading.Lock()


@dataclass(slots=True)
class AIState:
    settings: Settings
    embeddings: EmbeddingService
    diagnostics: DiagnosticsService

    @classmethod
    def create(cls, settings: Settings | None = None) -> AIState:
        settings = settings or Settings()
        embeddings = EmbeddingService(settings)
        return cls(settings, embeddings, DiagnosticsService(embeddings))


def get_ai(request: Request) -> AIState:
    state = getattr(request.app.state, "ai", None)
    if state is None:
        with _LOCK:
            state = getattr(request.app.state, "ai", None)
            if state is None:
                state = AIState.create()
                request.app.state.ai = state
    return state
