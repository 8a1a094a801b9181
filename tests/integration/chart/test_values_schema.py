"""values.schema.json refuses bad values before anything reaches a cluster.

Each case is a `--set` that a user could plausibly type; helm must fail and the
message must point at the offending key, so the schema (not a template accident) is
what refused it.
"""

from __future__ import annotations

import pytest

from tests.support.helm import CHART_DIR, Helm

pytestmark = pytest.mark.integration

BAD_VALUES = {
    "unknown key in a region": (
        ['json:regions=[{"name": "region1", "zone": "a"}, {"name": "region2"}]'],
        "zone",
    ),
    "region name outside regionN": (
        ['json:regions=[{"name": "eu-west"}, {"name": "region2"}]'],
        "regions/0/name",
    ),
    "a single region": (['json:regions=[{"name": "region1"}]'], "regions"),
    "unknown top-level key": (["replicaCount=3"], "replicaCount"),
    "a password in values": (["redis.auth.password=hunter2hunter2"], "password"),
    "unknown log level": (["logLevel=VERBOSE"], "logLevel"),
    "bad service type": (["api.service.type=LoadBalancer"], "type"),
    "negative shards": (["simulators.iot.shards=0"], "shards"),
    "too many sites": (["simulators.iot.numSites=11"], "numSites"),
    "two operators": (["operator.replicas=2"], "replicas"),
    "port out of range": (["mosquitto.port=70000"], "port"),
    "persistence size not a quantity": (["redis.persistence.size=lots"], "size"),
    "api failover switch not a boolean": (["api.failover.enabled=sometimes"], "enabled"),
    "api account not a DNS name": (["api.serviceAccount.name=Region_API"], "name"),
    "image tag with a colon": (["image.tag=v1:latest"], "tag"),
    "digest that is not sha256 hex": (["image.tag=v1@sha256:xyz"], "tag"),
    "operator pull policy unknown": (["operator.image.pullPolicy=Sometimes"], "pullPolicy"),
    "group nodePort outside the NodePort range": (
        ["api.service.groupNodePort=8080"],
        "groupNodePort",
    ),
    "redis module not a .so path": (["redis.modules[0]=redisearch"], "modules"),
    "relative broker binDir": (["rabbitmq.binDir=usr/lib"], "binDir"),
}


@pytest.mark.parametrize("set_values,key", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_schema_rejects(helm_cli: Helm, set_values: list[str], key: str) -> None:
    args = ["template", "tier0", str(CHART_DIR)]
    for item in set_values:
        if item.startswith("json:"):
            args += ["--set-json", item.removeprefix("json:")]
        else:
            args += ["--set", item]
    result = helm_cli.run(*args, check=False)
    assert result.returncode != 0, f"helm accepted {set_values}"
    assert "schema" in result.stderr.lower() and key in result.stderr, result.stderr


def test_initial_region_must_be_a_region(helm_cli: Helm) -> None:
    result = helm_cli.run(
        "template", "tier0", str(CHART_DIR), "--set", "failover.initialRegion=region7", check=False
    )
    assert result.returncode != 0
    assert "initialRegion" in result.stderr and "region7" in result.stderr


def test_good_overrides_are_accepted(helm_cli: Helm) -> None:
    objects = helm_cli.template(
        set_values=[
            "regions[0].name=region1",
            "regions[1].name=region2",
            "regions[2].name=region3",
            "failover.gates.freshnessBudgetSeconds=null",
            "api.service.type=NodePort",
            "regions[0].nodePort=30800",
        ]
    )
    names = {o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"}
    assert "tier0-api-region3" in names
