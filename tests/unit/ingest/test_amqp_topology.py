"""The RabbitMQ topology is pinned: changing queue arguments breaks redeclaration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tier0_common.catalog import ACTIVITY_BINDING_KEY as BINDING_KEY
from tier0_ingest.amqp.settings import AmqpIngestSettings
from tier0_ingest.amqp.topology import Topology


def test_default_names_per_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGION", "region2")
    settings = AmqpIngestSettings()
    topology = Topology(settings.amqp_exchange, settings.queue)
    assert topology.exchange == "tier0.user-activity"
    assert topology.queue == "tier0.user-activity.region2"
    assert topology.dead_letter_queue == "tier0.user-activity.region2.dlq"
    assert topology.dead_letter_exchange == "tier0.user-activity.region2.dlq"


def test_queue_arguments_route_rejects_to_the_dead_letter_exchange() -> None:
    topology = Topology("ex", "ex.region1")
    assert topology.queue_arguments() == {"x-dead-letter-exchange": "ex.region1.dlq"}
    assert BINDING_KEY == "activity.#"


def test_each_region_gets_its_own_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMQP_EXCHANGE", "t.x")
    queues = set()
    for region in ("region1", "region2"):
        monkeypatch.setenv("REGION", region)
        queues.add(AmqpIngestSettings().queue)
    assert queues == {"t.x.region1", "t.x.region2"}


def test_explicit_queue_name_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGION", "region1")
    monkeypatch.setenv("AMQP_QUEUE", "custom")
    assert AmqpIngestSettings().queue == "custom"


@pytest.mark.parametrize(
    "env",
    [{}, {"REGION": "Region 1"}, {"REGION": "region1", "PREFETCH": "0"}],
)
def test_bad_settings_fail_fast(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    monkeypatch.delenv("REGION", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError):
        AmqpIngestSettings()


def test_empty_names_are_refused() -> None:
    with pytest.raises(ValueError):
        Topology("", "q")
