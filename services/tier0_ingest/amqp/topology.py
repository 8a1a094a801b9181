"""What the worker declares on RabbitMQ, as data first and as calls second.

Every region has its own durable queue bound to the shared exchange, so each region
receives every report (active-active) and a region that is down keeps its backlog in
its own queue without slowing the other. A message the worker refuses is rejected
without requeue; the queue's ``x-dead-letter-exchange`` argument makes RabbitMQ move it,
untouched and with an ``x-death`` header saying why, to ``<queue>.dlq``, where it can be
inspected or shovelled back.

Declarations are idempotent as long as the arguments never change: RabbitMQ refuses
(PRECONDITION_FAILED) to redeclare a queue with other arguments. So the argument set is
kept minimal and built in one place, and the unit tests pin it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pika.adapters.blocking_connection import BlockingChannel

from tier0_common.catalog import ACTIVITY_BINDING_KEY, dead_letter_queue

#: Every web site's reports; routing keys are ``activity.<site_id>``.


@dataclass(frozen=True, slots=True)
class Topology:
    exchange: str
    queue: str

    def __post_init__(self) -> None:
        if not self.exchange or not self.queue:
            raise ValueError("exchange and queue names must not be empty")

    @property
    def dead_letter_exchange(self) -> str:
        """Fanout, so a dead letter reaches the DLQ whatever its original routing key."""
        return dead_letter_queue(self.queue)

    @property
    def dead_letter_queue(self) -> str:
        return dead_letter_queue(self.queue)

    def queue_arguments(self) -> dict[str, Any]:
        return {"x-dead-letter-exchange": self.dead_letter_exchange}


def declare(channel: BlockingChannel, topology: Topology) -> None:
    """Declare exchange, DLX, DLQ, queue and bindings; safe to repeat on every connect."""
    channel.exchange_declare(topology.exchange, exchange_type="topic", durable=True)
    channel.exchange_declare(topology.dead_letter_exchange, exchange_type="fanout", durable=True)
    channel.queue_declare(topology.dead_letter_queue, durable=True)
    channel.queue_bind(topology.dead_letter_queue, topology.dead_letter_exchange)
    channel.queue_declare(topology.queue, durable=True, arguments=topology.queue_arguments())
    channel.queue_bind(topology.queue, topology.exchange, routing_key=ACTIVITY_BINDING_KEY)
