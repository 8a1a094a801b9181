"""Operations documents for RAG: a synthetic corpus (incident records, drilling and
PPE procedures, sustainability statements), a loader for a user's PDF/Markdown/text
files, chunking, and hybrid retrieval (full text + vectors) in the region's Redis."""
