"""The dashboard's failover button in Chromium, against a region API that checks its
callers with the REAL local Kubernetes API server (TokenReview + SubjectAccessReview).

The identities are `make up`'s (kube_stack.apply_identities) plus an account bound to
nothing. The page asks for the token; it must reach the region API's Authorization
header and nothing else, and every refusal must say what is missing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect

from tests.support.k8s_objects import (  # noqa: F401  (fixtures)
    SERVICE,
    Namespace,
    admin,
    bare_group,
    cluster,
    namespace,
)
from tests.support.processes import Service, child_env
from tests.support.servers import Endpoint, free_port
from tier0_common.failover_crd import REQUESTED_BY_ANNOTATION
from tier0_devenv.k8s import stack as kube_stack
from tier0_devenv.rbac import FORCER_ROLE, REQUESTER_ROLE, USER_ACCOUNT
from tier0_devenv.settings import DevenvSettings

from .conftest import PageProblems, dashboard_service

pytestmark = [pytest.mark.e2e, pytest.mark.k8s]


@dataclass
class AuthStack:
    api: str
    dashboard: str
    namespace: Namespace
    tokens: dict[str, str]


@pytest.fixture
def auth_stack(
    namespace: Namespace,  # noqa: F811
    redis_region1: Endpoint,
    tmp_path: Path,
) -> Iterator[AuthStack]:
    settings = DevenvSettings(run_dir=tmp_path / "run")
    kube_stack.apply_identities(namespace.cluster, namespace.name, settings)
    namespace.kubectl("create", "serviceaccount", "nobody")
    tokens = {
        "requester": kube_stack.user_token_file(settings).read_text().strip(),
        "nobody": namespace.kubectl("create", "token", "nobody", "--duration=1h").strip(),
    }
    namespace.apply(bare_group())
    api_port, dash_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    env = child_env(
        tmp_path / "home",
        {
            "REGION": "region1",
            **redis_region1.redis_env(),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(api_port),
            "CORS_ORIGINS": f"http://127.0.0.1:{dash_port}",
            "KUBECONFIG": str(kube_stack.api_kubeconfig(settings)),
            "FAILOVER_NAMESPACE": namespace.name,
            "FAILOVER_GROUP": SERVICE,
            # No operator here: answer 202 at once once the RegionFailover exists.
            "FAILOVER_WAIT_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
        },
    )
    services = [Service("api-auth", "tier0_api", env, tmp_path / "api.log").start(f"{api}/health")]
    try:
        dash = dashboard_service(
            tmp_path, "dashboard-auth", dash_port, f"region1={api},region2={api}", api
        )
        services.append(dash.start(f"http://127.0.0.1:{dash_port}/health"))
        yield AuthStack(api, f"http://127.0.0.1:{dash_port}", namespace, tokens)
    finally:
        for service in reversed(services):
            service.stop()


def _click(tab: Page, token: str | None, *, force: bool = False) -> str:
    if token is not None:
        tab.locator("#failover-token").fill(token)
        tab.locator("#failover-token").dispatch_event("change")
    tab.locator("#failover-force").set_checked(force)
    tab.locator("#failover-output").evaluate("(node) => { node.dataset.state = 'idle'; }")
    tab.get_by_role("button", name="Simulate failover").click()
    output = tab.locator("#failover-output")
    expect(output).to_have_attribute("data-state", re.compile("^(done|error)$"))
    return output.inner_text()


def test_the_button_acts_as_the_tokens_user_and_says_what_is_missing(
    auth_stack: AuthStack, page: tuple[Page, PageProblems]
) -> None:
    tab, problems = page
    seen: list[Request] = []
    tab.on("request", lambda request: seen.append(request))
    tab.goto(auth_stack.dashboard)
    expect(tab.locator("body")).to_have_attribute("data-ready", "true")
    ns = auth_stack.namespace.name

    text = _click(tab, None)
    assert "401" in text and "Authorization: Bearer" in text, text

    text = _click(tab, auth_stack.tokens["nobody"])
    assert "403" in text, text
    assert f"system:serviceaccount:{ns}:nobody" in text
    assert f"create regionfailovers.tier0.io in namespace '{ns}'" in text
    assert REQUESTER_ROLE in text

    text = _click(tab, auth_stack.tokens["requester"], force=True)
    assert "403" in text and "force regionfailovers.tier0.io" in text and FORCER_ROLE in text

    text = _click(tab, auth_stack.tokens["requester"])
    assert "accepted" in text, text
    (rfo,) = auth_stack.namespace.rfos()
    user = f"system:serviceaccount:{ns}:{USER_ACCOUNT}"
    assert rfo["metadata"]["annotations"][REQUESTED_BY_ANNOTATION] == user
    assert rfo["spec"]["force"] is False

    # The token went to the region API only, never to the dashboard's own server.
    with_token = [r for r in seen if "authorization" in r.headers]
    assert with_token, "the page never sent the token"
    assert all(r.url.startswith(auth_stack.api) for r in with_token)
    assert all(r.method == "POST" for r in with_token)
    assert problems.errors == []


def test_token_never_leaves_the_tab(auth_stack: AuthStack, page: tuple[Page, PageProblems]) -> None:
    """Kept in sessionStorage of this tab: a new browser context starts empty."""
    tab, _ = page
    tab.goto(auth_stack.dashboard)
    expect(tab.locator("body")).to_have_attribute("data-ready", "true")
    marker = f"token-{uuid.uuid4().hex}"
    tab.locator("#failover-token").fill(marker)
    tab.locator("#failover-token").dispatch_event("change")
    assert tab.evaluate("() => sessionStorage.getItem('tier0.failoverToken')") == marker
    assert tab.evaluate("() => localStorage.length") == 0
    assert tab.evaluate("() => document.cookie") == ""
    other = tab.context.browser.new_context()  # type: ignore[union-attr]
    try:
        fresh = other.new_page()
        fresh.goto(auth_stack.dashboard)
        expect(fresh.locator("body")).to_have_attribute("data-ready", "true")
        expect(fresh.locator("#failover-token")).to_have_value("")
    finally:
        other.close()
