"""The fake Node objects that kwok brings to life.

kwok manages nodes but does not create them. A node here carries capacity (so the
scheduler places pods on it), no taint, the annotation kwok's stages select on, and a
zone label so topology-aware code sees a realistic node. Node status may be set on
create, so the node is schedulable as soon as kwok marks it Ready.
"""

from __future__ import annotations

from typing import Any

NODE_PREFIX = "kwok-node-"
CAPACITY = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "1Ti"}


def node_name(index: int) -> str:
    return f"{NODE_PREFIX}{index}"


def node_manifest(index: int) -> dict[str, Any]:
    name = node_name(index)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/agent": "",
                "topology.kubernetes.io/zone": f"zone-{index}",
            },
            "annotations": {
                "kwok.x-k8s.io/node": "fake",
                "node.alpha.kubernetes.io/ttl": "0",
            },
        },
        "spec": {},
        "status": {
            "capacity": CAPACITY,
            "allocatable": CAPACITY,
        },
    }


def node_list(count: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": [node_manifest(i) for i in range(count)]}
