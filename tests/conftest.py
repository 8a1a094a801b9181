"""Suite-wide options and the real-server fixtures every integration test shares.

`--fast` (or TIER0_TESTS=unit) deselects the integration, e2e, k8s and node tests for a quick
loop; the default runs everything, as CI does. Servers are session-scoped and start
lazily (see tests/support/servers.py); the function-scoped clients hand each test a
clean database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from tests.support.k8s import k8s_cluster  # noqa: F401  (session-scoped local control plane)
from tests.support.servers import Endpoint, ServerPool, clean_redis, reap_abandoned

SLOW_MARKERS = ("integration", "e2e", "k8s", "node")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        default=False,
        help="deselect integration, e2e, k8s and node tests (same as TIER0_TESTS=unit)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not (config.getoption("--fast") or os.environ.get("TIER0_TESTS") == "unit"):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        slow = any(item.get_closest_marker(marker) for marker in SLOW_MARKERS)
        (drop if slow else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def tier0_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    # pytest keeps the last few session folders under one root; servers a killed
    # session left there are stopped before new ones start on a 2-core machine.
    reap_abandoned(tmp_path_factory.getbasetemp().parent, "*/tier0-run*")
    pool = ServerPool(tmp_path_factory.mktemp("tier0-run"))
    yield pool
    pool.stop_all()


@pytest.fixture(scope="session")
def mosquitto_server(tier0_servers: ServerPool) -> Endpoint:
    return tier0_servers.mosquitto()


@pytest.fixture(scope="session")
def rabbitmq_server(tier0_servers: ServerPool) -> Endpoint:
    return tier0_servers.rabbitmq()


@pytest.fixture(scope="session")
def redis_region1(tier0_servers: ServerPool) -> Endpoint:
    return tier0_servers.redis("region1")


@pytest.fixture(scope="session")
def redis_region2(tier0_servers: ServerPool) -> Endpoint:
    return tier0_servers.redis("region2")


@pytest.fixture
def redis1(redis_region1: Endpoint) -> Iterator[redis.Redis]:
    client = clean_redis(redis_region1)
    yield client
    client.close()


@pytest.fixture
def redis2(redis_region2: Endpoint) -> Iterator[redis.Redis]:
    client = clean_redis(redis_region2)
    yield client
    client.close()


@pytest.fixture
def rabbitmq_clean(rabbitmq_server: Endpoint, tier0_servers: ServerPool) -> Endpoint:
    tier0_servers.reset_rabbitmq()
    return rabbitmq_server
