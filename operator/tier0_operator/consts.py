"""Names only the operator uses, kept in one place.

The CRD wire format it shares with the region API (group, version, plurals,
annotations, phases) is in tier0_common.failover_crd; these labels and prefixes are
the operator's own.
"""

from __future__ import annotations

SERVICE_NAME_LABEL = "kubernetes.io/service-name"

#: Prefix of the per-Service Leases that keep two failovers from interleaving.
LEASE_PREFIX = "tier0-failover-svc-"
#: Prefix kopf uses for its own progress annotations on our objects.
KOPF_PREFIX = "operator.tier0.io"
