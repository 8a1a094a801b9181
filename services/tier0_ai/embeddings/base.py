"""The embedding interface, and the cache and batching every backend gets.

Backends only turn a batch into vectors; :class:`CachedEmbedder` adds an LRU cache
keyed by (model, content digest) so a repeated query or an unchanged document is
never embedded twice, and splits large inputs into batches of a bounded size.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np
from prometheus_client import Counter

InputType = Literal["search_query", "search_document"]

CACHE_LOOKUPS = Counter(
    "tier0_ai_embed_cache_lookups_total", "Embedding cache lookups", ["model", "result"]
)


class EmbeddingUnavailable(RuntimeError):
    """A backend could not embed (auth, rate limit after retries, timeout...)."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend}: {reason}")
        self.backend = backend
        self.reason = reason


class EmbedderBackend(Protocol):
    """One embedding model. Vectors are float32 and L2-normalised, shape (n, dimension)."""

    @property
    def model_name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def supports_images(self) -> bool: ...

    def embed_texts(self, texts: Sequence[str], input_type: InputType) -> np.ndarray: ...

    def embed_images(self, images: Sequence[tuple[bytes, str]]) -> np.ndarray:
        """Embed ``(bytes, mime type)`` pairs; only when ``supports_images``."""
        ...


class LruCache:
    """A small thread-safe LRU of vectors.

    Written here rather than taken from a library: it is 20 lines on the query hot
    path, and the only dependency-free alternative (functools.lru_cache) cannot key
    on a digest computed outside the call.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[tuple[str, bytes], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, bytes]) -> np.ndarray | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[str, bytes], value: np.ndarray) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def content_digest(kind: str, content: bytes) -> bytes:
    return hashlib.blake2b(kind.encode() + b"\0" + content, digest_size=16).digest()


class CachedEmbedder:
    """Wraps a backend with the cache and batching; same interface as the backend."""

    def __init__(self, backend: EmbedderBackend, cache_size: int, batch_size: int) -> None:
        self.backend = backend
        self._cache = LruCache(cache_size)
        self._batch_size = batch_size

    @property
    def model_name(self) -> str:
        return self.backend.model_name

    @property
    def dimension(self) -> int:
        return self.backend.dimension

    @property
    def supports_images(self) -> bool:
        return self.backend.supports_images

    def embed_texts(self, texts: Sequence[str], input_type: InputType) -> np.ndarray:
        keys = [content_digest(input_type, t.encode()) for t in texts]
        return self._cached(
            keys, list(texts), lambda batch: self.backend.embed_texts(batch, input_type)
        )

    def embed_images(self, images: Sequence[tuple[bytes, str]]) -> np.ndarray:
        keys = [content_digest("image", data) for data, _ in images]
        return self._cached(keys, list(images), self.backend.embed_images)

    def _cached(self, keys, items, compute) -> np.ndarray:  # type: ignore[no-untyped-def]
        model = self.model_name
        out: list[np.ndarray | None] = [self._cache.get((model, k)) for k in keys]
        missing = [i for i, v in enumerate(out) if v is None]
        CACHE_LOOKUPS.labels(model, "hit").inc(len(keys) - len(missing))
        CACHE_LOOKUPS.labels(model, "miss").inc(len(missing))
        for start in range(0, len(missing), self._batch_size):
            chunk = missing[start : start + self._batch_size]
            vectors = compute([items[i] for i in chunk])
            for i, vector in zip(chunk, vectors, strict=True):
                vector = np.asarray(vector, dtype=np.float32)
                self._cache.put((model, keys[i]), vector)
                out[i] = vector
        if not out:
            return np.zeros((0, self.dimension), dtype=np.float32)
        stacked: np.ndarray = np.stack([v for v in out if v is not None])
        return stacked


def normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: np.ndarray = (matrix / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit
