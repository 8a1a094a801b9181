"""Names shared by the CRDs, the operator and its tests, kept in one place.

The group, versions and plurals must match charts/tier0/crds/*.yaml exactly; the
annotations and lease prefix are the operator's own wire format.
"""

from __future__ import annotations

GROUP = "tier0.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
RF_PLURAL = "regionfailovers"
RF_KIND = "RegionFailover"
FG_PLURAL = "failovergroups"
FG_KIND = "FailoverGroup"

DEFAULT_REGION_LABEL = "tier0.io/region"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

#: Optional annotation a client sets at creation (RFC 3339 with microseconds) so the
#: latency is measured from the request; creationTimestamp only has second precision.
REQUESTED_AT_ANNOTATION = "tier0.io/requested-at"
#: Set by the operator on automatic RegionFailovers: when the active region was seen failing.
DETECTED_AT_ANNOTATION = "tier0.io/detected-at"
#: Label on automatic RegionFailovers naming their FailoverGroup (for listing).
GROUP_LABEL = "tier0.io/failover-group"
#: A person sets this on a FailoverGroup to lift a frozen automation.
UNFREEZE_ANNOTATION = "tier0.io/unfreeze"
#: Prefix of the per-Service Leases that keep two failovers from interleaving.
LEASE_PREFIX = "tier0-failover-svc-"
#: Prefix kopf uses for its own progress annotations on our objects.
KOPF_PREFIX = "operator.tier0.io"

AUTOMATIC_REASON = "automatic"

PHASE_PENDING = "Pending"
PHASE_IN_PROGRESS = "InProgress"
PHASE_COMPLETED = "Completed"
PHASE_FAILED = "Failed"
PHASE_REFUSED = "Refused"
TERMINAL_PHASES = frozenset({PHASE_COMPLETED, PHASE_FAILED, PHASE_REFUSED})
