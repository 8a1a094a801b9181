"""RFC 3339 timestamps with microseconds, the one format every status field uses.

Failover phases last milliseconds, so the second-precision format of
metadata.creationTimestamp is not enough for the phase timestamps.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_rfc3339(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def maybe_from_rfc3339(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return from_rfc3339(text)
    except ValueError:
        return None
