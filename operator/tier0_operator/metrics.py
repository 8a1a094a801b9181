"""Prometheus metrics of the operator (served on OPERATOR_METRICS_PORT, default 9200).

Buckets are tuned for a local control plane where a failover takes tens of
milliseconds, while still resolving the seconds a real cluster may take.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

FAILOVERS = Counter(
    "tier0_failovers_total",
    "RegionFailovers handled, by outcome (completed, refused, failed, dry_run).",
    ["outcome"],
)
FAILOVER_LATENCY = Histogram(
    "tier0_failover_latency_seconds",
    "From the request to the Services' EndpointSlices holding only target endpoints.",
    buckets=LATENCY_BUCKETS,
)
PHASE_SECONDS = Histogram(
    "tier0_failover_phase_seconds",
    "Duration of each failover phase (detect, decide, patch, endpoints, first_request).",
    ["phase"],
    buckets=LATENCY_BUCKETS,
)
ACTIVE_REGION = Gauge(
    "tier0_active_region",
    "1 for the region a failover group's Services select, 0 for its other regions.",
    ["group", "region"],
)
AUTOMATION_FROZEN = Gauge(
    "tier0_automation_frozen",
    "1 when a failover group's automatic failover is frozen by its flap budget.",
    ["group"],
)


def set_active_region(group: str, active: str, regions: list[str]) -> None:
    for region in regions:
        ACTIVE_REGION.labels(group=group, region=region).set(1 if region == active else 0)
