"""Exact incident figures: counts with filters and the breakdown by severity."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from .. import keys
from ..redis_search import DIALECT, aggregate_rows, index_exists, search_docs, tag_clause


@dataclass(slots=True)
class IncidentFigures:
    total: int
    by_severity: dict[str, int]
    records: list[dict[str, str]]  # id, date, site, severity, description (all matching, capped)


async def known_operators(client: aioredis.Redis) -> list[str]:
    if not await index_exists(client, keys.INCIDENT_INDEX):
        return []
    reply = await client.execute_command(
        "FT.AGGREGATE",
        keys.INCIDENT_INDEX,
        "*",
        "GROUPBY",
        "1",
        "@operator",
        "LIMIT",
        "0",
        "1000",
        *DIALECT,
    )
    return sorted(r["operator"] for r in aggregate_rows(reply) if r.get("operator"))


def _query(operators: list[str], years: list[int], sites: list[str], severities: list[str]) -> str:
    clauses = []
    if operators:
        clauses.append(tag_clause("operator", operators))
    if years:
        clauses.append("(" + "|".join(f"@year:[{y} {y}]" for y in years) + ")")
    if sites:
        clauses.append(tag_clause("site", sites))
    if severities:
        clauses.append(tag_clause("severity", severities))
    return " ".join(clauses) or "*"


async def figures(
    client: aioredis.Redis,
    operators: list[str],
    years: list[int],
    sites: list[str],
    severities: list[str],
    max_records: int = 200,
) -> IncidentFigures:
    if not await index_exists(client, keys.INCIDENT_INDEX):
        return IncidentFigures(0, {}, [])
    query = _query(operators, years, sites, severities)
    reply = await client.execute_command(
        "FT.AGGREGATE",
        keys.INCIDENT_INDEX,
        query,
        "GROUPBY",
        "1",
        "@severity",
        "REDUCE",
        "COUNT",
        "0",
        "AS",
        "count",
        "LIMIT",
        "0",
        "100",
        *DIALECT,
    )
    by_severity = {r["severity"]: int(r["count"]) for r in aggregate_rows(reply)}
    listing = await client.execute_command(
        "FT.SEARCH",
        keys.INCIDENT_INDEX,
        query,
        "SORTBY",
        "date",
        "ASC",
        "LIMIT",
        "0",
        str(max_records),
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
    return IncidentFigures(
        sum(by_severity.values()), by_severity, [f for _, f in search_docs(listing)]
    )
