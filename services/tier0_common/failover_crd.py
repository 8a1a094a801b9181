"""The RegionFailover/FailoverGroup wire format, shared by the operator and the API.

Both sides must agree on these names to the letter, and the region API must not depend
on the operator's package, so they live here in tier0_common. The group, version,
kinds, plurals and phases mirror charts/tier0/crds/*.yaml;
tests/unit/api/test_failover_decisions.py pins them to those files.
"""

from __future__ import annotations

GROUP = "tier0.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
RF_PLURAL = "regionfailovers"
RF_KIND = "RegionFailover"
FG_PLURAL = "failovergroups"
FG_KIND = "FailoverGroup"

#: RFC 3339 (microseconds) time of the request, set by a client at creation, so the
#: operator measures latency from it; creationTimestamp only has second precision.
REQUESTED_AT_ANNOTATION = "tier0.io/requested-at"
#: Which endpoint and region API created the object (for `kubectl describe`).
REQUESTED_VIA_ANNOTATION = "tier0.io/requested-via"
#: The Kubernetes user (from the caller's bearer token) who asked a region API for it.
REQUESTED_BY_ANNOTATION = "tier0.io/requested-by"
#: Set by the operator on automatic RegionFailovers: when the active region was seen failing.
DETECTED_AT_ANNOTATION = "tier0.io/detected-at"
#: A person sets this on a FailoverGroup to lift a frozen automation.
UNFREEZE_ANNOTATION = "tier0.io/unfreeze"
#: Label naming the FailoverGroup (the operator sets it on automatic failovers too).
GROUP_LABEL = "tier0.io/failover-group"
#: Pod label whose value names the region, unless a FailoverGroup sets spec.regionLabel.
DEFAULT_REGION_LABEL = "tier0.io/region"
#: spec.reason of the RegionFailovers the operator creates by itself.
AUTOMATIC_REASON = "automatic"

PHASE_PENDING = "Pending"
PHASE_IN_PROGRESS = "InProgress"
PHASE_COMPLETED = "Completed"
PHASE_FAILED = "Failed"
PHASE_REFUSED = "Refused"
TERMINAL_PHASES = frozenset({PHASE_COMPLETED, PHASE_FAILED, PHASE_REFUSED})
#: Every phase the CRD allows.
PHASES = frozenset({PHASE_PENDING, PHASE_IN_PROGRESS, *TERMINAL_PHASES})
