"""What a completed failover reports about its own speed: phase histograms and step times.

The status keeps the RFC 3339 phase timestamps (the record); from them this module
feeds the Prometheus histograms (metrics.py), and from the in-memory step marks the
completion log's ``steps_ms`` (where the milliseconds of one failover went).
"""

from __future__ import annotations

from tier0_common.rfc3339 import maybe_from_rfc3339
from tier0_operator import metrics
from tier0_operator.request import Request

#: (histogram phase, from stamp, to stamp)
PHASES = (
    ("detect", "detectedAt", "requestedAt"),
    ("decide", "requestedAt", "decidedAt"),
    ("patch", "decidedAt", "selectorsPatchedAt"),
    ("endpoints", "selectorsPatchedAt", "endpointsReadyAt"),
    ("first_request", "endpointsReadyAt", "firstSuccessfulRequestAt"),
)


def steps(req: Request, ready_at: float) -> dict[str, float]:
    """Milliseconds from each mark to the next, starting at the request."""
    marks = [("requested", req.requested_at), *req.marks.items(), ("endpoints", ready_at)]
    return {
        f"{a}->{b}": round((tb - ta) * 1000, 1)
        for (a, ta), (b, tb) in zip(marks, marks[1:], strict=False)
    }


def observe(req: Request, latency: float) -> None:
    metrics.FAILOVER_LATENCY.observe(latency)
    stamps = {k: maybe_from_rfc3339(v) for k, v in req.stamps.items()}
    for phase, start, end in PHASES:
        begin, finish = stamps.get(start), stamps.get(end)
        if begin is not None and finish is not None:
            metrics.PHASE_SECONDS.labels(phase=phase).observe(max(finish - begin, 0.0))
