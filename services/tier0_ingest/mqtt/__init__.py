"""MQTT ingest: one region's worker that moves device telemetry from Mosquitto into
that region's Redis, keeping the latest state of every device.

Modules: ``settings`` (env), ``session`` (the MQTT connection: connect, subscribe,
chunked reads, keep-alive), ``validate`` (bytes to a rendered HSET, or a reason to
refuse), ``writer`` (pipelined, coalesced batches to Redis), ``worker`` (the loop:
batching, back-off, reconnects), ``metrics`` (Prometheus), ``__main__`` (wiring).
"""
