"""Storage for the chart's StatefulSets: static hostPath PersistentVolumes.

There is no provisioner on this node, so `up` pre-creates a fixed number of volumes
of StorageClass `tier0-local` (no-provisioner, bound when the first pod is scheduled)
backed by folders under the work dir; `down` removes the folders with the rest. The
folders are world-writable because the broker and Redis images run as non-root users
and a hostPath volume does not honour fsGroup.
"""

from __future__ import annotations

from typing import Any

from .layout import NodeLayout

STORAGE_CLASS = "tier0-local"


def volume_name(index: int) -> str:
    return f"{STORAGE_CLASS}-{index}"


def manifests(layout: NodeLayout) -> dict[str, Any]:
    settings = layout.settings
    items: list[dict[str, Any]] = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": STORAGE_CLASS},
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer",
            "reclaimPolicy": "Retain",
        }
    ]
    for index in range(settings.volumes):
        items.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": volume_name(index), "labels": {"tier0.io/local": "true"}},
                "spec": {
                    "capacity": {"storage": settings.volume_size},
                    "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": STORAGE_CLASS,
                    "hostPath": {
                        "path": str(layout.volumes_dir / volume_name(index)),
                        "type": "Directory",
                    },
                    "nodeAffinity": {
                        "required": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {
                                            "key": "kubernetes.io/hostname",
                                            "operator": "In",
                                            "values": [settings.node_name],
                                        }
                                    ]
                                }
                            ]
                        }
                    },
                },
            }
        )
    return {"apiVersion": "v1", "kind": "List", "items": items}


def make_folders(layout: NodeLayout) -> None:
    for index in range(layout.settings.volumes):
        folder = layout.volumes_dir / volume_name(index)
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)
