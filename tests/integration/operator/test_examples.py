"""Every manifest in operator/examples/ is accepted by the real API server as written,
so the examples the docs tell people to `kubectl create` cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.k8s_objects import Namespace

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "operator" / "examples").glob("*.yaml"))


def test_there_are_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {"failover-region2.yaml", "restore-region1.yaml"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_accepted_by_the_api_server(namespace: Namespace, example: Path) -> None:
    # RegionFailover examples use generateName (one object a request), which only
    # `create` accepts; the others are applied as the docs say (the namespace fixture
    # already holds local-demo's objects, so create would collide).
    verb = "create" if "generateName:" in example.read_text() else "apply"
    out = namespace.kubectl(verb, "--dry-run=server", "-f", str(example))
    assert "(server dry run)" in out
