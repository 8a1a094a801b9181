"""Cohere's embed API through the official SDK (``cohere.ClientV2``).

Texts and images go to the same multimodal model, so image vectors can be searched
with text queries. The SDK retries 429 and 5xx itself (``max_retries``); whatever is
still failing after that, a 401, a timeout or an unreachable host, is raised as
:class:`EmbeddingUnavailable` with a reason a person can act on, and the caller falls
back to the local model.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from .base import EmbeddingUnavailable, InputType, normalise


def make_client(api_key: str, base_url: str, timeout_s: float, max_retries: int) -> Any:
    import cohere

    return cohere.ClientV2(
        api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries
    )


def describe_failure(exc: BaseException, timeout_s: float, max_retries: int) -> str:
    """Why a Cohere call failed, in words that say what to do."""
    from cohere.core.api_error import ApiError

    if isinstance(exc, ApiError):
        if exc.status_code == 401:
            return "unauthorized (HTTP 401): COHERE_API_KEY was rejected"
        if exc.status_code == 429:
            return f"rate limited (HTTP 429) after {max_retries} retries"
        return f"HTTP {exc.status_code}: {str(exc.body)[:200]}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout_s:g} s"
    if isinstance(exc, httpx.HTTPError):
        return f"unreachable: {type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


class CohereEmbedder:
    """One Cohere embed model; its dimension is learnt from the first reply."""

    def __init__(self, client: Any, model: str, timeout_s: float, max_retries: int) -> None:
        self._client = client
        self._model = model
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._dimension = 0

    @property
    def model_name(self) -> str:
        return f"cohere/{self._model}"

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def supports_images(self) -> bool:
        return True

    def embed_texts(self, texts: Sequence[str], input_type: InputType) -> np.ndarray:
        return self._embed(texts=list(texts), input_type=input_type)

    def embed_images(self, images: Sequence[tuple[bytes, str]]) -> np.ndarray:
        uris = [f"data:{mime};base64,{base64.b64encode(data).decode()}" for data, mime in images]
        return self._embed(images=uris, input_type="image")

    def _embed(self, **request: Any) -> np.ndarray:
        try:
            reply = self._client.embed(model=self._model, embedding_types=["float"], **request)
        except Exception as exc:  # every failure becomes a reason to fall back
            raise EmbeddingUnavailable(
                "cohere", describe_failure(exc, self._timeout_s, self._max_retries)
            ) from exc
        floats = reply.embeddings.float_
        if not floats:
            raise EmbeddingUnavailable("cohere", "reply carried no float embeddings")
        matrix = normalise(np.asarray(floats, dtype=np.float32))
        self._dimension = int(matrix.shape[1])
        return matrix
