"""The Redis key layout of the AI features, in one place.

Vectors of different embedding models never share an index: every vector key and
index name carries a model tag, and each vector hash stores the model's full name,
so a query embedded by one model can only ever be scored against vectors of that
same model. Model-independent data (image metadata and bytes, logs, incidents) is
stored once.

    ai:imgmeta:{image_id}          HASH  caption, site, category, annotation, bytes (base64)
    ai:img:{model_tag}:{image_id}  HASH  vector + site/category/caption for filtered KNN
    ai:doc:{model_tag}:{chunk_id}  HASH  chunk text + vector (hybrid: TEXT and VECTOR)
    ai:inc:{incident_id}           HASH  one safety incident record (exact counts)
    ai:log:{n}                     HASH  one log entry (exact analytics)
    ai:models                      HASH  corpus -> models it is indexed with (JSON list)
    ai:vocab:token                 STRING changes whenever logs or incidents are written
"""

from __future__ import annotations

import re
from typing import Final

IMAGE_META_PREFIX: Final = "ai:imgmeta:"
IMAGE_META_INDEX: Final = "ai:idx:imgmeta"
INCIDENT_PREFIX: Final = "ai:inc:"
INCIDENT_INDEX: Final = "ai:idx:inc"
LOG_PREFIX: Final = "ai:log:"
LOG_INDEX: Final = "ai:idx:log"
MODELS: Final = "ai:models"
#: A new random value whenever logs or incidents are written: the question vocabulary
#: read from them is cached per region under this value (rag/vocabulary.py).
VOCAB_TOKEN: Final = "ai:vocab:token"

_UNSAFE = re.compile(r"[^a-z0-9]+")


def model_tag(model_name: str) -> str:
    """A key-safe tag for a model name: ``all-MiniLM-L6-v2-onnx-int8`` -> ``all_minilm_l6_v2_onnx_int8``."""
    tag = _UNSAFE.sub("_", model_name.lower()).strip("_")
    if not tag:
        raise ValueError(f"model name {model_name!r} has no usable characters")
    return tag


def image_meta_key(image_id: str) -> str:
    return f"{IMAGE_META_PREFIX}{image_id}"


def image_vector_prefix(model_name: str) -> str:
    return f"ai:img:{model_tag(model_name)}:"


def image_vector_key(model_name: str, image_id: str) -> str:
    return f"{image_vector_prefix(model_name)}{image_id}"


def image_index(model_name: str) -> str:
    return f"ai:idx:img:{model_tag(model_name)}"


def doc_chunk_prefix(model_name: str) -> str:
    return f"ai:doc:{model_tag(model_name)}:"


def doc_chunk_key(model_name: str, chunk_id: str) -> str:
    return f"{doc_chunk_prefix(model_name)}{chunk_id}"


def doc_index(model_name: str) -> str:
    return f"ai:idx:doc:{model_tag(model_name)}"


def incident_key(incident_id: str) -> str:
    return f"{INCIDENT_PREFIX}{incident_id}"


def log_key(n: int) -> str:
    return f"{LOG_PREFIX}{n}"
