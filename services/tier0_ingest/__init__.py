"""Ingest workers: MQTT telemetry (tier0_ingest.mqtt) and AMQP user activity
(tier0_ingest.amqp) into one region's Redis. Each worker writes only its own region."""
