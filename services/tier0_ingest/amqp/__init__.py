"""AMQP ingest: one region's worker that moves user-activity reports from its own
RabbitMQ queue into its own Redis, acknowledging a message only once Redis has it.

Modules: ``settings`` (env), ``topology`` (what is declared on RabbitMQ and why),
``decode`` (bytes to a validated report, or a reason to refuse it), ``writer`` (one
Redis pipeline per batch), ``consumer`` (the ack/reject/requeue discipline and
reconnects), ``metrics`` (Prometheus), ``__main__`` (wiring).
"""
