"""POST /api/diagnostics/query, end to end: plan, compute or retrieve, compose."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import redis.asyncio as aioredis
import structlog

from ..docs.retrieve import doc_models, hybrid
from ..embeddings.service import EmbeddingService
from ..logs import analytics
from . import compose
from .answer import Answer, Source
from .cohere_chat import ChatUnavailable, CohereChat
from .incidents import figures, known_operators
from .router import plan

log = structlog.stdlib.get_logger("tier0_ai.rag")


class DiagnosticsService:
    def __init__(self, embeddings: EmbeddingService, chat: CohereChat | None = None) -> None:
        self.embeddings = embeddings
        self.chat = chat
        if chat is None and embeddings.settings.cohere_enabled:
            self.chat = CohereChat(embeddings.settings)

    async def ask(self, client: aioredis.Redis, question: str, top_k: int = 5) -> Answer:
        p = plan(question, await known_operators(client))
        if p.route == "log_top_ips":
            assert p.status is not None
            total, ips = await analytics.top_ips(client, p.status, top_k)
            entries = await analytics.total_entries(client)
            return Answer(
                question,
                p.route,
                compose.top_ips(p.status, total, ips, entries),
                sources=[
                    Source(
                        f"logs:status={p.status}",
                        "computation",
                        "FT.AGGREGATE over the indexed logs",
                        f"GROUPBY ip, COUNT where status = {p.status}",
                    )
                ],
                figures={"status": p.status, "total": total, "top_ips": [asdict(ip) for ip in ips]},
                found=total > 0,
            )
        if p.route in ("log_stats", "log_summary"):
            s = await analytics.summary(client)
            dist = await analytics.status_distribution(client)
            text = (
                compose.stats(dist, p.status, int(s["http_errors"]), int(s["access_entries"]))
                if p.route == "log_stats"
                else compose.summary(s)
            )
            return Answer(
                question,
                p.route,
                text,
                sources=[
                    Source(
                        "logs:summary",
                        "computation",
                        "FT.AGGREGATE over the indexed logs",
                        "status distribution, error counts, noisy IPs",
                    )
                ],
                figures={"status_distribution": {str(k): v for k, v in dist.items()}, **s},
                found=bool(s["access_entries"]),
            )
        if p.route == "incident_count":
            f = await figures(client, p.operators, p.years, p.sites, p.severities)
            return Answer(
                question,
                p.route,
                compose.incidents(f, p.operators, p.years, p.sites, p.severities),
                sources=[
                    Source(
                        r["incident_id"],
                        "incident",
                        f"{r['operator']} {r['date']} {r['site']} ({r['severity']})",
                        r["description"][:300],
                    )
                    for r in f.records
                ],
                figures={
                    "total": f.total,
                    "by_severity": f.by_severity,
                    "operators": p.operators,
                    "years": p.years,
                    "sites": p.sites,
                    "severities": p.severities,
                },
                synthetic_data=True,
                found=f.total > 0,
            )
        return await self._documents(client, question, top_k)

    async def _documents(self, client: aioredis.Redis, question: str, top_k: int) -> Answer:
        models = await doc_models(client)
        if not models:
            return Answer(
                question,
                "documents",
                "No documents are indexed yet, so nothing can be cited.",
                found=False,
            )
        qv = await asyncio.to_thread(self.embeddings.query, question, tuple(models))
        passages = await hybrid(client, qv.model, question, qv.vector, top_k)
        sources = compose.passage_sources(passages)
        answer = Answer(
            question,
            "documents",
            compose.documents(question, passages),
            sources=sources,
            embedding_model=qv.model,
            fallback_reason=qv.fallback_reason,
            synthetic_data=any(p.synthetic for p in compose.relevant(passages)),
            found=bool(sources),
        )
        if self.chat is not None and sources:
            try:
                text, cited = await asyncio.to_thread(self.chat.answer, question, sources)
            except ChatUnavailable as exc:
                answer.fallback_reason = f"{exc.backend} chat {exc.reason}"
                log.warning(
                    "cohere chat failed; answering offline from the retrieved passages",
                    reason=exc.reason,
                )
            else:
                answer.answer = text
                answer.generator = f"cohere/{self.chat.model}"
                if cited:
                    order = {sid: i for i, sid in enumerate(cited)}
                    answer.sources = sorted(
                        [s for s in sources if s.id in order], key=lambda s: order[s.id]
                    ) + [s for s in sources if s.id not in order]
        return answer
