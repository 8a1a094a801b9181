"""Route a question to exact analytics or to document retrieval, by its words.

Rules rather than a model: the analytics a question can ask for are few (top IPs for
a status, status distribution, error rates, incident counts with filters) and a
rule gives the same answer every time, offline, in microseconds. Anything else is a
document question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from tier0_common.catalog import SITE_IDS

Route = Literal["log_top_ips", "log_stats", "log_summary", "incident_count", "documents"]

_STATUS = re.compile(
    r"\b(?:error|status|code|http|errors)\s*(?:code\s*)?([1-5]\d{2})\b|\b([45]\d{2})\s*(?:errors?|responses?|status)\b",
    re.I,
)
_IP = re.compile(r"\b(ips?|ip addresses|addresses|devices?|clients?|sources?|hosts?)\b", re.I)
_LOG_WORDS = re.compile(
    r"\b(logs?|http|requests?|status codes?|error rate|4xx|5xx|latency)\b", re.I
)
_STATS = re.compile(
    r"\b(distribution|error rate|rate of errors|stats|statistics|over time|per hour)\b", re.I
)
_COUNT = re.compile(r"\b(how many|number of|count|total|how often)\b", re.I)
_INCIDENT = re.compile(r"\b(incidents?|incidences?|accidents?|injur(y|ies)|safety events?)\b", re.I)
_YEAR = re.compile(r"\b(20\d{2})\b")
_SEVERITY = re.compile(r"\b(minor|moderate|major)\b", re.I)
_SITE = re.compile(r"\b(" + "|".join(re.escape(s) for s in SITE_IDS) + r")\b", re.I)


@dataclass(slots=True)
class Plan:
    route: Route
    status: int | None = None
    years: list[int] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    operators: list[str] = field(default_factory=list)


def plan(question: str, known_operators: list[str]) -> Plan:
    m = _STATUS.search(question)
    status = int(m.group(1) or m.group(2)) if m else None
    if status is not None and _IP.search(question):
        return Plan("log_top_ips", status=status)
    if _INCIDENT.search(question) and (_COUNT.search(question) or _YEAR.search(question)):
        lowered = question.lower()
        return Plan(
            "incident_count",
            years=sorted({int(y) for y in _YEAR.findall(question)}),
            sites=sorted({s.upper() for s in _SITE.findall(question)}),
            severities=sorted({s.lower() for s in _SEVERITY.findall(question)}),
            operators=[
                o for o in known_operators if re.search(rf"\b{re.escape(o.lower())}\b", lowered)
            ],
        )
    if status is not None or (_LOG_WORDS.search(question) and _STATS.search(question)):
        return Plan("log_stats", status=status)
    if _LOG_WORDS.search(question) and re.search(
        r"\b(summary|summari[sz]e|overview|diagnos)", question, re.I
    ):
        return Plan("log_summary")
    return Plan("documents")
