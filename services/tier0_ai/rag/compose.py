"""Offline answers: sentences built only from computed figures and quoted passages.

Every number in an offline answer is either a figure computed here from Redis or
part of a passage quoted verbatim with its document id, so nothing is invented.
"""

from __future__ import annotations

import re

from ..docs.corpus import NOTICE, REAL_NAME_NOTICE
from ..docs.retrieve import Passage
from ..logs.analytics import IpCount, LogFigures
from .answer import Source
from .incidents import IncidentFigures

#: Below this cosine similarity a passage is not considered relevant to the question.
MIN_SIMILARITY = 0.3
_LIST = re.compile(r"^\s*(list|name|what are|which|enumerate|give me (all|the))\b", re.I)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def top_ips(status: int, total: int, ips: list[IpCount], entries: int) -> str:
    if total == 0:
        return f"No HTTP {status} responses were found in the {entries} indexed log entries."
    ranked = "; ".join(
        f"{i + 1}. {ip.ip} ({_plural(ip.count, 'response')})" for i, ip in enumerate(ips)
    )
    return (
        f"The IPs generating the most HTTP {status} responses are: {ranked}. "
        f"These come from {total} responses with status {status} among {entries} indexed log entries "
        f"(counted exactly from the logs)."
    )


def stats(dist: dict[int, int], status: int | None, errors: int, access: int) -> str:
    if not access:
        return "No HTTP access logs are indexed yet."
    rate = f"{errors / access:.2%}"
    head = f"{access} HTTP requests are indexed; {errors} returned an error status (4xx/5xx), an error rate of {rate}."
    if status is not None:
        return f"{head} Status {status} occurred {_plural(dist.get(status, 0), 'time')}."
    top = ", ".join(
        f"{code}: {count}" for code, count in sorted(dist.items(), key=lambda kv: -kv[1])[:6]
    )
    return f"{head} Most frequent statuses: {top}."


def summary(s: LogFigures) -> str:
    noisy = ", ".join(f"{n['ip']} ({n['count']}x {n['status']})" for n in s["noisy_ips"][:3])
    return (
        f"{s['total_entries']} log entries are indexed ({s['access_entries']} HTTP, {s['app_entries']} "
        f"application). {s['http_errors']} HTTP responses were errors ({s['http_error_rate']:.2%}). "
        f"Noisiest sources: {noisy or 'none'}."
    )


def incidents(
    f: IncidentFigures,
    operators: list[str],
    years: list[int],
    sites: list[str],
    severities: list[str],
) -> str:
    scope = []
    if operators:
        scope.append("in " + " and ".join(operators) + " operations")
    if years:
        scope.append("in " + " and ".join(str(y) for y in years))
    if sites:
        scope.append("at " + ", ".join(sites))
    if severities:
        scope.append("of severity " + "/".join(severities))
    where = " ".join(scope) or "in all records"
    if f.total == 0:
        return f"No safety incidents were found in the incident records {where}."
    parts = ", ".join(
        f"{f.by_severity[s]} {s}" for s in ("minor", "moderate", "major") if f.by_severity.get(s)
    )
    absent = [
        s for s in ("minor", "moderate", "major") if not f.by_severity.get(s) and not severities
    ]
    tail = f" No {' or '.join(absent)} incidents were recorded." if absent else ""
    text = f"{_plural(f.total, 'safety incident')} occurred {where}: {parts}.{tail}"
    notice = REAL_NAME_NOTICE if any(o.upper() == "BP" for o in operators) else NOTICE
    return f"{text} Source: the incident records (counted exactly). {notice}"


def relevant(passages: list[Passage]) -> list[Passage]:
    return [p for p in passages if p.similarity >= MIN_SIMILARITY]


def documents(question: str, passages: list[Passage]) -> str:
    """Quote the relevant passages with their document ids; say so when there are none."""
    keep = relevant(passages)
    if not keep:
        return "Nothing relevant to this question was found in the indexed documents."
    if _LIST.search(question):
        body = "\n".join(f"- {p.text} [{p.doc_id}]" for p in keep)
        text = f"From the indexed documents:\n{body}"
    else:
        text = "According to the indexed documents: " + " ".join(
            f"{p.text} [{p.doc_id}]" for p in keep
        )
    if any(p.synthetic for p in keep):
        bp = any(p.operator.upper() == "BP" for p in keep)
        text += f"\n\nNote: {REAL_NAME_NOTICE if bp else NOTICE}"
    return text


def passage_sources(passages: list[Passage]) -> list[Source]:
    return [
        Source(p.chunk_id, "passage", p.title, p.text[:300], p.similarity)
        for p in relevant(passages)
    ]
