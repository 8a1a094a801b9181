"""RFC 3339 timestamps, written and read one way by every component.

Two precisions are on the wire: microseconds for the failover record (phases last
milliseconds, so metadata.creationTimestamp's seconds are not enough) and whole
seconds for the user-activity reports. Reading accepts both and the ``Z`` suffix
(Python 3.11's ``fromisoformat`` does too, but being explicit keeps one rule).
"""

from __future__ import annotations

from datetime import UTC, datetime

MICROS = "%Y-%m-%dT%H:%M:%S.%fZ"
SECONDS = "%Y-%m-%dT%H:%M:%SZ"


def format_rfc3339(moment: datetime) -> str:
    """UTC with microseconds: ``2026-11-30T04:23:34.123456Z``."""
    return moment.astimezone(UTC).strftime(MICROS)


def format_rfc3339_seconds(moment: datetime) -> str:
    """UTC in whole seconds: ``2026-11-30T04:23:34Z``."""
    return moment.astimezone(UTC).strftime(SECONDS)


def to_rfc3339(epoch: float) -> str:
    """Epoch seconds as UTC with microseconds."""
    return datetime.fromtimestamp(epoch, UTC).strftime(MICROS)


def parse_rfc3339(text: str) -> datetime:
    """An aware datetime; naive input is taken as UTC. ValueError when unparsable."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def from_rfc3339(text: str) -> float:
    """Epoch seconds. ValueError when unparsable."""
    return parse_rfc3339(text).timestamp()


def maybe_from_rfc3339(text: str | None) -> float | None:
    """Epoch seconds, or None for a missing or unparsable value."""
    if not text:
        return None
    try:
        return from_rfc3339(text)
    except ValueError:
        return None
