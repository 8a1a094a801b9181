"""The whole stack behind the dashboard, for real: two Redis servers with the Query
Engine (the suite's fixtures), both region APIs as ``python -m tier0_api`` processes,
a small AI corpus indexed with ``python -m tier0_ai``, the dashboard as
``python -m tier0_dashboard``, and Debian's Chromium driven by Playwright.

The data written to each region is chosen here and differs between the regions, so a
test can tell the two columns apart and compute every expected figure itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.processes import Service, child_env, run_module
from tests.support.redis_data import (
    fleet,
    make_activity,
    mark_ingest,
    write_activity,
    write_devices,
)
from tests.support.servers import Endpoint, clean_redis, free_port
from tier0_common.catalog import DeviceState, device_identity
from tier0_common.keys import ensure_device_index

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@dataclass(frozen=True)
class RegionData:
    name: str
    devices: int
    alert_every: int
    warn_every: int | None
    users: dict[str, tuple[int, int]]

    def state_of(self, index: int) -> DeviceState:
        if index % self.alert_every == 0:
            return DeviceState.ALERT
        if self.warn_every and index % self.alert_every == self.warn_every:
            return DeviceState.WARN
        return DeviceState.OK

    @property
    def active_users(self) -> int:
        return sum(users for users, _ in self.users.values())

    @property
    def active_connections(self) -> int:
        return sum(conns for _, conns in self.users.values())

    def alerts(self, site_id: str | None = None) -> int:
        return sum(
            1
            for i in range(self.devices)
            if self.state_of(i) is not DeviceState.OK
            and (site_id is None or device_identity(i, self.devices).site_id == site_id)
        )

    def site_devices(self, site_id: str) -> int:
        return sum(
            1 for i in range(self.devices) if device_identity(i, self.devices).site_id == site_id
        )


REGION1 = RegionData("region1", 120, 5, 1, {"SFO-WEB-01": (324, 289), "NYC-WEB-01": (50, 43)})
REGION2 = RegionData("region2", 80, 8, None, {"SFO-WEB-01": (300, 250), "LON-WEB-01": (7, 5)})


@dataclass(frozen=True)
class Stack:
    api1: str
    api2: str
    dashboard: str
    services: tuple[Service, ...]
    #: A second dashboard origin the APIs allow (CORS), for tests that start their own.
    spare_dashboard_port: int


def _seed_region(endpoint: Endpoint, data: RegionData) -> None:
    client = clean_redis(endpoint)
    try:
        # The index exists before the writes, so each hash is indexed as it lands.
        ensure_device_index(client)
        now = time.time()
        write_devices(
            client, ((t, now) for t in fleet(data.devices, seen=now, state_of=data.state_of))
        )
        for seq, (site, (users, conns)) in enumerate(data.users.items(), start=1):
            write_activity(client, make_activity(site, users, conns, seq), now)
        mark_ingest(client, "mqtt", now)
        mark_ingest(client, "amqp", now)
    finally:
        client.close()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dashboard-e2e")


@pytest.fixture(scope="module")
def seeded(
    redis_region1: Endpoint, redis_region2: Endpoint, run_dir: Path
) -> tuple[Endpoint, Endpoint]:
    _seed_region(redis_region1, REGION1)
    _seed_region(redis_region2, REGION2)
    # A small synthetic AI corpus in the region the buttons call (16 images, 2,000 log
    # lines, the 13 documents and 100 incident records), through tier0_ai's own CLI.
    env = child_env(
        run_dir / "home",
        {
            **redis_region1.redis_env(),
            "AI_LOG_LEVEL": "WARNING",
        },
    )
    data = run_dir / "ai"
    run_module(
        "tier0_ai", ["generate", "--out", str(data), "--images", "16", "--logs", "2000"], env, 120
    )
    run_module("tier0_ai", ["index", "--data", str(data)], env, 300)
    return redis_region1, redis_region2


def api_service(
    run_dir: Path, region: str, redis: Endpoint, port: int, origins: str, **extra: str
) -> Service:
    """A region API that lets the browser call it from ``origins`` (CORS_ORIGINS) only."""
    env = child_env(
        run_dir / "home",
        {
            "REGION": region,
            "CORS_ORIGINS": origins,
            **redis.redis_env(),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(port),
            "LOG_LEVEL": "WARNING",
            # The data is written once; keep it "active" and "fresh" for the whole module.
            "ACTIVE_WINDOW_SECONDS": "3600",
            "STALE_AFTER_SECONDS": "3600",
        },
    )
    return Service(f"api-{region}", "tier0_api", env, run_dir / f"api-{region}.log")


def dashboard_service(
    run_dir: Path, name: str, port: int, regions: str, active: str = ""
) -> Service:
    env = child_env(
        run_dir / "home",
        {
            "DASHBOARD_HOST": "127.0.0.1",
            "DASHBOARD_PORT": str(port),
            "REGION_APIS": regions,
            "ACTIVE_API": active,
            "DASHBOARD_REFRESH_SECONDS": "2",
            # The first AI request loads the embedding model (seconds on a busy box).
            "DASHBOARD_REQUEST_TIMEOUT_SECONDS": "60",
            "LOG_LEVEL": "WARNING",
        },
    )
    return Service(name, "tier0_dashboard", env, run_dir / f"{name}.log")


@pytest.fixture(scope="module")
def stack(seeded: tuple[Endpoint, Endpoint], run_dir: Path) -> Iterator[Stack]:
    redis1, redis2 = seeded
    port1, port2, port_dash, port_spare = free_port(), free_port(), free_port(), free_port()
    api1, api2 = f"http://127.0.0.1:{port1}", f"http://127.0.0.1:{port2}"
    origins = f"http://127.0.0.1:{port_dash},http://127.0.0.1:{port_spare}"
    started: list[Service] = []
    try:
        for region, redis, port, url in (("region1", redis1, port1, api1),
                                         ("region2", redis2, port2, api2)):  # fmt: skip
            started.append(
                api_service(run_dir, region, redis, port, origins).start(f"{url}/health")
            )
        dash = dashboard_service(run_dir, "dashboard", port_dash, f"region1={api1},region2={api2}")
        started.append(dash.start(f"http://127.0.0.1:{port_dash}/health"))
        yield Stack(api1, api2, f"http://127.0.0.1:{port_dash}", tuple(started), port_spare)
    finally:
        for service in reversed(started):
            service.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Debian's Chromium, never a browser Playwright downloads (the machine is offline).
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageProblems:
    """Uncaught exceptions and Content-Security-Policy refusals seen by the page."""

    errors: list[str]


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, PageProblems]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems = PageProblems([])
    page.on("pageerror", lambda exc: problems.errors.append(f"uncaught: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.errors.append(f"console: {msg.text}")
            if "Content Security Policy" in msg.text or "Uncaught" in msg.text
            else None
        ),
    )
    yield page, problems
    context.close()
