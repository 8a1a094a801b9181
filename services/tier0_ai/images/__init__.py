"""Image intelligence: a synthetic annotated corpus, a loader for a user's folder,
and semantic search over a region's Redis (HNSW vectors + site/category tags)."""
