"""The offline model: pinned files, normalised vectors, meaningful similarity, cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tier0_ai.embeddings.base import CachedEmbedder, EmbeddingUnavailable
from tier0_ai.embeddings.local import MODEL_SHA256, LocalMiniLM, model_file, verify_sha256
from tier0_ai.embeddings.service import EmbeddingService
from tier0_ai.settings import Settings


@pytest.fixture(scope="module")
def model() -> LocalMiniLM:
    m = LocalMiniLM()
    m.load()
    return m


def test_vectors_are_unit_length_and_rank_by_meaning(model: LocalMiniLM) -> None:
    q = model.embed_texts(["turbine site with workers without helmets"], "search_query")[0]
    docs = model.embed_texts(
        [
            "Workers at the turbine site are not wearing hard hats",
            "Quarterly economic statement on local suppliers",
            "An oil leak near the pump",
        ],
        "search_document",
    )
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    scores = docs @ q
    assert scores.argmax() == 0 and scores[0] > 0.5 > scores[1]


def test_batching_does_not_change_vectors(model: LocalMiniLM) -> None:
    texts = ["short", "a much longer sentence about drilling rigs and blowout preventers"]
    together = model.embed_texts(texts, "search_document")
    alone = np.stack([model.embed_texts([t], "search_document")[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-4)


def test_a_changed_model_file_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the pinned model")
    with pytest.raises(EmbeddingUnavailable, match="expected the pinned"):
        verify_sha256(fake, MODEL_SHA256)
    verify_sha256(model_file(), MODEL_SHA256)


class _Counting:
    model_name, dimension, supports_images = "count", 2, False

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed_texts(self, texts, input_type):  # type: ignore[no-untyped-def]
        self.calls.append(len(texts))
        return np.ones((len(texts), 2), dtype=np.float32)

    def embed_images(self, images):  # type: ignore[no-untyped-def]
        raise AssertionError


def test_cache_keyed_by_content_and_batches_bounded() -> None:
    backend = _Counting()
    cached = CachedEmbedder(backend, cache_size=100, batch_size=4)
    cached.embed_texts([f"t{i}" for i in range(10)], "search_document")
    assert backend.calls == [4, 4, 2]
    cached.embed_texts(["t1", "t2", "new"], "search_document")
    assert backend.calls[-1] == 1
    cached.embed_texts(["t1"], "search_query")  # same text, other input type: not shared
    assert backend.calls[-1] == 1 and len(backend.calls) == 5


def test_queries_differing_only_in_whitespace_share_one_embedding(model: LocalMiniLM) -> None:
    service = EmbeddingService(Settings(cohere_api_key=None), local=model)
    first = service.query("turbine at night")
    entries = len(service.local._cache)  # noqa: SLF001 - the cache is what is tested
    again = service.query("  turbine   at\tnight \n")
    assert len(service.local._cache) == entries == 1  # noqa: SLF001
    assert np.array_equal(first.vector, again.vector)
    # and the collapsing is harmless: the model itself gives the same vector either way
    raw = model.embed_texts(["  turbine   at\tnight \n"], "search_query")[0]
    assert np.allclose(raw, first.vector, atol=1e-6)
