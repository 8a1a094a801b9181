"""Traffic follows the Service: real uvicorn processes, a Service-like TCP forwarder.

Two region API processes (``python -m tier0_api``, as the pods run it) sit behind
tests/support/tcp_proxy.py, which pins each connection to the backend current when it
was opened, as kube-proxy's conntrack does. Client threads send a steady stream of
keep-alive GETs through it while the old backend gets SIGTERM (a pod deletion) or the
forwarder switches backends (a failover). No request may fail, and the answers must
move to the other region.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.processes import Service, start_region_api
from tests.support.servers import Endpoint, free_ports
from tests.support.tcp_proxy import ServiceProxy
from tests.support.wait import wait_for
from tier0_api.shutdown import REGION_HEADER

pytestmark = pytest.mark.integration

CLIENTS = 4
PATH = "/fastapi/region1/getappversion"


@dataclass
class Answer:
    at: float
    region: str | None
    status: int | None
    closes: bool
    error: str | None = None


@dataclass
class Stream:
    """CLIENTS threads, each one keep-alive httpx.Client, GETting until stopped."""

    url: str
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5.0) as http:
            while not self.stop.is_set():
                try:
                    r = http.get(PATH)
                    answer = Answer(
                        time.monotonic(),
                        r.headers.get(REGION_HEADER),
                        r.status_code,
                        r.headers.get("connection") == "close",
                    )
                except httpx.HTTPError as exc:
                    answer = Answer(time.monotonic(), None, None, False, repr(exc))
                with self.lock:
                    self.answers.append(answer)

    def start(self) -> Stream:
        self.threads = [threading.Thread(target=self._run) for _ in range(CLIENTS)]
        for thread in self.threads:
            thread.start()
        return self

    def finish(self) -> list[Answer]:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
        return list(self.answers)

    def count(self, region: str, *, closing: bool = False) -> int:
        with self.lock:
            return sum(1 for a in self.answers if a.region == region and (a.closes or not closing))


@pytest.fixture
def two_regions(
    tmp_path: Path, redis_region1: Endpoint, redis1: object
) -> Iterator[tuple[Service, Service, int, int]]:
    old_port, new_port = free_ports(2)
    old = start_region_api(
        tmp_path,
        redis_region1,
        "region1",
        old_port,
        SHUTDOWN_DRAIN_SECONDS="3",
        SHUTDOWN_TIMEOUT_SECONDS="5",
        CONNECTION_MAX_AGE_SECONDS="0.5",
    )
    new = start_region_api(
        tmp_path,
        redis_region1,
        "region2",
        new_port,
        CONNECTION_MAX_AGE_SECONDS="0.5",
    )
    try:
        yield old, new, old_port, new_port
    finally:
        old.stop()
        new.stop()


def failures(answers: list[Answer]) -> list[Answer]:
    return [a for a in answers if a.error is not None or a.status != 200]


def test_sigterm_during_a_keep_alive_stream_loses_no_request(
    two_regions: tuple[Service, Service, int, int],
) -> None:
    old, _new, old_port, new_port = two_regions
    proxy = ServiceProxy(old_port).start()
    stream = Stream(proxy.url).start()
    try:
        wait_for(lambda: stream.count("region1") >= 100, 20, what="answers from region1")
        assert old.process is not None
        old.process.send_signal(signal.SIGTERM)
        # Readiness flips at once, while the process keeps serving.
        ready = f"http://127.0.0.1:{old_port}/health/ready"
        drained = wait_for(
            lambda: (r := httpx.get(ready, timeout=2)).status_code == 503 and r.json(),
            5,
            what="readiness 503 on the draining region",
        )
        assert drained["reason"].startswith("draining")
        # kube-proxy lags the EndpointSlice: new connections still reach the draining
        # process for a while, and must be served (Connection: close each time).
        wait_for(
            lambda: stream.count("region1", closing=True) >= 50,
            5,
            what="the draining region serving new connections",
        )
        proxy.switch(new_port)
        wait_for(lambda: old.process.poll() is not None, 20, what="region1 to exit")
        switched = stream.count("region2")
        wait_for(lambda: stream.count("region2") >= switched + 100, 20, what="answers after exit")
    finally:
        answers = stream.finish()
        proxy.stop()
    assert failures(answers) == []
    assert old.process.returncode == 0, old.log_tail()
    last = answers[-CLIENTS * 10 :]
    assert {a.region for a in last} == {"region2"}


def test_keep_alive_clients_follow_a_switched_service(
    two_regions: tuple[Service, Service, int, int],
) -> None:
    """A failover moves the Service; connections opened before it must not stay on
    the old region (both keep running, as in a planned failover)."""
    _old, _new, old_port, new_port = two_regions
    proxy = ServiceProxy(old_port).start()
    stream = Stream(proxy.url).start()
    try:
        wait_for(lambda: stream.count("region1") >= 100, 20, what="answers from region1")
        proxy.switch(new_port)
        # Every connection is at most CONNECTION_MAX_AGE_SECONDS old plus one request.
        settled = time.monotonic() + 1.0
        wait_for(
            lambda: sum(1 for a in list(stream.answers) if a.at > settled) >= 200,
            20,
            what="answers once every connection had time to move",
        )
    finally:
        answers = stream.finish()
        proxy.stop()
    assert failures(answers) == []
    assert {a.region for a in answers if a.at > settled} == {"region2"}
