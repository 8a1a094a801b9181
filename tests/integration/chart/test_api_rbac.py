"""The region API's Kubernetes identity, as rendered: exactly the Role docs/api.md lists,
bound to the API's own ServiceAccount, and the env that points the failover endpoints
at the chart's FailoverGroup; no Role and no token while the endpoints are off.

The rights are compared with the YAML block in docs/api.md, so the docs, the chart
and this test cannot drift apart silently. test_install_k8s.py checks the same Role
with `kubectl auth can-i` on a real API server.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.helm import REPO_ROOT, Helm
from tier0_devenv import rbac

from . import checks

pytestmark = pytest.mark.integration

API_DOC = REPO_ROOT / "docs" / "api.md"
NAMESPACE = "tier0-prod"
REGIONS = ("region1", "region2")
#: (apiGroup, resource, verb) the failover endpoints need, and nothing else.
EXPECTED_GRANTS = {
    ("tier0.io", "regionfailovers", "create"),
    ("tier0.io", "regionfailovers", "get"),
    ("tier0.io", "regionfailovers", "list"),
    ("tier0.io", "regionfailovers", "watch"),
    ("tier0.io", "failovergroups", "get"),
    ("", "events", "create"),
}
RULE_KEYS = {"apiGroups", "resources", "verbs"}

Grant = tuple[str, str, str]


def grants(rules: list[dict[str, Any]]) -> set[Grant]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def documented_rules(doc: Path = API_DOC) -> list[dict[str, Any]]:
    """The `rules:` block under "RBAC the API's ServiceAccount needs" in docs/api.md."""
    text = doc.read_text()
    start = text.index("RBAC the API's ServiceAccount needs")
    block = re.search(r"```yaml\n(.*?)```", text[start:], re.DOTALL)
    assert block, f"no yaml block after the RBAC paragraph of {doc}"
    return list(yaml.safe_load(block.group(1))["rules"])


def render(helm_cli: Helm, *set_values: str, release: str = "tier0") -> list[checks.Obj]:
    return helm_cli.template(set_values=set_values, release=release, namespace=NAMESPACE)


def api_deployments(objects: list[checks.Obj]) -> list[checks.Obj]:
    return [
        d
        for d in checks.of_kind(objects, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "api"
    ]


def api_account(objects: list[checks.Obj]) -> str:
    (account,) = {
        d["spec"]["template"]["spec"]["serviceAccountName"] for d in api_deployments(objects)
    }
    return str(account)


def roles_bound_to(objects: list[checks.Obj], account: str) -> list[checks.Obj]:
    names = {
        b["roleRef"]["name"]
        for b in checks.of_kind(objects, "RoleBinding")
        if any(s["kind"] == "ServiceAccount" and s["name"] == account for s in b["subjects"])
    }
    return [r for r in checks.of_kind(objects, "Role") if r["metadata"]["name"] in names]


def env_of(deployment: checks.Obj) -> dict[str, str | None]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value") for e in container["env"]}


def test_docs_list_exactly_the_expected_rights() -> None:
    rules = documented_rules()
    assert all(set(rule) == RULE_KEYS for rule in rules)
    assert grants(rules) == EXPECTED_GRANTS


def test_api_role_has_exactly_the_documented_rules(helm_cli: Helm) -> None:
    objects = render(helm_cli)
    account = api_account(objects)
    (role,) = roles_bound_to(objects, account)
    assert role["metadata"]["namespace"] == NAMESPACE
    assert all(set(rule) == RULE_KEYS for rule in role["rules"]), role["rules"]
    assert grants(role["rules"]) == grants(documented_rules()) == EXPECTED_GRANTS
    (binding,) = [
        b
        for b in checks.of_kind(objects, "RoleBinding")
        if b["roleRef"]["name"] == role["metadata"]["name"]
    ]
    assert binding["metadata"]["namespace"] == NAMESPACE
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}
    ]
    assert checks.of_kind(objects, "ClusterRole") == []
    # The one cluster-wide grant: reviewing callers' tokens and permissions.
    (delegator,) = checks.of_kind(objects, "ClusterRoleBinding")
    assert delegator["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "system:auth-delegator",
    }
    assert delegator["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}
    ]


def test_failover_user_roles_are_the_ones_make_up_grants(helm_cli: Helm) -> None:
    """The chart's Roles for people equal tier0_devenv.rbac's, so `make up` proves the
    chart's permissions (docs/security.md)."""
    roles = {r["metadata"]["name"]: r for r in checks.of_kind(render(helm_cli), "Role")}
    assert grants(roles[rbac.REQUESTER_ROLE]["rules"]) == grants(rbac.REQUESTER_RULES)
    assert grants(roles[rbac.FORCER_ROLE]["rules"]) == grants(rbac.FORCER_RULES)
    assert grants(rbac.FORCER_RULES) == {("tier0.io", "regionfailovers", "force")}
    assert grants(documented_rules()) == grants(rbac.API_RULES)


@pytest.mark.parametrize(
    "release,set_values,account,group",
    [
        ("tier0", (), "tier0-api", "tier0-api"),
        ("prod", (), "prod-tier0-api", "prod-tier0-api"),
        ("tier0", ("fullnameOverride=edge",), "edge-api", "edge-api"),
        ("tier0", ("api.serviceAccount.name=region-api",), "region-api", "tier0-api"),
    ],
    ids=["default", "release-name", "fullname-override", "account-name"],
)
def test_api_pods_point_at_the_rendered_failover_group(
    helm_cli: Helm, release: str, set_values: tuple[str, ...], account: str, group: str
) -> None:
    objects = render(helm_cli, *set_values, release=release)
    (failover_group,) = checks.of_kind(objects, "FailoverGroup")
    assert failover_group["metadata"]["name"] == group
    served = checks.by_name(objects, "ServiceAccount", account)
    assert served["automountServiceAccountToken"] is False  # pods opt in, see below
    deployments = api_deployments(objects)
    assert {d["metadata"]["name"].rsplit("-", 1)[1] for d in deployments} == set(REGIONS)
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == account
        assert pod["automountServiceAccountToken"] is True
        env = env_of(deployment)
        assert env["FAILOVER_ENABLED"] == "true"
        assert env["FAILOVER_NAMESPACE"] == failover_group["metadata"]["namespace"] == NAMESPACE
        assert env["FAILOVER_GROUP"] == failover_group["metadata"]["name"]
    assert len(roles_bound_to(objects, account)) == 1


@pytest.mark.parametrize(
    "switch", ["failover.enabled=false", "api.failover.enabled=false"], ids=["no-group", "api-off"]
)
def test_no_role_and_no_token_when_failover_endpoints_are_off(helm_cli: Helm, switch: str) -> None:
    objects = render(helm_cli, switch)
    account = api_account(objects)
    assert roles_bound_to(objects, account) == []
    assert account not in checks.bound_service_accounts(objects)
    served = checks.by_name(objects, "ServiceAccount", account)
    assert served["automountServiceAccountToken"] is False
    for deployment in api_deployments(objects):
        assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
        env = env_of(deployment)
        assert env["FAILOVER_ENABLED"] == "false"
        assert "FAILOVER_GROUP" not in env and "FAILOVER_NAMESPACE" not in env
    # The operator keeps its own Role either way.
    assert roles_bound_to(objects, "tier0-operator")


def test_only_the_api_and_the_operator_hold_a_token(helm_cli: Helm) -> None:
    objects = render(helm_cli)
    holders = {
        obj["metadata"]["labels"]["app.kubernetes.io/component"]
        for obj, template in checks.pod_templates(objects)
        if template["spec"].get("automountServiceAccountToken") is not False
    }
    assert holders == {"api", "operator"}
    users_of_api_account = {
        checks.label_of(obj)
        for obj, template in checks.pod_templates(objects)
        if template["spec"].get("serviceAccountName") == "tier0-api"
    }
    assert users_of_api_account == {f"Deployment/tier0-api-{r}" for r in REGIONS}
    assert checks.tokens_only_where_bound(objects) == []


def test_documented_rules_are_parsed_from_the_right_block(tmp_path: Path) -> None:
    """The docs parser fails loudly when the RBAC block is missing, and reads a changed one."""
    changed = tmp_path / "api.md"
    changed.write_text(
        "RBAC the API's ServiceAccount needs:\n\n```yaml\nrules:\n"
        '  - apiGroups: [""]\n    resources: ["services"]\n    verbs: ["patch"]\n```\n'
    )
    assert grants(documented_rules(changed)) == {("", "services", "patch")}
    missing = tmp_path / "empty.md"
    missing.write_text("RBAC the API's ServiceAccount needs: none\n")
    with pytest.raises(AssertionError):
        documented_rules(missing)
