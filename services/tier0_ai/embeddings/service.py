"""Which model embeds what, and the fallback from Cohere to the local model.

Indexing embeds with every available model (the local one always), so each model
has its own complete index. A query is embedded by the preferred model (Cohere when
a key is set); when that fails the query is embedded locally instead and searched
in the local model's index, and a warning log line names the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import structlog
from prometheus_client import Counter

from ..settings import Settings
from .base import CachedEmbedder, EmbeddingUnavailable
from .cohere_backend import CohereEmbedder, make_client
from .local import LocalMiniLM

log = structlog.stdlib.get_logger("tier0_ai.embeddings")

FALLBACKS = Counter(
    "tier0_ai_embedding_fallbacks_total",
    "Queries embedded locally because Cohere failed",
    ["reason"],
)


@dataclass(frozen=True, slots=True)
class QueryVector:
    model: str
    vector: np.ndarray
    #: Why the preferred model was not used, or None.
    fallback_reason: str | None = None


class EmbeddingService:
    def __init__(self, settings: Settings, local: LocalMiniLM | None = None) -> None:
        self.settings = settings
        self.local = CachedEmbedder(
            local or LocalMiniLM(), settings.embed_cache_size, settings.embed_batch_size
        )
        self.cohere: CachedEmbedder | None = None
        if settings.cohere_enabled:
            assert settings.cohere_api_key is not None
            client = make_client(
                settings.cohere_api_key.get_secret_value(),
                settings.cohere_base_url,
                settings.cohere_timeout_s,
                settings.cohere_max_retries,
            )
            backend = CohereEmbedder(
                client,
                settings.cohere_embed_model,
                settings.cohere_timeout_s,
                settings.cohere_max_retries,
            )
            self.cohere = CachedEmbedder(
                backend, settings.embed_cache_size, settings.embed_batch_size
            )

    def models(self) -> list[CachedEmbedder]:
        """Every model an index is built for, preferred first."""
        return [self.cohere, self.local] if self.cohere is not None else [self.local]

    def query(self, text: str, prefer: tuple[str, ...] | None = None) -> QueryVector:
        """Embed a query with the first model of ``prefer`` (default: all, preferred first)
        that works; the local model is the last resort and does not fail over."""
        # Runs of whitespace mean nothing to either model (both tokenizers split on it), so
        # collapsing them lets "turbine  at night " reuse the cached vector of
        # "turbine at night".
        text = " ".join(text.split())
        candidates = [m for m in self.models() if prefer is None or m.model_name in prefer]
        if not candidates:
            candidates = [self.local]
        reason: str | None = None
        for model in candidates:
            try:
                vector = model.embed_texts([text], "search_query")[0]
            except EmbeddingUnavailable as exc:
                if model is self.local:
                    raise
                reason = f"{exc.backend} {exc.reason}"
                FALLBACKS.labels(exc.reason.split(":")[0][:40]).inc()
                log.warning(
                    "cohere embedding failed; falling back to the local model",
                    reason=reason,
                    fallback_model=self.local.model_name,
                )
                continue
            return QueryVector(model.model_name, vector, reason)
        vector = self.local.embed_texts([text], "search_query")[0]
        return QueryVector(self.local.model_name, vector, reason)
