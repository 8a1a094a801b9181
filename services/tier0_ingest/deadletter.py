"""Dead letters: bad input is counted and set aside, never dropped silently, never fatal.

Both workers park a rejected message in a bounded Redis stream with the reason, so an
operator can see what was refused and why (XRANGE dlq:telemetry - + COUNT 10) while
the worker carries on. The stream is capped (approximate MAXLEN) so a flood of garbage
cannot exhaust the region's memory.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter

from tier0_common.keys import DLQ_MAXLEN

#: Payload bytes kept per dead letter: enough to diagnose, bounded for huge inputs.
MAX_KEPT_PAYLOAD = 2048

DEAD_LETTERS = Counter(
    "tier0_ingest_dead_letters_total",
    "Messages rejected by ingest and parked in a dead-letter stream",
    ["source", "reason"],
)


def reason_label(reason: str) -> str:
    """A low-cardinality metric label from a free-text reason (its first word)."""
    head = reason.split(":", 1)[0].strip().lower().replace(" ", "_")
    return head[:40] or "unknown"


def add_dead_letter(
    pipe: Any,
    stream: str,
    *,
    source: str,
    reason: str,
    payload: bytes,
    where: str = "",
    size: int | None = None,
) -> None:
    """Queue an XADD of one dead letter on a redis pipeline (sync or async) and count it.

    ``size`` is the whole message's when ``payload`` is only its head (an oversized
    MQTT packet is stepped over, never read whole).
    """
    kept = payload[:MAX_KEPT_PAYLOAD]
    size = len(payload) if size is None else size
    pipe.xadd(
        stream,
        {
            "reason": reason[:500],
            "where": where[:256],
            "size": str(size),
            "truncated": "1" if size > len(kept) else "0",
            "payload": kept,
            "at": f"{time.time():.3f}",
        },
        maxlen=DLQ_MAXLEN,
        approximate=True,
    )
    DEAD_LETTERS.labels(source=source, reason=reason_label(reason)).inc()
