"""Credentials are generated, never written in values or in the repo.

`helm template` has no cluster, so `lookup` finds nothing and every render draws
fresh passwords: two renders differing proves they are generated. Stability across
upgrades (lookup of the live Secret) is checked on a real API server in
test_install_k8s.py.
"""

from __future__ import annotations

import re

import pytest

from tests.support.helm import CHART_DIR, Helm

from . import checks

pytestmark = pytest.mark.integration


def test_passwords_are_generated_per_render(helm_cli: Helm) -> None:
    first = checks.secret_values(helm_cli.template())
    second = checks.secret_values(helm_cli.template())
    assert set(first) == {
        "tier0-rabbitmq/username",
        "tier0-rabbitmq/password",
        "tier0-rabbitmq/amqp-url",
        "tier0-redis-region1/redis-password",
        "tier0-redis-region1/auth.conf",
        "tier0-redis-region2/redis-password",
        "tier0-redis-region2/auth.conf",
    }
    for key in ("tier0-rabbitmq/password", "tier0-redis-region1/redis-password"):
        assert first[key] != second[key]
        assert len(first[key]) >= 32
    assert (
        first["tier0-redis-region1/redis-password"] != first["tier0-redis-region2/redis-password"]
    )
    assert (
        first["tier0-redis-region1/auth.conf"]
        == f"requirepass {first['tier0-redis-region1/redis-password']}\n"
    )
    password = first["tier0-rabbitmq/password"]
    assert first["tier0-rabbitmq/amqp-url"].startswith(
        f"amqp://tier0:{password}@tier0-rabbitmq:5672/"
    )


def test_no_password_on_a_command_line(helm_cli: Helm) -> None:
    objects = helm_cli.template()
    passwords = [v for k, v in checks.secret_values(objects).items() if k.endswith("password")]
    text = str([c for _, c in checks.containers(objects)])
    assert not [p for p in passwords if p in text]


def test_existing_rabbitmq_secret_is_used_as_is(helm_cli: Helm) -> None:
    objects = helm_cli.template(set_values=["rabbitmq.auth.existingSecret=mine"])
    assert "tier0-rabbitmq" not in {
        s["metadata"]["name"] for s in checks.of_kind(objects, "Secret")
    }
    refs = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for _, c in checks.containers(objects)
        for e in c.get("env", [])
        if e["name"] in {"AMQP_URL", "RABBITMQ_DEFAULT_PASS"}
    }
    assert refs == {"mine"}


def test_cohere_key_comes_only_from_a_named_secret(helm_cli: Helm) -> None:
    plain = helm_cli.template()
    assert not [c for _, c in checks.containers(plain) if "COHERE_API_KEY" in str(c)]
    with_key = helm_cli.template(set_values=["api.cohere.existingSecret=cohere"])
    apis = [
        c for o, c in checks.containers(with_key) if o["metadata"]["name"].startswith("tier0-api-")
    ]
    for container in apis:
        (env,) = [e for e in container["env"] if e["name"] == "COHERE_API_KEY"]
        assert env["valueFrom"]["secretKeyRef"] == {
            "name": "cohere",
            "key": "api-key",
            "optional": True,
        }


def test_values_files_hold_no_credentials() -> None:
    literal = re.compile(r"(?i)(pass(word)?|secret|token|api_?key)\s*:\s*[\"']?[A-Za-z0-9+/]{6,}")
    for path in [CHART_DIR / "values.yaml", *(CHART_DIR / "ci").glob("*.yaml")]:
        assert not literal.search(path.read_text()), path
