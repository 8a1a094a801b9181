"""Text (and, with Cohere, image) embeddings behind one interface.

``base`` defines the interface and the cache, ``local`` runs all-MiniLM-L6-v2 from an
ONNX file with no network, ``cohere_backend`` calls Cohere's embed API through the
official SDK, and ``service`` picks between them and falls back to the local model
when Cohere fails.
"""

from .base import EmbedderBackend, EmbeddingUnavailable, InputType
from .service import EmbeddingService, QueryVector

__all__ = [
    "EmbedderBackend",
    "EmbeddingService",
    "EmbeddingUnavailable",
    "InputType",
    "QueryVector",
]
