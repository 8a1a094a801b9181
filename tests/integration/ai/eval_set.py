"""The diagnostics evaluation set: questions, and their answers computed from the raw files.

Why a set the team owns: the assistant's promise is that every constraint in a
question is applied, or named as not understood / not found. Each case below says
what a question means as a predicate over the raw generated records (incidents.jsonl,
access.log, app.jsonl); the expected figure is computed from those files here, never
typed in. Paraphrase families share one meaning. Used by
tests/integration/ai/test_diagnostics_eval.py (targets asserted) and
benchmarks/diagnostics_eval.py (accuracy per category, refusals, latency).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from tier0_common.catalog import SITES

STATE = {s.site_id: s.name.rsplit(" ", 1)[0] for s in SITES}
Rec = dict[str, Any]


@dataclass(slots=True)
class Raw:
    incidents: list[Rec]
    http: list[Rec]
    app: list[Rec]

    def rows(self, dataset: str) -> list[Rec]:
        return getattr(self, dataset)

    @property
    def latest_incident(self) -> date:
        return max(r["date"] for r in self.incidents)

    @property
    def log_day(self) -> date:
        return min(r["ts"] for r in self.http).date()


_ACCESS = re.compile(
    r'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) \d+ "[^"]*" "([^"]*)" (\S+)$'
)


def load_raw(data: Path) -> Raw:
    incidents = []
    for line in (data / "incidents.jsonl").read_text().splitlines():
        r = json.loads(line)
        d = date.fromisoformat(r["date"])
        incidents.append(
            {
                "operator": r["operator"],
                "site": r["site_id"],
                "region": STATE[r["site_id"]],
                "severity": r["severity"],
                "kind": r["kind"],
                "date": d,
                "year": str(d.year),
                "month": f"{d.year}{d.month:02d}",
            }
        )
    http = []
    for line in (data / "logs" / "access.log").read_text().splitlines():
        m = _ACCESS.match(line)
        assert m, line
        ts = datetime.strptime(m.group(2), "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC)
        http.append(
            {
                "ip": m.group(1),
                "ts": ts,
                "hour": str(ts.hour),
                "method": m.group(3),
                "path": m.group(4),
                "status": m.group(5),
                "client": m.group(6).split("/", 1)[0],
                "latency_ms": float(m.group(7)) * 1000,
            }
        )
    app = []
    for line in (data / "logs" / "app.jsonl").read_text().splitlines():
        r = json.loads(line)
        ts = datetime.fromisoformat(r["ts"]).astimezone(UTC)
        site = re.search(r"site=(\S+)", r["message"])
        app.append(
            {
                "ts": ts,
                "hour": str(ts.hour),
                "level": r["level"],
                "service": r["service"],
                "site": site.group(1) if site else "",
                "region": STATE.get(site.group(1), "") if site else "",
            }
        )
    return Raw(incidents, http, app)


Kind = Literal[
    "count",
    "group",
    "rank",
    "not_understood",
    "not_found",
    "contradiction",
    "out_of_scope",
    "uncounted",
    "share",
]
Where = Callable[[Rec, Raw], bool]


def _all(r: Rec, d: Raw) -> bool:
    return True


@dataclass(slots=True)
class Case:
    category: str
    question: str
    kind: Kind
    dataset: str = ""
    where: Where = _all
    key: str | None = None
    order: str = "desc"
    limit: int | None = None
    #: not_found: the field named; not_understood: the words reported
    expect: str | None = None
    words: list[str] = field(default_factory=list)
    #: a breakdown over named values only ("compare BP and Northwind")
    only: tuple[str, ...] = ()
    #: a share: the whole it is taken of (``where`` is the part)
    whole: Where | None = None

    @property
    def analytic(self) -> bool:
        return self.kind in ("count", "group", "rank", "not_understood", "share")


@dataclass(slots=True)
class Expected:
    total: int
    groups: list[tuple[str, int]] | dict[str, int] | None = None
    tied_beyond: int = 0


_NO_ZERO_FILL = {"ip", "hour", "month"}


def expected(case: Case, raw: Raw) -> Expected:
    rows = [r for r in raw.rows(case.dataset) if case.where(r, raw)]
    if case.key is None:
        return Expected(len(rows))
    counts = Counter(str(r[case.key]) for r in rows)
    if case.key not in _NO_ZERO_FILL:
        for r in raw.rows(case.dataset):
            if r[case.key] and (not case.only or r[case.key] in case.only):
                counts.setdefault(str(r[case.key]), 0)
    if case.kind == "group":
        return Expected(len(rows), dict(counts))
    desc = case.order == "desc"
    ordered = sorted(
        counts.items(),
        key=lambda kv: (-kv[1] if desc else kv[1], int(kv[0]) if kv[0].isdigit() else 0, kv[0]),
    )
    limit = case.limit or 1
    tied_beyond = 0
    if len(ordered) > limit:
        cut = ordered[limit - 1][1]
        tied = [kv for kv in ordered[limit:] if kv[1] == cut]
        if limit == 1:
            ordered = ordered[:1] + tied
        else:
            ordered, tied_beyond = ordered[:limit], len(tied)
    return Expected(len(rows), ordered, tied_beyond)


# --------------------------------------------------------------------------- cases


def _family(category: str, questions: list[str], kind: Kind, **spec: Any) -> list[Case]:
    return [Case(category, q, kind, **spec) for q in questions]


def _year(n: int) -> Where:
    return lambda r, d: r["date"].year == n


def _last_year(r: Rec, d: Raw) -> bool:
    return r["date"].year == d.latest_incident.year - 1


def _this_year(r: Rec, d: Raw) -> bool:
    return r["date"].year == d.latest_incident.year


def _status(lo: int, hi: int | None = None) -> Where:
    return lambda r, d: lo <= int(r["status"]) <= (hi or lo)


def _hours(a: int, b: int) -> Where:
    return lambda r, d: a <= r["ts"].hour < b


def cases() -> list[Case]:
    inc, http, app = "incidents", "http", "app"
    out: list[Case] = []
    add = out.extend

    # ---- incident counts, every constraint kind, each with paraphrases
    add(
        _family(
            "incident_count",
            [
                "How many safety incidences occurred in BP operations in 2024?",
                "Number of incidents in BP's operations during 2024",
                "How many BP incidents were recorded in 2024?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["operator"] == "BP" and r["date"].year == 2024,
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents did Northwind have in 2023?",
                "Count the incidents for Northwind Energy in 2023",
                "northwind energy incidents in 2023: how many?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["operator"] == "Northwind Energy" and r["date"].year == 2023,
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents were there at TX-BRAVO?",
                "How many incidents happened at Texas Bravo?",
                "incident count for site tx-bravo",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["site"] == "TX-BRAVO",
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents occurred in Wyoming?",
                "Number of safety incidents in the state of Wyoming",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["region"] == "Wyoming",
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many serious incidents happened last year?",
                "How many severe incidents were recorded in the previous year?",
                "Count of high-severity incidents last year",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["severity"] == "major" and _last_year(r, d),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many minor incidents occurred this year?",
                "How many low severity incidents so far this year?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["severity"] == "minor" and _this_year(r, d),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many medium severity incidents were there in 2025?",
                "How many moderate incidents in 2025?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["severity"] == "moderate" and r["date"].year == 2025,
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents happened between 2023 and 2024?",
                "How many incidents from 2023 to 2024?",
                "incidents in 2023-2024, how many?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: 2023 <= r["date"].year <= 2024,
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents since March 2024?",
                "How many incidents have occurred since March 2024?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["date"] >= date(2024, 3, 1),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents before 2024?",
                "How many incidents prior to 2024?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["date"] < date(2024, 1, 1),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents in Q2 2024?",
                "How many incidents between April 2024 and June 2024?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: date(2024, 4, 1) <= r["date"] <= date(2024, 6, 30),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents in December 2024?",
                "incidents during Dec 2024: how many?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["date"].year == 2024 and r["date"].month == 12,
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many minor or moderate incidents did Tier0 have in the first half of 2024?",
                "How many low or medium severity Tier0 Field Services incidents in H1 2024?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: (
                r["operator"] == "Tier0 Field Services"
                and r["severity"] != "major"
                and date(2024, 1, 1) <= r["date"] <= date(2024, 6, 30)
            ),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents in the third quarter of 2023?",
                "How many incidents in Q3 2023?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: date(2023, 7, 1) <= r["date"] <= date(2023, 9, 30),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents in March?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: (
                r["date"].month == 3
                and r["date"].year
                == (
                    d.latest_incident.year
                    if d.latest_incident.month >= 3
                    else d.latest_incident.year - 1
                )
            ),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many gas releases were recorded at WY-ALPHA?",
                "How many gas leaks at Wyoming Alpha?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["kind"] == "gas release" and r["site"] == "WY-ALPHA",
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many hard hat violations in 2025?",
                "Number of PPE violations in 2025",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["kind"] == "hard hat violation" and r["date"].year == 2025,
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many spills did Tier0 Field Services have?",
                "How many fluid spills for tier0 field services?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: (
                r["kind"] == "fluid spill" and r["operator"] == "Tier0 Field Services"
            ),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many non-minor incidents in 2025?",
                "How many incidents other than minor ones in 2025?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["severity"] != "minor" and r["date"].year == 2025,
        )
    )
    add(
        _family(
            "incident_count",
            [
                "number of major incidents at TX-BRAVO for Northwind Energy in 2023 and 2025",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: (
                r["severity"] == "major"
                and r["site"] == "TX-BRAVO"
                and r["operator"] == "Northwind Energy"
                and r["date"].year in (2023, 2025)
            ),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents in total?",
                "How many safety incidents are in the records?",
            ],
            "count",
            dataset=inc,
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many major incidents did BP have at North Dakota Charlie?",
                "BP major incidents at ND-CHARLIE: how many?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: (
                r["operator"] == "BP" and r["severity"] == "major" and r["site"] == "ND-CHARLIE"
            ),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many vehicle incidents in the last 2 years?",
                "How many vehicle accidents over the past two years?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: (
                r["kind"] == "vehicle incident"
                and r["date"] > d.latest_incident.replace(year=d.latest_incident.year - 2)
            ),
        )
    )

    # ---- several values of one field (either), and exclusions
    add(
        _family(
            "incident_count",
            [
                "How many incidents did BP and Northwind have in 2024?",
                "How many BP or Northwind Energy incidents in 2024?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: (
                r["operator"] in ("BP", "Northwind Energy") and r["date"].year == 2024
            ),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "how many incidents in 2024 or 2025 at Texas Bravo or Wyoming Alpha",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: (
                r["site"] in ("TX-BRAVO", "WY-ALPHA") and r["date"].year in (2024, 2025)
            ),
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents not at TX-BRAVO?",
                "Number of incidents at sites other than TX-BRAVO",
                "How many incidents outside Texas?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["site"] != "TX-BRAVO",
        )
    )
    add(
        _family(
            "incident_count",
            [
                "How many incidents did BP have, excluding 2023?",
            ],
            "count",
            dataset=inc,
            where=lambda r, d: r["operator"] == "BP" and r["date"].year != 2023,
        )
    )
    add(
        _family(
            "incident_breakdown",
            [
                "incidents by site excluding BP",
            ],
            "group",
            dataset=inc,
            key="site",
            where=lambda r, d: r["operator"] != "BP",
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many requests not from gateways?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["client"] != "tier0-gateway",
        )
    )

    # ---- incident breakdowns
    add(
        _family(
            "incident_breakdown",
            [
                "Break down incidents by severity for Northwind in 2024",
                "incidents by severity for Northwind Energy in 2024",
            ],
            "group",
            dataset=inc,
            key="severity",
            where=lambda r, d: r["operator"] == "Northwind Energy" and r["date"].year == 2024,
        )
    )
    add(
        _family(
            "incident_breakdown",
            [
                "How many incidents per year?",
                "incidents by year",
            ],
            "group",
            dataset=inc,
            key="year",
        )
    )
    add(
        _family(
            "incident_breakdown",
            [
                "How many incidents per site in 2024?",
                "incidents for each site in 2024",
            ],
            "group",
            dataset=inc,
            key="site",
            where=_year(2024),
        )
    )
    add(
        _family(
            "incident_breakdown",
            [
                "major incidents by operator",
                "How many serious incidents per company?",
            ],
            "group",
            dataset=inc,
            key="operator",
            where=lambda r, d: r["severity"] == "major",
        )
    )
    add(
        _family(
            "incident_breakdown",
            [
                "incidents by kind at TX-BRAVO",
                "breakdown of incidents at TX-BRAVO by type",
            ],
            "group",
            dataset=inc,
            key="kind",
            where=lambda r, d: r["site"] == "TX-BRAVO",
        )
    )
    add(
        _family(
            "incident_breakdown",
            [
                "incidents per state for BP",
                "BP incidents by region",
            ],
            "group",
            dataset=inc,
            key="region",
            where=lambda r, d: r["operator"] == "BP",
        )
    )
    add(
        _family(
            "incident_breakdown",
            [
                "incidents per month in 2025",
                "monthly incidents in 2025",
            ],
            "group",
            dataset=inc,
            key="month",
            where=_year(2025),
        )
    )

    add(
        _family(
            "incident_breakdown",
            [
                "Compare BP and Northwind incidents in 2024",
                "BP vs Northwind Energy incidents in 2024",
            ],
            "group",
            dataset=inc,
            key="operator",
            only=("BP", "Northwind Energy"),
            where=lambda r, d: (
                r["operator"] in ("BP", "Northwind Energy") and r["date"].year == 2024
            ),
        )
    )
    add(
        _family(
            "not_understood",
            [
                "incidents per year for each operator",
            ],
            "not_understood",
            dataset=inc,
            words=["for each operator"],
        )
    )

    # ---- incident rankings
    add(
        _family(
            "incident_ranking",
            [
                "Which site had the most incidents?",
                "Which site recorded the highest number of incidents?",
            ],
            "rank",
            dataset=inc,
            key="site",
            limit=1,
        )
    )
    add(
        _family(
            "incident_ranking",
            [
                "Which operator had the fewest incidents in 2023?",
                "Which company had the least incidents in 2023?",
            ],
            "rank",
            dataset=inc,
            key="operator",
            order="asc",
            limit=1,
            where=_year(2023),
        )
    )
    add(
        _family(
            "incident_ranking",
            [
                "top 3 sites by major incidents",
                "What are the top 3 sites for serious incidents?",
            ],
            "rank",
            dataset=inc,
            key="site",
            limit=3,
            where=lambda r, d: r["severity"] == "major",
        )
    )
    add(
        _family(
            "incident_ranking",
            [
                "Which incident kind is most common for BP?",
                "What type of incident happens most at BP?",
            ],
            "rank",
            dataset=inc,
            key="kind",
            limit=1,
            where=lambda r, d: r["operator"] == "BP",
        )
    )
    add(
        _family(
            "incident_ranking",
            [
                "Which year had the most incidents at Texas Bravo?",
            ],
            "rank",
            dataset=inc,
            key="year",
            limit=1,
            where=lambda r, d: r["site"] == "TX-BRAVO",
        )
    )

    # ---- HTTP log counts
    add(
        _family(
            "log_count",
            [
                "How many 404 responses came from 198.51.100.77?",
                "How many not found errors did 198.51.100.77 get?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["ip"] == "198.51.100.77" and r["status"] == "404",
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many server errors were logged?",
                "How many 5xx responses are in the logs?",
                "count of HTTP 5xx errors",
            ],
            "count",
            dataset=http,
            where=_status(500, 599),
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many client errors were logged?",
                "How many 4xx responses?",
            ],
            "count",
            dataset=http,
            where=_status(400, 499),
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many server errors between 14:00 and 15:00?",
                "How many 5xx errors from 14:00 to 15:00 UTC?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: _status(500, 599)(r, d) and _hours(14, 15)(r, d),
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many POST requests to /api/telemetry returned 400?",
                "How many bad requests were POSTed to /api/telemetry?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: (
                r["method"] == "POST" and r["path"] == "/api/telemetry" and r["status"] == "400"
            ),
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many requests did gateways make in the afternoon?",
                "How many gateway requests in the afternoon?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["client"] == "tier0-gateway" and _hours(12, 18)(r, d),
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many rate limited requests were there?",
                "How many HTTP 429 responses?",
                "how many too many requests errors",
            ],
            "count",
            dataset=http,
            where=_status(429),
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many unauthorized requests came from 172.16.4.22?",
                "How many 401s from 172.16.4.22?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["ip"] == "172.16.4.22" and r["status"] == "401",
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many requests did the scanner send to /wp-login.php?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["client"] == "zgrab" and r["path"] == "/wp-login.php",
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many GET requests to the health endpoint?",
                "How many GET requests to /health?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["method"] == "GET" and r["path"] == "/health",
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many HTTP requests in the morning?",
                "How many requests were served in the morning?",
            ],
            "count",
            dataset=http,
            where=_hours(6, 12),
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many dashboard requests returned 503?",
                "How many 503 responses did the dashboard get?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["client"] == "Mozilla" and r["status"] == "503",
        )
    )

    # ---- HTTP log rankings and breakdowns
    add(
        _family(
            "log_ranking",
            [
                "Give me the most frequent IP devices generating error 400",
                "Top 5 IPs with status 400",
                "Which IP addresses produce the most 400 errors?",
            ],
            "rank",
            dataset=http,
            key="ip",
            limit=5,
            where=_status(400),
        )
    )
    add(
        _family(
            "log_ranking",
            [
                "Which IP had the most 404s?",
                "Which IP generated the most not found responses?",
            ],
            "rank",
            dataset=http,
            key="ip",
            limit=1,
            where=_status(404),
        )
    )
    add(
        _family(
            "log_ranking",
            [
                "which path got the most 404s",
                "Which endpoint had the most 404 errors?",
            ],
            "rank",
            dataset=http,
            key="path",
            limit=1,
            where=_status(404),
        )
    )
    add(
        _family(
            "log_ranking",
            [
                "Which status code is most frequent?",
                "What is the most common status code?",
            ],
            "rank",
            dataset=http,
            key="status",
            limit=1,
        )
    )
    add(
        _family(
            "log_ranking",
            [
                "top 3 paths by server errors",
            ],
            "rank",
            dataset=http,
            key="path",
            limit=3,
            where=_status(500, 599),
        )
    )
    add(
        _family(
            "log_breakdown",
            [
                "requests per hour",
                "How many HTTP requests per hour?",
            ],
            "group",
            dataset=http,
            key="hour",
        )
    )
    add(
        _family(
            "log_breakdown",
            [
                "responses by status code for /api/telemetry",
                "status code breakdown for /api/telemetry",
            ],
            "group",
            dataset=http,
            key="status",
            where=lambda r, d: r["path"] == "/api/telemetry",
        )
    )
    add(
        _family(
            "log_breakdown",
            [
                "requests by method",
                "HTTP requests per method",
            ],
            "group",
            dataset=http,
            key="method",
        )
    )
    add(
        _family(
            "log_breakdown",
            [
                "errors by user agent",
                "4xx and 5xx responses by user agent",
            ],
            "group",
            dataset=http,
            key="client",
            where=_status(400, 599),
        )
    )

    # ---- application logs
    add(
        _family(
            "app_log",
            [
                "How many ERROR app log entries from the ingest service?",
                "How many error events logged by the ingest service?",
            ],
            "count",
            dataset=app,
            where=lambda r, d: r["level"] == "ERROR" and r["service"] == "ingest",
        )
    )
    add(
        _family(
            "app_log",
            [
                "How many critical application log entries mention WY-ALPHA?",
                "How many CRITICAL app log events at Wyoming Alpha?",
            ],
            "count",
            dataset=app,
            where=lambda r, d: r["level"] == "CRITICAL" and r["site"] == "WY-ALPHA",
        )
    )
    add(
        _family(
            "app_log",
            [
                "application log entries by level",
                "app log events per log level",
            ],
            "group",
            dataset=app,
            key="level",
        )
    )
    add(
        _family(
            "app_log",
            [
                "warning app log entries per service",
            ],
            "group",
            dataset=app,
            key="service",
            where=lambda r, d: r["level"] == "WARNING",
        )
    )
    add(
        _family(
            "app_log",
            [
                "Which site has the most ERROR app log entries?",
            ],
            "rank",
            dataset=app,
            key="site",
            limit=1,
            where=lambda r, d: r["level"] == "ERROR",
        )
    )
    add(
        _family(
            "app_log",
            [
                "How many app log entries from Texas in the evening?",
            ],
            "count",
            dataset=app,
            where=lambda r, d: r["region"] == "Texas" and _hours(18, 22)(r, d),
        )
    )

    add(
        _family(
            "app_log",
            [
                "How many critical events in the operator service?",
            ],
            "count",
            dataset=app,
            where=lambda r, d: r["level"] == "CRITICAL" and r["service"] == "operator",
        )
    )
    add(
        _family(
            "app_log",
            [
                "Which service logged the most errors?",
            ],
            "rank",
            dataset=app,
            key="service",
            limit=1,
            where=lambda r, d: r["level"] == "ERROR",
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many requests did 10.20.3.17 make?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["ip"] == "10.20.3.17",
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many 404s after 18:00?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["status"] == "404" and r["ts"].hour >= 18,
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many requests from the python script got rate limited?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["client"] == "python-requests" and r["status"] == "429",
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many requests with latency over 100 ms?",
                "How many requests took more than 0.1 s?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: r["latency_ms"] > 100,
        )
    )
    add(
        _family(
            "log_count",
            [
                "How many 5xx responses slower than 200 ms?",
            ],
            "count",
            dataset=http,
            where=lambda r, d: _status(500, 599)(r, d) and r["latency_ms"] > 200,
        )
    )
    add(
        _family(
            "log_ranking",
            [
                "Which hour had the most server errors?",
            ],
            "rank",
            dataset=http,
            key="hour",
            limit=1,
            where=_status(500, 599),
        )
    )

    # ---- shares: the part over the whole (the question without the part's constraint)
    add(
        _family(
            "share",
            [
                "What percentage of incidents were major?",
                "What share of incidents were serious?",
            ],
            "share",
            dataset=inc,
            where=lambda r, d: r["severity"] == "major",
            whole=_all,
        )
    )
    add(
        _family(
            "share",
            [
                "What share of requests failed?",
                "What percentage of HTTP requests returned an error?",
            ],
            "share",
            dataset=http,
            where=_status(400, 599),
            whole=_all,
        )
    )
    add(
        _family(
            "share",
            [
                "What share of BP incidents in 2024 were serious?",
            ],
            "share",
            dataset=inc,
            where=lambda r, d: (
                r["operator"] == "BP" and r["date"].year == 2024 and r["severity"] == "major"
            ),
            whole=lambda r, d: r["operator"] == "BP" and r["date"].year == 2024,
        )
    )
    add(
        _family(
            "share",
            [
                "What percentage of requests from 10.20.3.17 returned 400?",
            ],
            "share",
            dataset=http,
            where=lambda r, d: r["ip"] == "10.20.3.17" and r["status"] == "400",
            whole=lambda r, d: r["ip"] == "10.20.3.17",
        )
    )
    add(
        _family(
            "share",
            [
                "What fraction of app log entries are errors?",
            ],
            "share",
            dataset=app,
            where=lambda r, d: r["level"] == "ERROR",
            whole=_all,
        )
    )

    # ---- constraints recognised but not recorded: listed as not understood, rest applied
    add(
        _family(
            "not_understood",
            [
                "How many turbine incidents in 2024?",
                "How many incidents at turbines in 2024?",
            ],
            "not_understood",
            dataset=inc,
            where=_year(2024),
            words=["turbine"],
        )
    )
    add(
        _family(
            "not_understood",
            [
                "How many incidents had severity level 2?",
            ],
            "not_understood",
            dataset=inc,
            words=["2"],
        )
    )
    add(
        _family(
            "not_understood",
            [
                "How many BP incidents at night?",
            ],
            "not_understood",
            dataset=inc,
            where=lambda r, d: r["operator"] == "BP",
            words=["at night"],
        )
    )
    add(
        _family(
            "not_understood",
            [
                "How many fatal incidents in 2024?",
            ],
            "not_understood",
            dataset=inc,
            where=_year(2024),
            words=["fatal"],
        )
    )
    add(
        _family(
            "not_understood",
            [
                "How many 404 responses from devices in ALERT state?",
            ],
            "not_understood",
            dataset=http,
            where=_status(404),
            words=["in ALERT state"],
        )
    )
    add(
        _family(
            "not_understood",
            [
                "How many BP incidents involving contractors?",
            ],
            "not_understood",
            dataset=inc,
            where=lambda r, d: r["operator"] == "BP",
            words=["contractors"],
        )
    )
    add(
        _family(
            "not_understood",
            [
                "How many gateway requests at TX-BRAVO?",
            ],
            "not_understood",
            dataset=http,
            where=lambda r, d: r["client"] == "tier0-gateway",
            words=["TX-BRAVO"],
        )
    )

    # ---- named values the records do not contain: say so, give no figure
    add(
        _family(
            "not_found",
            [
                "How many incidents for operator Acme Oil?",
                "How many incidents occurred in Shell operations in 2024?",
                "How many incidents did ExxonMobil have in 2024?",
                "Count Chevron's incidents",
            ],
            "not_found",
            dataset=inc,
            expect="operator",
        )
    )
    add(
        _family(
            "not_found",
            [
                "How many incidents at ZZ-KILO?",
                "how many incidents at the Kilo site",
                "How many incidents at site Zulu in 2024?",
            ],
            "not_found",
            dataset=inc,
            expect="site",
        )
    )
    add(
        _family(
            "not_found",
            [
                "How many incidents in Ohio?",
                "How many incidents were recorded in Florida in 2024?",
            ],
            "not_found",
            dataset=inc,
            expect="region",
        )
    )
    add(
        _family(
            "not_found",
            [
                "How many major incidents in 2019?",
                "How many incidents were recorded in 2030?",
            ],
            "not_found",
            dataset=inc,
            expect="date",
        )
    )
    add(
        _family(
            "not_found",
            [
                "How many requests from 1.2.3.4?",
                "Which status codes did 192.0.2.99 get most?",
            ],
            "not_found",
            dataset=http,
            expect="ip",
        )
    )
    add(
        _family(
            "not_found",
            [
                "How many HTTP 418 responses?",
                "How many status 502 errors came from 10.0.0.1?",
            ],
            "not_found",
            dataset=http,
            expect=None,
        )
    )
    add(
        _family(
            "not_found",
            [
                "How many requests to /api/v9/unknown?",
            ],
            "not_found",
            dataset=http,
            expect="path",
        )
    )
    add(
        _family(
            "not_found",
            [
                "Describe Shell drilling operations",
                "What are Halliburton's hard hat rules?",
            ],
            "not_found",
            dataset="documents",
            expect="operator",
        )
    )

    # ---- contradictions: say what contradicts what, give no figure
    add(
        _family(
            "contradiction",
            [
                "incidents between 2025 and 2023",
                "How many incidents from 2025 to 2023?",
            ],
            "contradiction",
            dataset=inc,
        )
    )
    add(
        _family(
            "contradiction",
            [
                "How many incidents at TX-BRAVO in Wyoming?",
                "How many incidents at ND-CHARLIE in Texas in 2024?",
            ],
            "contradiction",
            dataset=inc,
        )
    )
    add(
        _family(
            "contradiction",
            [
                "How many incidents in 2023 since 2024?",
            ],
            "contradiction",
            dataset=inc,
        )
    )
    add(
        _family(
            "contradiction",
            [
                "How many 404 server errors?",
            ],
            "contradiction",
            dataset=http,
        )
    )
    add(
        _family(
            "contradiction",
            [
                "How many major non-major incidents?",
            ],
            "contradiction",
            dataset=inc,
        )
    )

    # ---- counts of things no records count: said so, then what the documents say
    out += [
        Case("uncounted", q, "uncounted", words=[w])
        for q, w in (
            ("How many employees does BP have?", "employees"),
            ("How many wells did Northwind drill in 2024?", "wells"),
            ("How many turbines are at WY-ALPHA?", "turbines"),
            ("How many apprenticeships are offered?", "apprenticeships"),
            ("What is the number of rigs BP runs?", "rigs"),
        )
    ]

    # ---- out of domain: nothing relevant, no figure
    add(
        _family(
            "out_of_scope",
            [
                "What is the airspeed velocity of an unladen swallow?",
                "Who won the 2018 world cup?",
                "What's the weather in Paris tomorrow?",
                "Give me a recipe for banana bread",
                "What is the capital of Australia?",
                "Translate good morning into French",
                "Who painted the Mona Lisa?",
                "Recommend a good science fiction novel",
            ],
            "out_of_scope",
        )
    )
    return out


# --------------------------------------------------------------------------- scoring

_NUMBER = re.compile(r"(?<![A-Za-z0-9])\d+(?:[.:]\d+)*")


def numbers(text: str) -> set[str]:
    """Number tokens as a reader sees them: 421, 18.68, 10.20.3.17, 2025-12-10 -> parts."""
    return set(_NUMBER.findall(text))


def uncited_numbers(body: dict[str, Any], question: str) -> set[str]:
    """Numbers in the answer that no computed figure, interpretation, source or the
    question contains."""
    allowed = numbers(question) | numbers(json.dumps(body["figures"]))
    allowed |= numbers(json.dumps(body["interpretation"]))
    for s in body["sources"]:
        allowed |= numbers(f"{s['title']} {s['snippet']}")
    # percentages are written from a computed rate (figures carry it as "18.68")
    return numbers(body["answer"]) - allowed


def score(case: Case, body: dict[str, Any], raw: Raw) -> list[str]:
    """What is wrong with ``body`` as an answer to ``case`` (empty: correct)."""
    problems: list[str] = []
    it = body["interpretation"]
    bad = uncited_numbers(body, case.question)
    if bad:
        problems.append(f"numbers neither computed nor cited: {sorted(bad)}")
    if case.kind == "uncounted":
        said = [n["text"] for n in it["not_understood"]]
        if body["route"] != "documents" or case.words != said:
            problems.append(f"expected {case.words} reported as counted by no records, got {said}")
        elif f"No records count '{case.words[0]}'" not in body["answer"]:
            problems.append("the answer does not say that no records count it")
        return problems
    if case.kind == "out_of_scope":
        if body["found"] or body["sources"]:
            problems.append("an out-of-scope question got an answer with sources")
        return problems
    if case.kind == "not_found":
        fields = [n["field"] for n in it["not_found"]]
        if body["found"] or not fields:
            problems.append(f"expected not found, got found={body['found']} not_found={fields}")
        elif case.expect and case.expect not in fields:
            problems.append(f"expected {case.expect} not found, got {fields}")
        if body["figures"].get("total"):
            problems.append("a not-found answer carries a figure")
        return problems
    if case.kind == "contradiction":
        if body["found"] or not it["contradictions"]:
            problems.append(f"expected a contradiction, got {it}")
        return problems
    want = expected(case, raw)
    if it["not_found"] or it["contradictions"]:
        problems.append(f"unexpected refusal: {it['not_found']} {it['contradictions']}")
        return problems
    figures = body["figures"]
    if case.kind == "share" and case.whole is not None:
        whole = sum(case.whole(r, raw) for r in raw.rows(case.dataset))
        pct = f"{100 * want.total / whole:.2f}"
        if (figures.get("whole"), figures.get("share_pct")) != (
            whole,
            pct,
        ) or f"{pct}%" not in body["answer"]:
            problems.append(
                f"share {figures.get('share_pct')} of {figures.get('whole')} != {pct} of {whole}"
            )
    if figures.get("total") != want.total:
        problems.append(f"total {figures.get('total')} != expected {want.total}")
    if body["found"] != (want.total > 0):
        problems.append(f"found={body['found']} with expected total {want.total}")
    if case.kind == "group":
        got = {g["key"]: g["count"] for g in figures.get("groups", [])}
        if got != want.groups:
            problems.append(f"groups {got} != expected {want.groups}")
    elif case.kind == "rank":
        got_list = [(g["key"], g["count"]) for g in figures.get("groups", [])]
        if got_list != want.groups or figures.get("tied_beyond", 0) != want.tied_beyond:
            problems.append(
                f"ranking {got_list} (+{figures.get('tied_beyond')}) != expected {want.groups} (+{want.tied_beyond})"
            )
        for key, _ in want.groups or []:
            if key not in body["answer"]:
                problems.append(f"ranked {key} missing from the answer")
    elif want.total and str(want.total) not in numbers(body["answer"]):
        problems.append(f"the answer does not state the total {want.total}")
    if case.kind == "not_understood":
        said = " ".join(n["text"] for n in it["not_understood"])
        for w in case.words:
            if w.lower() not in said.lower() or w not in body["answer"]:
                problems.append(f"'{w}' not reported as not understood ({it['not_understood']})")
    elif it["not_understood"]:
        problems.append(f"spurious not understood: {it['not_understood']}")
    return problems
