"""POST /api/diagnostics/query, end to end: plan, compute or retrieve, compose."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import redis.asyncio as aioredis
import structlog

from ..docs.retrieve import doc_models, hybrid
from ..embeddings.service import EmbeddingService
from ..logs import analytics
from . import analytic, compose, vocabulary
from .answer import Answer, Source
from .cohere_chat import ChatUnavailable, CohereChat
from .understand import Interpretation, NotFound, effective_severities, interpret

log = structlog.stdlib.get_logger("tier0_ai.rag")


class DiagnosticsService:
    def __init__(
        self,
        embeddings: EmbeddingService,
        chat: CohereChat | None = None,
        reference: date | None = None,
    ) -> None:
        self.embeddings = embeddings
        self.reference = reference or embeddings.settings.ai_reference_date
        self.chat = chat
        if chat is None and embeddings.settings.cohere_enabled:
            self.chat = CohereChat(embeddings.settings)

    async def ask(self, client: aioredis.Redis, question: str, top_k: int = 5) -> Answer:
        vocab = await vocabulary.load(client)
        i = interpret(question, vocab, top_k, self.reference)
        for ip in i.values("ip"):
            if not await analytic.ip_seen(client, ip):
                i.not_found.append(NotFound("ip", ip, []))
        if i.dataset == "documents":
            if i.not_found:
                return self._refuse(question, "documents", i)
            answer = await self._documents(client, question, top_k)
            answer.answer = compose.uncounted(i) + answer.answer
            answer.interpretation = i.to_dict()
            return answer
        if i.contradictions or i.not_found:
            return self._refuse(question, _route(i), i)
        if i.dataset == "http" and i.intent in ("stats", "summary") and not _constrained(i):
            answer = await self._log_overview(client, question, i)
        else:
            if i.intent in ("stats", "summary"):
                i.intent = "count"
            answer = await self._analytic(client, question, i, vocab)
        answer.interpretation = i.to_dict()
        if self.chat is not None and answer.found:
            await self._phrase(answer)
        return answer

    async def _phrase(self, answer: Answer) -> None:
        """With Cohere: the model rewrites the computed answer as prose; a number it
        invents rejects its text and the computed answer stands."""
        assert self.chat is not None
        try:
            answer.answer = await asyncio.to_thread(
                self.chat.prose,
                answer.question,
                answer.answer,
                {**answer.figures, "interpretation": answer.interpretation},
            )
            answer.generator = f"cohere/{self.chat.model}"
        except ChatUnavailable as exc:
            answer.fallback_reason = f"{exc.backend} chat {exc.reason}"
            log.warning(
                "cohere chat failed; answering with the computed figures offline",
                reason=exc.reason,
            )

    def _refuse(self, question: str, route: str, i: Interpretation) -> Answer:
        return Answer(
            question,
            route,
            compose.refusal(i),
            figures={},
            interpretation=i.to_dict(),
            synthetic_data=i.dataset == "incidents",
            found=False,
        )

    async def _analytic(
        self, client: aioredis.Redis, question: str, i: Interpretation, vocab: vocabulary.Vocabulary
    ) -> Answer:
        f = await analytic.compute(client, i, vocab)
        route = _route(i)
        figures: dict[str, Any] = {"dataset": i.dataset, "total": f.total, "query": f.query}
        if i.intent in ("group", "rank"):
            figures["group_by"] = i.group_by
            figures["groups"] = [{"key": k, "count": n} for k, n in f.groups]
            figures["tied_beyond"] = f.tied_beyond
        if i.dataset == "incidents":
            figures.update(
                by_severity=f.by_severity,
                operators=i.values("operator"),
                years=sorted({d.year for span in i.dates or [] for d in span if 1 < d.year < 9999}),
                sites=i.values("site") + i.values("region"),
                severities=effective_severities(i)
                if any(c.field == "severity" for c in i.applied)
                else [],
            )
        if i.statuses:
            figures["statuses"] = [list(s) for s in i.statuses]
        if i.intent == "share":
            figures.update(whole=f.whole, share_pct=f.share_pct)
        text = compose.interpreted(i, f)
        if route == "log_top_ips" and _only_status(i) and i.statuses and len(i.statuses) == 1:
            status = i.statuses[0][0]
            if i.statuses[0][1] == status:
                entries = await analytics.total_entries(client)
                ips = [analytics.IpCount(k, n) for k, n in f.groups]
                text = compose.caveats(i) + compose.top_ips(status, f.total, ips, entries)
                if f.tied_beyond:
                    text += f" {f.tied_beyond} more IPs share the last count ({f.groups[-1][1]})."
                figures.update(status=status, entries=entries)
            figures["top_ips"] = [{"ip": k, "count": n} for k, n in f.groups]
        elif route == "log_top_ips":
            figures["top_ips"] = [{"ip": k, "count": n} for k, n in f.groups]
        sources = [
            Source(
                f"{i.dataset}:computation",
                "computation",
                "FT.AGGREGATE over every stored record",
                f"filter: {f.query}"
                + (f"; GROUPBY {i.group_by}, COUNT" if i.group_by else "; COUNT"),
            )
        ]
        sources += [
            Source(
                r["incident_id"],
                "incident",
                f"{r['operator']} {r['date']} {r['site']} ({r['severity']})",
                r["description"][:300],
            )
            for r in f.records
        ]
        return Answer(
            question,
            route,
            text,
            sources=sources,
            figures=figures,
            synthetic_data=i.dataset == "incidents",
            found=f.total > 0,
        )

    async def _log_overview(
        self, client: aioredis.Redis, question: str, i: Interpretation
    ) -> Answer:
        route = "log_stats" if i.intent == "stats" else "log_summary"
        s = await analytics.summary(client)
        dist = await analytics.status_distribution(client)
        status = i.statuses[0][0] if i.statuses and i.statuses[0][0] == i.statuses[0][1] else None
        text = (
            compose.stats(dist, status, int(s["http_errors"]), int(s["access_entries"]))
            if route == "log_stats"
            else compose.summary(s)
        )
        return Answer(
            question,
            route,
            compose.caveats(i) + text,
            sources=[
                Source(
                    "logs:summary",
                    "computation",
                    "FT.AGGREGATE over the indexed logs",
                    "status distribution, error counts, noisy IPs",
                )
            ],
            figures={
                "status_distribution": {str(k): v for k, v in dist.items()},
                "http_error_rate_pct": f"{float(s['http_error_rate']) * 100:.2f}",
                **s,
            },
            found=bool(s["access_entries"]),
        )

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


_ROUTE_PREFIX = {"incidents": "incident", "http": "log", "app": "app_log"}


def _route(i: Interpretation) -> str:
    if i.dataset == "http" and i.intent == "rank" and i.group_by == "ip":
        return "log_top_ips"
    intent = {"group": "breakdown", "rank": "ranking", "share": "share"}.get(i.intent, "count")
    return f"{_ROUTE_PREFIX[i.dataset]}_{intent}"


def _only_status(i: Interpretation) -> bool:
    return all(c.field == "status" for c in i.applied) and not i.not_understood


def _constrained(i: Interpretation) -> bool:
    """Whether an overview would leave out something the question asked for."""
    return any(c.field != "status" for c in i.applied) or bool(
        i.statuses and (len(i.statuses) > 1 or i.statuses[0][0] != i.statuses[0][1])
    )
