"""Who may fail over, decided by Kubernetes RBAC, against the REAL local API server.

The identities are the ones `make up` creates (tier0_devenv.k8s.stack.apply_identities
runs here as it does there: the chart's operator Role, the API's and the user's
accounts and Roles, tokens written 0600), plus two more accounts for the cases make up
does not hand out: one bound to nothing, one that may also force. The region API runs
in-process under the API ServiceAccount's token; the operator runs for real.
"""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.k8s_objects import (  # noqa: F401  (fixtures)
    SERVICE,
    GroupFactory,
    Namespace,
    OperatorProcess,
    admin,
    can_i_list,
    cluster,
    make_group,
    namespace,
    operator,
    regions,
    rule_pairs,
)
from tier0_api.app import create_app
from tier0_api.settings import Settings
from tier0_common.failover_crd import REQUESTED_BY_ANNOTATION
from tier0_devenv import rbac
from tier0_devenv.k8s import stack as kube_stack
from tier0_devenv.rbac import FORCER_ROLE, REQUESTER_ROLE, USER_ACCOUNT
from tier0_devenv.settings import DevenvSettings

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

WAIT_SECONDS = 30


class Identities:
    """Bearer tokens of the test's users, by name."""

    def __init__(self, ns: Namespace, settings: DevenvSettings) -> None:
        self.ns = ns
        self.settings = settings
        self.tokens: dict[str, str] = {
            "requester": kube_stack.user_token_file(settings).read_text().strip()
        }

    def add(self, name: str, *roles: str) -> str:
        self.ns.kubectl("create", "serviceaccount", name)
        for role in roles:
            self.ns.kubectl("create", "rolebinding", f"{name}-{role}", f"--role={role}",
                            f"--serviceaccount={self.ns.name}:{name}")  # fmt: skip
        token = self.ns.kubectl("create", "token", name, "--duration=1h").strip()
        self.tokens[name] = token
        return token

    def user(self, name: str) -> str:
        account = USER_ACCOUNT if name == "requester" else name
        return f"system:serviceaccount:{self.ns.name}:{account}"

    def header(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture
def identities(namespace: Namespace, tmp_path: Path) -> Identities:  # noqa: F811
    settings = DevenvSettings(run_dir=tmp_path / "run")
    kube_stack.apply_identities(namespace.cluster, namespace.name, settings)
    ids = Identities(namespace, settings)
    ids.add("nobody")
    ids.add("breakglass", REQUESTER_ROLE, FORCER_ROLE)
    return ids


@pytest.fixture
async def api(identities: Identities) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        kubeconfig=str(kube_stack.api_kubeconfig(identities.settings)),
        failover_group=SERVICE,
        failover_wait_seconds=WAIT_SECONDS,
        log_level="WARNING",
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://region1", timeout=WAIT_SECONDS + 10
        ) as http:
            yield http
    finally:
        app.state.failover_store.connection.close()


def test_make_up_writes_its_tokens_private(identities: Identities) -> None:
    for path in (
        kube_stack.user_token_file(identities.settings),
        kube_stack.api_kubeconfig(identities.settings),
        kube_stack.operator_kubeconfig(identities.settings),
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


async def test_no_token_or_a_bad_one_is_401(
    api: httpx.AsyncClient,
    make_group: GroupFactory,  # noqa: F811
) -> None:
    make_group()
    missing = await api.post("/api/failover/simulate")
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthenticated"
    forged = await api.post(
        "/api/failover/simulate", headers={"Authorization": "Bearer not-a-token"}
    )
    assert forged.status_code == 401, forged.text
    assert forged.json()["error"] == "invalid_token"
    assert forged.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_user_without_the_role_is_403_naming_the_permission(
    api: httpx.AsyncClient,
    identities: Identities,
    namespace: Namespace,  # noqa: F811
    make_group: GroupFactory,  # noqa: F811
) -> None:
    make_group()
    for path in ("/api/failover/simulate", "/api/failover/restore"):
        response = await api.post(path, headers=identities.header("nobody"))
        assert response.status_code == 403, response.text
        detail = response.json()["detail"]
        assert identities.user("nobody") in detail
        assert f"create regionfailovers.tier0.io in namespace '{namespace.name}'" in detail
        assert REQUESTER_ROLE in detail
    assert namespace.kubectl("get", "regionfailovers", "-o", "name").strip() == ""


async def test_create_without_force_may_fail_over_but_not_force(
    api: httpx.AsyncClient,
    identities: Identities,
    namespace: Namespace,  # noqa: F811
    make_group: GroupFactory,  # noqa: F811
    operator: OperatorProcess,  # noqa: F811
) -> None:
    make_group()
    operator.start()
    forced = await api.post(
        "/api/failover/simulate",
        json={"force": True, "reason": "break glass"},
        headers=identities.header("requester"),
    )
    assert forced.status_code == 403, forced.text
    assert "force regionfailovers.tier0.io" in forced.json()["detail"]
    assert FORCER_ROLE in forced.json()["detail"]

    done = await api.post(
        "/api/failover/simulate",
        json={"reason": "game day"},
        headers=identities.header("requester"),
    )
    assert done.status_code == 200, done.text
    assert done.json()["phase"] == "Completed"
    rfo = namespace.rfo(done.json()["name"])
    assert rfo["metadata"]["annotations"][REQUESTED_BY_ANNOTATION] == identities.user("requester")
    assert rfo["spec"]["force"] is False
    events = _events(namespace, done.json()["name"])
    requested = [e for e in events if e["reason"] == "FailoverRequested"]
    assert len(requested) == 1
    assert requested[0]["message"].startswith(f"{identities.user('requester')} asked region1")


async def test_force_needs_the_forcer_role_and_is_recorded(
    api: httpx.AsyncClient,
    identities: Identities,
    namespace: Namespace,  # noqa: F811
    make_group: GroupFactory,  # noqa: F811
    operator: OperatorProcess,  # noqa: F811
) -> None:
    make_group()
    operator.start()
    response = await api.post(
        "/api/failover/simulate",
        json={"force": True, "reason": "break glass"},
        headers=identities.header("breakglass"),
    )
    assert response.status_code == 200, response.text
    rfo = namespace.rfo(response.json()["name"])
    assert rfo["spec"]["force"] is True
    assert rfo["metadata"]["annotations"][REQUESTED_BY_ANNOTATION] == identities.user("breakglass")
    message = next(
        e["message"]
        for e in _events(namespace, response.json()["name"])
        if e["reason"] == "FailoverRequested"
    )
    assert "with force (gates skipped)" in message


async def test_read_endpoints_stay_open(
    api: httpx.AsyncClient,
    make_group: GroupFactory,  # noqa: F811
) -> None:
    make_group()
    status = await api.get("/api/failover/status")
    assert status.status_code == 200, status.text


def _events(ns: Namespace, name: str) -> list[dict[str, Any]]:
    out = ns.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}",
                     "-o", "json")  # fmt: skip
    items: list[dict[str, Any]] = json.loads(out)["items"]
    return items


def test_can_i_list_matches_the_documented_rules(identities: Identities) -> None:
    ns = identities.ns
    assert can_i_list(ns.cluster, ns.name, rbac.API_ACCOUNT) == rule_pairs(rbac.API_RULES) | {
        ("tokenreviews.authentication.k8s.io", "create"),
        ("subjectaccessreviews.authorization.k8s.io", "create"),
    }
    assert can_i_list(ns.cluster, ns.name, USER_ACCOUNT) == rule_pairs(rbac.REQUESTER_RULES)
    operator_rules = _chart_operator_rules(ns)
    assert can_i_list(ns.cluster, ns.name, rbac.OPERATOR_ACCOUNT) == rule_pairs(operator_rules)


def _chart_operator_rules(ns: Namespace) -> list[dict[str, Any]]:
    """The rules charts/tier0/templates/operator-rbac.yaml documents, as rendered."""
    out = ns.cluster.helm("template", "tier0", str(kube_stack.CHART), "--namespace", ns.name,
                          "--show-only", "templates/operator-rbac.yaml")  # fmt: skip
    role = next(doc for doc in yaml.safe_load_all(out) if doc and doc["kind"] == "Role")
    rules: list[dict[str, Any]] = role["rules"]
    return rules
