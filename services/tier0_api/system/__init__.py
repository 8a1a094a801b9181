"""The region's own state: root, health and readiness probes, /api/status, canary receipts.

``routes`` (core endpoints), ``canary`` (the operator's end-to-end canary gate reads
here), ``queries`` (Redis liveness, the device index, ingest freshness), ``schemas``.
"""
