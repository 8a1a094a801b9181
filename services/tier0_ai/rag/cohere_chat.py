"""Cohere chat with documents: Cohere writes the answer, citing passage ids.

Guard: every number in Cohere's answer must appear in the documents it was given
(or in the question); otherwise the answer is rejected and the caller falls back to
the offline composition, with a log line. Any API failure (401, 429 after the SDK's
retries, timeout) is a fallback too.
"""

from __future__ import annotations

import re
from typing import Any

import structlog

from ..embeddings.base import EmbeddingUnavailable
from ..embeddings.cohere_backend import describe_failure, make_client
from ..settings import Settings
from .answer import Source

log = structlog.stdlib.get_logger("tier0_ai.rag")

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
PREAMBLE = (
    "You answer questions about industrial field operations using only the documents "
    "provided. Cite the documents. If they do not answer the question, say so. Copy every "
    "number exactly from a document; never estimate or compute new numbers. The documents "
    "are synthetic demonstration data; say so."
)


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


class CohereChat:
    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        assert settings.cohere_api_key is not None
        self._settings = settings
        self._client = client or make_client(
            settings.cohere_api_key.get_secret_value(),
            settings.cohere_base_url,
            settings.cohere_timeout_s,
            settings.cohere_max_retries,
        )
        self.model = settings.cohere_chat_model

    def answer(self, question: str, sources: list[Source]) -> tuple[str, list[str]]:
        """(answer text, cited source ids). Raises EmbeddingUnavailable-style errors as
        :class:`ChatUnavailable`."""
        documents = [
            {"id": s.id, "data": {"title": s.title, "snippet": s.snippet}} for s in sources
        ]
        try:
            reply = self._client.chat(
                model=self.model,
                messages=[
                    {"role": "system", "content": PREAMBLE},
                    {"role": "user", "content": question},
                ],
                documents=documents,
                temperature=0.0,
            )
        except Exception as exc:
            raise ChatUnavailable(
                "cohere",
                describe_failure(
                    exc, self._settings.cohere_timeout_s, self._settings.cohere_max_retries
                ),
            ) from exc
        content = reply.message.content or []
        text = "".join(getattr(item, "text", "") or "" for item in content).strip()
        if not text:
            raise ChatUnavailable("cohere", "empty answer")
        allowed = numbers(question) | {
            n for s in sources for n in numbers(f"{s.title} {s.snippet}")
        }
        invented = numbers(text) - allowed
        if invented:
            raise ChatUnavailable(
                "cohere", f"answer has numbers not in any source: {sorted(invented)[:5]}"
            )
        cited: list[str] = []
        for citation in reply.message.citations or []:
            for src in citation.sources or []:
                sid = getattr(src, "id", None)
                if sid and sid not in cited:
                    cited.append(sid)
        return text, cited


class ChatUnavailable(EmbeddingUnavailable):
    """Cohere chat failed or its answer was rejected."""
