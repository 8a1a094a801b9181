"""One automation tick (automation.py) and the automatic failover's Freshness gate,
against the in-memory cluster and real HTTP servers standing in for the region APIs.

What the real node showed to be slow or wrong (docs/kubernetes.md, "Real traffic
through failovers"): regions probed one after the other, an automatic failover whose
Freshness gate waited out the vanished source's timeout, and a second automatic
RegionFailover created by the tick that saw the first one finish.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.fake_cluster import FakeCluster, two_region_cluster
from tests.support.region_api import RegionApi
from tests.support.servers import free_port
from tier0_common.failover_crd import AUTOMATIC_REASON, FG_PLURAL, RF_PLURAL
from tier0_operator.automation import GroupAutomation, GroupState
from tier0_operator.reconcile import Failover
from tier0_operator.request import Outcome
from tier0_operator.settings import Settings

GROUP = "api"
SERVICE = "tier0-api"
POLICY = {
    "automatic": True,
    "probeIntervalSeconds": 0.2,
    "failureThreshold": 1,
    "successThreshold": 1,
    "stabilizationWindowSeconds": 0.0,
    "minDwellSeconds": 0.0,
    "maxTransitionsPerHour": 10,
}


@pytest.fixture
def apis() -> Iterator[dict[str, RegionApi]]:
    started = {name: RegionApi(name, free_port()).start() for name in ("region1", "region2")}
    yield started
    for api in started.values():
        api.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as client:
        yield client


def make_cluster(regions: list[dict[str, Any]], **spec: Any) -> FakeCluster:
    return two_region_cluster(GROUP, SERVICE, regions, **spec)


def health_regions(apis: dict[str, RegionApi]) -> list[dict[str, Any]]:
    return [{"name": n, "healthURL": f"{a.url}/health"} for n, a in apis.items()]


def automatic_failovers(cluster: FakeCluster) -> list[dict[str, Any]]:
    return [
        o
        for (_ns, plural, _name), o in cluster.custom.items()
        if plural == RF_PLURAL and o["spec"]["reason"] == AUTOMATIC_REASON
    ]


def test_a_tick_probes_every_region_at_once(apis: dict[str, RegionApi], http: httpx.Client) -> None:
    # Each /health waits for the other's: probed one after the other, the first breaks
    # the barrier at its timeout and both regions are judged unhealthy.
    barrier = threading.Barrier(2, timeout=5.0)
    for api in apis.values():
        api.state.health_barrier = barrier
    cluster = make_cluster(health_regions(apis), policy=POLICY)
    state = GroupAutomation(cluster, http).tick(cluster.namespace, GROUP, GroupState())
    assert {n: t.state.value for n, t in state.trackers.items()} == {
        "region1": "Healthy",
        "region2": "Healthy",
    }


def test_the_tick_that_sees_a_failover_finish_does_not_ask_for_it_again(
    apis: dict[str, RegionApi], http: httpx.Client
) -> None:
    # The automatic failover region1 -> region2 completed while this tick ran: the
    # group it read still says region1 is active, and region1 is still down.
    apis["region1"].state.healthy = False
    cluster = make_cluster(health_regions(apis), policy=POLICY)
    cluster.patch_custom_status(cluster.namespace, FG_PLURAL, GROUP, {"activeRegion": "region1"})
    cluster.add_object(
        RF_PLURAL,
        {
            "metadata": {"name": "api-auto-1"},
            "spec": {
                "group": GROUP,
                "sourceRegion": "region1",
                "targetRegion": "region2",
                "reason": AUTOMATIC_REASON,
            },
        },
    )
    cluster.patch_custom_status(cluster.namespace, RF_PLURAL, "api-auto-1", {"phase": "Completed"})
    automation = GroupAutomation(cluster, http)
    state = automation.tick(cluster.namespace, GROUP, GroupState(pending_failover="api-auto-1"))
    assert state.pending_failover is None
    assert [o["metadata"]["name"] for o in automatic_failovers(cluster)] == ["api-auto-1"]


def test_an_automatic_failovers_freshness_gate_does_not_ask_the_failed_source(
    apis: dict[str, RegionApi], http: httpx.Client
) -> None:
    # The source's API accepts connections but never answers (its pods are draining);
    # asking it would cost the gate the whole probe timeout.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        silent.setblocking(False)
        source_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        cluster = make_cluster(
            [
                {"name": "region1", "apiURL": source_url},
                {"name": "region2", "apiURL": apis["region2"].url},
            ],
            gates={"freshnessBudgetSeconds": 30},
        )
        body = cluster.add_object(
            RF_PLURAL,
            {
                "apiVersion": "tier0.io/v1",
                "kind": "RegionFailover",
                "metadata": {"name": "api-auto-2"},
                "spec": {
                    "group": GROUP,
                    "sourceRegion": "region1",
                    "targetRegion": "region2",
                    "reason": AUTOMATIC_REASON,
                },
            },
        )
        with httpx.Client(timeout=0.5) as quick:
            machine = Failover(cluster, Settings(ENDPOINTS_TIMEOUT_SECONDS=0.2), quick)
            try:
                assert machine.reconcile(body) is Outcome.DONE
            finally:
                machine.reader.close()
        with pytest.raises(BlockingIOError):
            silent.accept()  # nobody connected to the source
    gates = cluster.object(RF_PLURAL, "api-auto-2")["status"]["gates"]
    gate = next(g for g in gates if g["name"] == "Freshness")
    assert gate["passed"] is True
    assert "source unreachable; target data age" in gate["message"]
