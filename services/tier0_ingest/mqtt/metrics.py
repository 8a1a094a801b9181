"""Prometheus metrics of the MQTT ingest worker.

Dead letters are counted by the shared ``tier0_ingest_dead_letters_total{source="mqtt"}``
(see ``tier0_ingest.deadletter``). Counters move once per batch, not per message, and
the lag histogram samples messages (see ``LAG_SAMPLE_EVERY``): a per-message
``observe`` would cost more than the rest of the message's handling.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

#: Every n-th accepted message has its lag observed.
LAG_SAMPLE_EVERY: Final = 50

RECEIVED = Counter("tier0_mqtt_ingest_received_total", "PUBLISH packets read from Mosquitto")
INGESTED = Counter("tier0_mqtt_ingest_messages_total", "Valid telemetry messages written to Redis")
CANARIES = Counter("tier0_mqtt_ingest_canaries_total", "Canary probes recorded in Redis")
RATE = Gauge(
    "tier0_mqtt_ingest_rate_messages_per_second",
    "Messages written to Redis per second over the last summary interval",
)
BATCH_SIZE = Histogram(
    "tier0_mqtt_ingest_batch_size",
    "Device writes per Redis batch (after coalescing repeats of one device)",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 50000),
)
LAG = Histogram(
    "tier0_mqtt_ingest_lag_seconds",
    "Ingest time minus the device's timestamp_utc (sampled)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
REDIS_WRITE_SECONDS = Histogram(
    "tier0_mqtt_ingest_redis_write_seconds",
    "From sending a batch's pipeline to reading its last reply (the worker decodes the "
    "next batch meanwhile, so this is an upper bound of Redis' own time)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
WHOLE_WRITE_RESETS = Counter(
    "tier0_mqtt_ingest_whole_write_resets_total",
    "Times the worker forgot which static fields Redis holds, so every device's next "
    "write is whole (new Redis connection, failed batch, FULL_WRITE_INTERVAL_SECONDS)",
)
REDIS_ERRORS = Counter("tier0_mqtt_ingest_redis_errors_total", "Failed Redis batch writes")
PENDING = Gauge(
    "tier0_mqtt_ingest_pending_devices",
    "Device states held for the next Redis write (grows while Redis is away)",
)
REJECTED_PACKETS = Counter(
    "tier0_mqtt_ingest_rejected_packets_total",
    "MQTT packets the decoder stepped over (too large, malformed, unsupported QoS, "
    "unknown type); each is also dead-lettered, and the session carries on",
    ["reason"],
)
MQTT_CONNECTS = Counter("tier0_mqtt_ingest_mqtt_connects_total", "Sessions opened to Mosquitto")
MQTT_DISCONNECTS = Counter(
    "tier0_mqtt_ingest_mqtt_disconnects_total",
    "Sessions lost (broker restart, network, a stream whose framing is lost)",
)
ACKED = Counter(
    "tier0_mqtt_ingest_acked_total",
    "QoS 1 deliveries PUBACKed after Redis confirmed their write or dead letter",
)
LAST_WRITE = Gauge(
    "tier0_mqtt_ingest_last_write_timestamp_seconds", "Epoch seconds of the last Redis write"
)
