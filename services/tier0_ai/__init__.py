"""tier0 AI features: image semantic search and RAG diagnostics over a region's Redis.

Everything here works offline (a local MiniLM ONNX model embeds text; answers are
composed from exact computations and retrieved passages) and uses Cohere when
COHERE_API_KEY is set, falling back to the local path when Cohere fails. The region
API mounts :func:`tier0_ai.api.routers`; ``python -m tier0_ai`` builds the corpora.
"""
