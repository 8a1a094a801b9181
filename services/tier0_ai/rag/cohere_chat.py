"""Cohere chat with documents: Cohere writes the answer, citing passage ids.

Document questions: Cohere answers from the retrieved passages. Analytic questions:
the question is interpreted and its figures computed first (rag/understand.py,
rag/analytic.py); Cohere only writes prose around them. Guard, both ways: every number
in Cohere's answer must appear in what it was given (passages, or the computed
figures) or in the question; otherwise the answer is rejected and the caller falls
back to the offline composition, with a log line. Any API failure (401, 429 after the SDK's
retries, timeout) is a fallback too.
"""

from __future__ import annotations

import json
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


FIGURES_PREAMBLE = (
    "You phrase answers to questions about industrial field records. The figures were "
    "computed exactly from the records and are given in the document; the question was "
    "already interpreted, and the document says which constraints were applied, not "
    "understood or not found. Write a short answer around those figures. Copy every "
    "number exactly; never estimate, round, add or compute a number. Keep every caveat "
    "and the note that the data is synthetic."
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
        """(answer text, cited source ids) for a document question. Raises
        :class:`ChatUnavailable` on an API failure or a number found in no source."""
        documents = [
            {"id": s.id, "data": {"title": s.title, "snippet": s.snippet}} for s in sources
        ]
        allowed = numbers(question) | {
            n for s in sources for n in numbers(f"{s.title} {s.snippet}")
        }
        return self._chat(PREAMBLE, question, documents, allowed, "in any source")

    def prose(self, question: str, computed: str, figures: dict[str, Any]) -> str:
        """Prose around figures already computed from the records (the question was
        interpreted first; ``computed`` is the offline answer stating them). Raises
        :class:`ChatUnavailable` when the model writes a number that is not one of them."""
        documents = [
            {"id": "computed-figures", "data": {"title": "Computed figures", "snippet": computed}}
        ]
        allowed = numbers(question) | numbers(computed) | numbers(json.dumps(figures))
        text, _ = self._chat(
            FIGURES_PREAMBLE, question, documents, allowed, "in the computed figures"
        )
        return text

    def _chat(
        self,
        preamble: str,
        question: str,
        documents: list[dict[str, Any]],
        allowed: set[str],
        where: str,
    ) -> tuple[str, list[str]]:
        try:
            reply = self._client.chat(
                model=self.model,
                messages=[
                    {"role": "system", "content": preamble},
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
        invented = numbers(text) - allowed
        if invented:
            raise ChatUnavailable(
                "cohere", f"answer has numbers not {where}: {sorted(invented)[:5]}"
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
