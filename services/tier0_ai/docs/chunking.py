"""Split documents into passages small enough to cite and to embed well.

Paragraph-based: paragraphs are packed up to ``max_chars``; a paragraph longer than
that is cut at sentence ends. MiniLM reads at most 256 tokens, so passages stay
around 700 characters. Short paragraphs are never merged across a blank line
when they already exceed ``min_chars``, so each passage keeps one statement.
"""

from __future__ import annotations

import re

from .model import SYNTHETIC_MARKER, Chunk, Document

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _pieces(paragraph: str, max_chars: int) -> list[str]:
    if len(paragraph) <= max_chars:
        return [paragraph]
    out, current = [], ""
    for sentence in _SENTENCE.split(paragraph):
        while len(sentence) > max_chars:
            out.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        if current and len(current) + 1 + len(sentence) > max_chars:
            out.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        out.append(current)
    return out


def chunk(doc: Document, max_chars: int = 700, min_chars: int = 120) -> list[Chunk]:
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", doc.text) if p.strip()]
    # The synthetic-data notice stays in the file and in every answer, not in passages,
    # where it would match every question about the sample operator.
    paragraphs = [p for p in paragraphs if not p.startswith(SYNTHETIC_MARKER)]
    passages: list[str] = []
    for paragraph in paragraphs:
        for piece in _pieces(paragraph, max_chars):
            if (
                passages
                and len(passages[-1]) < min_chars
                and len(passages[-1]) + len(piece) < max_chars
            ):
                passages[-1] = f"{passages[-1]} {piece}"
            else:
                passages.append(piece)
    return [
        Chunk(
            f"{doc.doc_id}#{i}", doc.doc_id, doc.title, text, doc.topic, doc.operator, doc.synthetic
        )
        for i, text in enumerate(passages)
    ]
