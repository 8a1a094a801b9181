"""The real-node benchmark's load generator (vegeta) against real region API processes.

A Service-like forwarder (tests/support/tcp_proxy.py) sits in front of region1, then a
port nothing listens on (every request fails, as with a Service without endpoints),
then region2: the generator must keep its rate, count every failure inside the dead
stretch, and see region2 answer after the switch.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.real_failover import LoadGenerator, failure_window, first_answer_from, summarize
from tests.support.processes import Service, start_region_api
from tests.support.servers import Endpoint, free_ports
from tests.support.tcp_proxy import ServiceProxy
from tests.support.wait import wait_for

pytestmark = pytest.mark.integration

#: Low enough for two Python API processes on a busy 2-core machine to keep up with.
RATE = 100.0


@pytest.fixture
def regions(tmp_path: Path, redis_region1: Endpoint) -> Iterator[tuple[int, int]]:
    one, two = free_ports(2)
    started: list[Service] = []
    try:
        for region, port in (("region1", one), ("region2", two)):
            started.append(
                start_region_api(
                    tmp_path,
                    redis_region1,
                    region,
                    port,
                    CONNECTION_MAX_AGE_SECONDS="0.5",
                )
            )
        yield one, two
    finally:
        for service in started:
            service.stop()


def test_load_generator_counts_failures_and_sees_the_switch(regions: tuple[int, int]) -> None:
    one, two = regions
    (dead,) = free_ports(1)
    proxy = ServiceProxy(one).start()
    load = LoadGenerator(proxy.url, RATE, max_seconds=60, timeout=30).start()
    try:
        wait_for(lambda: len(load.samples) >= 50, 30, what="answers from region1")
        proxy.switch(dead)
        went_dead = time.monotonic()
        # Every connection reaches the dead port once CONNECTION_MAX_AGE_SECONDS is over.
        wait_for(
            lambda: sum(1 for s in list(load.samples) if not s.ok) >= 25,
            30,
            what="failures while the Service has no endpoint",
        )
        proxy.switch(two)
        came_back = time.monotonic()
        wait_for(
            lambda: first_answer_from(list(load.samples), "region2", came_back) is not None,
            30,
            what="an answer from region2",
        )
        answered = len(load.samples)
        wait_for(
            lambda: len(load.samples) >= answered + 50, 30, what="more traffic after the switch"
        )
    finally:
        samples = load.stop()
        proxy.stop()
    summary = summarize(samples)
    assert summary.failed >= 25
    assert summary.achieved_rate == pytest.approx(RATE, rel=0.2)
    window = failure_window(samples, went_dead, float("inf"))
    assert window.failed == summary.failed
    assert window.last is not None and went_dead + window.last < came_back + 1.0
    assert {s.region for s in samples if s.start < went_dead and s.ok} == {"region1"}
