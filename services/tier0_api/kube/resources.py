"""The RegionFailover/FailoverGroup wire format the API speaks.

These names mirror charts/tier0/crds/*.yaml and the operator's constants; they are
repeated here, not imported from tier0_operator, so the region API does not depend on
the operator's package. tests/unit/api/test_failover_decisions.py checks them against
the CRD files.
"""

from __future__ import annotations

GROUP = "tier0.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
RF_KIND = "RegionFailover"
RF_PLURAL = "regionfailovers"
FG_PLURAL = "failovergroups"

#: RFC 3339 (microseconds) time of the request: the operator measures latency from it.
REQUESTED_AT_ANNOTATION = "tier0.io/requested-at"
#: Which endpoint and region API created the object (for `kubectl describe`).
REQUESTED_VIA_ANNOTATION = "tier0.io/requested-via"
#: Label naming the FailoverGroup (the operator sets it on automatic failovers too).
GROUP_LABEL = "tier0.io/failover-group"
AUTOMATIC_REASON = "automatic"

PHASE_COMPLETED = "Completed"
PHASE_FAILED = "Failed"
PHASE_REFUSED = "Refused"
TERMINAL_PHASES = frozenset({PHASE_COMPLETED, PHASE_FAILED, PHASE_REFUSED})
#: Every phase the CRD allows.
PHASES = frozenset({"Pending", "InProgress", *TERMINAL_PHASES})
