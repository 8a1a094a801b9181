"""Exact figures for an interpreted question: counts, breakdowns and rankings.

Every applied constraint becomes a RediSearch clause (TAG, NUMERIC range) or, for a
time of day, an APPLY/FILTER step; FT.AGGREGATE then counts every matching record,
with no sampling. A breakdown lists every value the unfiltered records contain (zero
counts included, except per IP and per hour), so "which site had the fewest" also
sees the sites with none. Ties at a ranking's cut are all kept: "the site with the
most" names every site sharing the highest count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import redis.asyncio as aioredis

from tier0_common.redis_search import (
    DIALECT,
    CommandArg,
    aggregate_rows,
    command,
    escape_tag,
    search_docs,
    search_total,
)
from tier0_common.search_index import index_exists

from .. import keys
from ..names import SITE_STATE
from .understand import SHARE_PART, Interpretation, effective_severities
from .vocabulary import Vocabulary

#: The stored field a group-by reads (``client`` is the user agent's product).
_FIELD = {"client": "agent"}
_NO_ZERO_FILL = frozenset({"ip", "hour", "month"})


@dataclass(slots=True)
class Figures:
    dataset: str
    total: int
    groups: list[tuple[str, int]] = field(default_factory=list)
    by_severity: dict[str, int] = field(default_factory=dict)
    records: list[dict[str, str]] = field(default_factory=list)
    query: str = "*"
    #: How many more values share the last listed count of a top-N ranking.
    tied_beyond: int = 0
    #: For a share: the count without the part's constraints, and the share in percent.
    whole: int | None = None
    share_pct: str | None = None


def _tags(name: str, values: list[str]) -> str:
    return f"@{name}:{{{'|'.join(escape_tag(v) for v in values)}}}"


def _day_number(d: date) -> int:
    return d.year * 10_000 + d.month * 100 + d.day


def _epoch(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()


def _date_range(i: Interpretation, start: date, end: date) -> str:
    if i.dataset == "incidents":
        return f"@datenum:[{_day_number(start)} {_day_number(end)}]"
    lo = _epoch(start) if start.year > 1 else "-inf"
    hi = _epoch(end + timedelta(days=1)) if end.year < 9999 else "+inf"
    return f"@ts:[{lo} ({hi}]"


def query_string(i: Interpretation) -> str:
    """Values of one field are alternatives ("BP and Northwind": either); fields hold
    together; an excluded value ("not at TX-BRAVO") is a negated clause."""
    clauses: list[str] = []
    if i.dataset == "http":
        clauses.append("@kind:{access}")
    elif i.dataset == "app":
        clauses.append("@kind:{app}")
    stored = {"client": "agent", "region": "site"}
    for name in (
        "operator",
        "kind",
        "ip",
        "method",
        "path",
        "level",
        "service",
        "client",
        "site",
        "region",
    ):
        wanted = [v for c in i.applied if c.field == name and not c.exclude for v in c.values]
        if wanted:
            clauses.append(_tags(stored.get(name, name), list(dict.fromkeys(wanted))))
        unwanted = [v for c in i.applied if c.field == name and c.exclude for v in c.values]
        if unwanted:
            clauses.append("-" + _tags(stored.get(name, name), list(dict.fromkeys(unwanted))))
    if any(c.field == "severity" for c in i.applied):
        clauses.append(_tags("severity", effective_severities(i) or ["-"]))
    for c in i.applied:
        if c.field == "latency":
            bound = float(c.values[0][1:])
            clauses.append(
                f"@latency_ms:[({bound} +inf]"
                if c.values[0][0] == ">"
                else f"@latency_ms:[-inf ({bound}]"
            )
    if i.statuses is not None:
        clauses.append(
            "(" + "|".join(f"@status:[{lo} {hi}]" for lo, hi in i.statuses) + ")"
            if i.statuses
            else "@status:[-1 -1]"
        )
    if i.dates is not None:
        ranges = [_date_range(i, start, end) for start, end in i.dates]
        clauses.append("(" + "|".join(ranges) + ")" if ranges else "@year:[-1 -1]")
    clauses += ["-" + _date_range(i, start, end) for start, end in i.excluded_dates]
    return " ".join(clauses) or "*"


def _index(dataset: str) -> str:
    return keys.INCIDENT_INDEX if dataset == "incidents" else keys.LOG_INDEX


def _pipeline_steps(i: Interpretation, group: str | None) -> list[CommandArg]:
    steps: list[CommandArg] = []
    if i.times:
        steps += ["LOAD", "1", "@ts", "APPLY", "@ts % 86400", "AS", "tod"]
        steps += [
            "FILTER",
            " || ".join(f"(@tod >= {a} && @tod < {b})" for a, b in i.times),
        ]
    if group == "hour":
        if not i.times:
            steps += ["LOAD", "1", "@ts"]
        steps += ["APPLY", "floor((@ts % 86400) / 3600)", "AS", "hour"]
    if group == "month":
        steps += ["LOAD", "1", "@datenum", "APPLY", "floor(@datenum / 100)", "AS", "month"]
    return steps


async def _grouped(
    client: aioredis.Redis, i: Interpretation, query: str, group: str | None
) -> dict[str, int]:
    stored = _FIELD.get(group or "", "site" if group == "region" else group)
    by: list[CommandArg] = ["GROUPBY", "1", f"@{stored}"] if group else ["GROUPBY", "0"]
    reply = await command(
        client,
        "FT.AGGREGATE",
        _index(i.dataset),
        query,
        *_pipeline_steps(i, group),
        *by,
        "REDUCE",
        "COUNT",
        "0",
        "AS",
        "count",
        "LIMIT",
        "0",
        "100000",
        *DIALECT,
    )
    out: dict[str, int] = {}
    for row in aggregate_rows(reply):
        key = row.get(stored, "") if group and stored else ""
        if group in ("hour", "month", "year", "status") and key:
            key = str(int(float(key)))
        out[key] = out.get(key, 0) + int(row["count"])
    return out


def _order_key(item: tuple[str, int], descending: bool) -> tuple[int, int, str]:
    key, count = item
    numeric = key.isdigit()
    return (-count if descending else count, int(key) if numeric else 0, key)


def domain(vocab: Vocabulary, dataset: str, group: str) -> list[str]:
    """The values a breakdown lists even with a zero count: those the records contain."""
    if group in _NO_ZERO_FILL:
        return []
    if group == "region":
        sites = vocab.values(dataset, "site")
        return sorted({SITE_STATE[s] for s in sites if s in SITE_STATE})
    return vocab.values(dataset, _FIELD.get(group, group))


async def compute(client: aioredis.Redis, i: Interpretation, vocab: Vocabulary) -> Figures:
    if not await index_exists(client, _index(i.dataset)):
        return Figures(i.dataset, 0)
    query = query_string(i)
    figures = Figures(i.dataset, 0, query=query)
    if i.intent in ("group", "rank") and i.group_by:
        counts = await _grouped(client, i, query, i.group_by)
        if i.group_by == "region":
            folded: dict[str, int] = {}
            for site, n in counts.items():
                state = SITE_STATE.get(site, site)
                folded[state] = folded.get(state, 0) + n
            counts = folded
        named = i.values(i.group_by)
        for value in domain(vocab, i.dataset, i.group_by):
            # a breakdown over named values ("compare BP and Northwind") lists those
            if not named or value in named or i.group_by == "region":
                counts.setdefault(value, 0)
        ordered = sorted(counts.items(), key=lambda kv: _order_key(kv, i.order == "desc"))
        figures.total = sum(counts.values())
        if i.intent == "rank" and i.limit is not None and len(ordered) > i.limit:
            cut = ordered[i.limit - 1][1]
            tied = [kv for kv in ordered[i.limit :] if kv[1] == cut]
            if i.limit == 1:
                # "which site had the most": every site sharing the top count is the answer
                ordered = ordered[:1] + tied
            else:
                ordered = ordered[: i.limit]
                figures.tied_beyond = len(tied)
        figures.groups = ordered
    else:
        figures.total = sum((await _grouped(client, i, query, None)).values())
    if i.intent == "share":
        whole = whole_of(i)
        figures.whole = sum((await _grouped(client, whole, query_string(whole), None)).values())
        figures.share_pct = f"{100 * figures.total / figures.whole:.2f}" if figures.whole else None
    if i.dataset == "incidents":
        figures.by_severity = {
            k: v for k, v in (await _grouped(client, i, query, "severity")).items() if v
        }
        if figures.total <= 200:
            figures.records = await _records(client, query)
    return figures


def whole_of(i: Interpretation) -> Interpretation:
    """The question without its part's constraints: the whole a share is taken of."""
    return replace(
        i,
        intent="count",
        applied=[c for c in i.applied if c.field not in SHARE_PART],
        statuses=None,
    )


async def _records(client: aioredis.Redis, query: str, limit: int = 200) -> list[dict[str, str]]:
    listing = await command(
        client,
        "FT.SEARCH",
        keys.INCIDENT_INDEX,
        query,
        "SORTBY",
        "date",
        "ASC",
        "LIMIT",
        "0",
        str(limit),
        "RETURN",
        "6",
        "incident_id",
        "date",
        "site",
        "severity",
        "operator",
        "description",
        *DIALECT,
    )
    return [f for _, f in search_docs(listing)]


async def ip_seen(client: aioredis.Redis, ip: str) -> bool:
    reply = await command(
        client, "FT.SEARCH", keys.LOG_INDEX, _tags("ip", [ip]), "LIMIT", "0", "0", *DIALECT
    )
    return search_total(reply) > 0
