"""The failover endpoints when Kubernetes is off, absent or unreachable, and bad bodies.

No cluster here: an API without Kubernetes must answer 503 with what to set (never a
stack trace or a hang); a mutating call without a token is a 401 before anything is
read or contacted, and an invalid body from an admitted caller is a 422.
tests/integration/security/test_api_auth.py covers tokens against a real API server.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from tier0_api.app import create_app
from tier0_api.settings import Settings

#: Ports this suite may bind (assigned range).
PORT_RANGE = range(25000, 25100)

AppFactory = Callable[[Settings], httpx.AsyncClient]
#: Any token: these tests stop before (or at) the first call to Kubernetes.
TOKEN = {"Authorization": "Bearer some-token"}


@pytest.fixture
def no_kubernetes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No KUBECONFIG, not in a pod, no ~/.kube/config."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[[Settings], httpx.AsyncClient]]:
    apps = []

    def make(settings: Settings) -> httpx.AsyncClient:
        app = create_app(settings)
        apps.append(app)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r1")

    yield make
    for app in apps:
        app.state.failover_store.connection.close()


def closed_port() -> int:
    """A port in our range with nothing listening (bound, then released)."""
    for port in PORT_RANGE:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORT_RANGE}")


async def test_disabled_answers_503_naming_the_setting(make_client: AppFactory) -> None:
    async with make_client(Settings(failover_enabled=False, log_level="ERROR")) as http:
        for call in (
            http.post("/api/failover/simulate"),
            http.post("/api/failover/restore"),
            http.get("/api/failover/status"),
        ):
            response = await call
            assert response.status_code == 503
            assert response.json()["error"] == "failover_disabled"
            assert "FAILOVER_ENABLED=true" in response.json()["detail"]


async def test_no_kubernetes_answers_503_saying_what_to_set(
    no_kubernetes: None, make_client: AppFactory
) -> None:
    async with make_client(Settings(log_level="ERROR")) as http:
        response = await http.post("/api/failover/simulate", headers=TOKEN)
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "kubernetes_not_configured"
    assert "KUBECONFIG" in body["detail"] and "FAILOVER_ENABLED=false" in body["detail"]
    assert body["region"] == "region1"


async def test_bad_kubeconfig_answers_503_naming_the_file(
    no_kubernetes: None, make_client: AppFactory, tmp_path: Path
) -> None:
    path = tmp_path / "broken"
    path.write_text("{not: [valid")
    async with make_client(Settings(kubeconfig=str(path), log_level="ERROR")) as http:
        response = await http.get("/api/failover/status")
    assert response.status_code == 503
    assert str(path) in response.json()["detail"]


async def test_unreachable_api_server_answers_503_quickly(
    make_client: AppFactory, tmp_path: Path
) -> None:
    server = f"https://127.0.0.1:{closed_port()}"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    settings = Settings(kubeconfig=str(kubeconfig), kube_timeout_seconds=2, log_level="ERROR")
    async with make_client(settings) as http:
        started = time.monotonic()
        response = await http.post("/api/failover/simulate", headers=TOKEN)
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["error"] == "kubernetes_unavailable"
    assert server in response.json()["detail"]
    assert elapsed < 5


@pytest.mark.parametrize(
    ("path", "body", "params"),
    [
        ("/api/failover/simulate", {"target_region": "eu-west"}, {}),
        ("/api/failover/simulate", {"reason": ""}, {}),
        ("/api/failover/simulate", {"dry_run": "perhaps"}, {}),
        ("/api/failover/simulate", {"target": "region2"}, {}),  # unknown field: a typo
        ("/api/failover/simulate", None, {"wait_seconds": -1}),
        ("/api/failover/simulate", None, {"wait_seconds": 1000}),
        ("/api/failover/restore", {"region": "region1", "target_region": "region2"}, {}),
        ("/api/failover/restore", {"regoin": "region1"}, {}),
    ],
)
async def test_invalid_requests_are_422_even_without_kubernetes(
    no_kubernetes: None,
    make_client: AppFactory,
    path: str,
    body: dict | None,
    params: dict,
) -> None:
    # A caller admitted without Kubernetes (the loopback setting) reaches validation.
    settings = Settings(log_level="ERROR", failover_trust_loopback=True)
    async with make_client(settings) as http:
        response = await http.post(path, json=body, params=params)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)


@pytest.mark.parametrize("path", ["/api/failover/simulate", "/api/failover/restore"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}],
)
async def test_mutating_calls_without_a_bearer_token_are_401(
    no_kubernetes: None, make_client: AppFactory, path: str, headers: dict[str, str]
) -> None:
    async with make_client(Settings(log_level="ERROR")) as http:
        # Even an invalid body: nothing is validated for an unknown caller.
        response = await http.post(path, json={"force": "yes"}, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["error"] == "unauthenticated"
    assert "Authorization: Bearer" in body["detail"]


async def test_loopback_trust_admits_only_loopback_callers(
    no_kubernetes: None, make_client: AppFactory
) -> None:
    settings = Settings(log_level="ERROR", failover_trust_loopback=True)
    app = create_app(settings)
    remote = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=remote, base_url="http://r1") as http:
        assert (await http.post("/api/failover/simulate")).status_code == 401
    async with make_client(settings) as http:  # ASGITransport's client is 127.0.0.1
        response = await http.post("/api/failover/simulate")
    # Past authentication, on to Kubernetes, which is not configured here.
    assert response.status_code == 503
    assert response.json()["error"] == "kubernetes_not_configured"


def test_loopback_trust_is_off_by_default_and_cors_is_the_dashboard_only() -> None:
    settings = Settings()
    assert settings.failover_trust_loopback is False
    assert settings.cors_origins == ("http://127.0.0.1:3000", "http://localhost:3000")


async def test_history_limit_is_bounded(no_kubernetes: None, make_client: AppFactory) -> None:
    async with make_client(Settings(log_level="ERROR")) as http:
        assert (await http.get("/api/failover/status", params={"limit": 0})).status_code == 422
        assert (await http.get("/api/failover/status", params={"limit": 101})).status_code == 422


async def test_openapi_documents_the_failover_endpoints(make_client: AppFactory) -> None:
    async with make_client(Settings(log_level="ERROR")) as http:
        spec = (await http.get("/openapi.json")).json()
    simulate = spec["paths"]["/api/failover/simulate"]["post"]
    assert {"200", "401", "403", "409", "422", "503", "504"} <= set(simulate["responses"])
    assert simulate["security"] == [{"KubernetesToken": []}]
    assert "security" not in spec["paths"]["/api/failover/status"]["get"]
    assert "/api/failover/restore" in spec["paths"]
    assert "/api/failover/status" in spec["paths"]


@pytest.mark.parametrize(
    "bad",
    [
        {"failover_group": "Not_A_Name"},
        {"failover_namespace": "has.dots"},
        {"failover_wait_seconds": -1},
        {"failover_wait_seconds": 121},
        {"kube_timeout_seconds": 0},
    ],
)
def test_bad_failover_settings_stop_the_process(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Settings(**bad)  # type: ignore[arg-type]


def test_failover_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAILOVER_ENABLED", "false")
    monkeypatch.setenv("KUBECONFIG", "/etc/tier0/kubeconfig")
    monkeypatch.setenv("FAILOVER_NAMESPACE", "tier0")
    monkeypatch.setenv("FAILOVER_GROUP", "edge-api")
    monkeypatch.setenv("FAILOVER_WAIT_SECONDS", "3.5")
    settings = Settings()
    assert settings.failover_enabled is False
    assert settings.kubeconfig == "/etc/tier0/kubeconfig"
    assert (settings.failover_namespace, settings.failover_group) == ("tier0", "edge-api")
    assert settings.failover_wait_seconds == 3.5
