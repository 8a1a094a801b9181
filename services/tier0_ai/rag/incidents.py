"""Exact incident figures: counts with filters and the breakdown by severity."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from tier0_common.redis_search import (
    DIALECT,
    aggregate_rows,
    command,
    count_by,
    search_docs,
    tag_clause,
)
from tier0_common.search_index import index_exists

from .. import keys


@dataclass(slots=True)
class IncidentFigures:
    total: int
    by_severity: dict[str, int]
    records: list[dict[str, str]]  # id, date, site, severity, description (all matching, capped)


async def known_operators(client: aioredis.Redis) -> list[str]:
    if not await index_exists(client, keys.INCIDENT_INDEX):
        return []
    reply = await command(
        client,
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
    reply = await command(client, *count_by(keys.INCIDENT_INDEX, query, "severity", 100))
    by_severity = {r["severity"]: int(r["count"]) for r in aggregate_rows(reply)}
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
