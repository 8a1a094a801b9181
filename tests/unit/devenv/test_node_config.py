"""The real node's generated configuration and its preflight messages (no root needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tier0_devenv.k8s.components import SERVICE_CIDR
from tier0_devenv.node import chart, cni, preflight, service_range, storage
from tier0_devenv.node.inventory import Snapshot
from tier0_devenv.node.layout import NodeLayout
from tier0_devenv.node.settings import NodeSettings


def layout(tmp_path: Path, **overrides: object) -> NodeLayout:
    return NodeLayout(NodeSettings(workdir=tmp_path, **overrides), "192.0.2.50")


def test_images_manifest_paths_become_nested_values() -> None:
    manifest = {
        "image": {"repository": "docker.io/tier0/tier0", "tag": "abc"},
        "operator.image": {"repository": "docker.io/tier0/tier0-operator", "tag": "def"},
    }
    assert chart.nest(manifest) == {
        "image": {"repository": "docker.io/tier0/tier0", "tag": "abc"},
        "operator": {"image": {"repository": "docker.io/tier0/tier0-operator", "tag": "def"}},
    }


def test_cni_config_stays_in_the_work_dir_with_the_firewall_plugin(tmp_path: Path) -> None:
    node = layout(tmp_path, pod_cidr="10.77.0.0/16")
    config = cni.conflist(node)
    assert [p["type"] for p in config["plugins"]] == ["bridge", "portmap", "firewall"]
    bridge = config["plugins"][0]
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.77.0.0/16", "gateway": "10.77.0.1"}]]
    assert bridge["ipam"]["dataDir"].startswith(str(tmp_path))


def test_volumes_are_host_paths_under_the_work_dir_pinned_to_the_node(tmp_path: Path) -> None:
    node = layout(tmp_path, volumes=3, volume_size="1Gi")
    items = storage.manifests(node)["items"]
    assert items[0]["kind"] == "StorageClass"
    assert items[0]["volumeBindingMode"] == "WaitForFirstConsumer"
    volumes = items[1:]
    assert [v["metadata"]["name"] for v in volumes] == [f"tier0-local-{i}" for i in range(3)]
    assert all(v["spec"]["hostPath"]["path"].startswith(str(tmp_path)) for v in volumes)
    terms = volumes[0]["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"][0]["values"] == ["tier0-node"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("pod_cidr", "10.88.0.0/33"), ("dns_ip", "not-an-ip"), ("proxy_mode", "ipvs")],
)
def test_bad_settings_are_rejected(tmp_path: Path, field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        NodeSettings(workdir=tmp_path, **{field: value})


def test_missing_programs_name_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight, "_which", lambda program: None if program == "nft" else "/x")
    problems = preflight.program_problems()
    assert "missing nft: apt-get install nftables" in problems


def test_preflight_failure_lists_every_problem_and_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight.os, "geteuid", lambda: 1000)
    with pytest.raises(preflight.PreflightFailed) as failure:
        preflight.check(layout(tmp_path), extra=lambda: ["kernel: something else"])
    message = str(failure.value)
    assert "not root" in message
    assert "kernel: something else" in message
    assert "make up" in message


def test_service_range_guard_rejects_the_control_planes_range_in_output_and_forward() -> None:
    assert service_range.cidr() == SERVICE_CIDR
    script = service_range.ruleset("10.96.0.0/16")
    reject = "ip daddr 10.96.0.0/16 reject with icmp type host-unreachable"
    assert script.count(reject) == 2
    assert "type filter hook output priority filter;" in script
    assert "type filter hook forward priority filter;" in script
    # Declared, flushed, then filled: a second `up` leaves one copy of each rule.
    lines = script.splitlines()
    table = f"table ip {service_range.TABLE}"
    assert lines[:2] == [f"{table} {{}}", f"flush {table}"]
    assert service_range.delete_argv() == ["nft", "delete", "table", "ip", service_range.TABLE]


@pytest.mark.parametrize("bad", ["fd00::/108", "10.96.0.0/33", "not-a-range"])
def test_service_range_guard_refuses_what_it_cannot_express(bad: str) -> None:
    with pytest.raises(ValueError):
        service_range.ruleset(bad)


def test_the_inventory_keeps_the_guarded_range(tmp_path: Path) -> None:
    path = tmp_path / "inventory.json"
    Snapshot(service_range="10.96.0.0/16").save(path)
    loaded = Snapshot.load(path)
    assert loaded is not None and loaded.service_range == "10.96.0.0/16"
    path.write_text("{}")
    old = Snapshot.load(path)
    assert old is not None and old.service_range == ""
