"""MQTT ingest: one region's worker that moves device telemetry from Mosquitto into
that region's Redis, keeping the latest state of every device.

Modules: ``settings`` (env), ``session`` (the MQTT connection: connect, subscribe,
chunked reads, keep-alive), ``validate`` (bytes to a validated ``Reading``, or a
reason to refuse), ``redis_encoding`` (a reading as the RESP text of its HSET),
``writer`` (pipelined, coalesced batches to Redis), ``worker`` (the loop:
batching, back-off, reconnects), ``metrics`` (Prometheus), ``__main__`` (wiring).
"""
