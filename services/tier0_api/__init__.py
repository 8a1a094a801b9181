"""The region API: one FastAPI backend per region, reading only that region's Redis.

It serves the seed's status, device and user endpoints, the canary probe the operator
uses as its end-to-end gate, health probes and Prometheus metrics. It never writes
fleet data; ingest does (layout in tier0_common.keys).
"""
