"""A real Kubernetes control plane on this machine, with fake nodes instead of a kubelet.

kind, minikube and k3s need a container engine that the build machines do not have,
so the control plane runs as plain processes built from Go modules
(devenv/k8s/build.sh): etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
and kwok, which plays the kubelet for fake Node objects (pods become Running and Ready
with pod IPs, so EndpointSlices fill). Tests use `LocalCluster` on free ports; `make up`
and `python -m tier0_devenv.k8s up` use the fixed ports of `ClusterPorts.fixed()`.
"""

from .binaries import K8sBinaries, ensure_binaries
from .cluster import ClusterPorts, LocalCluster

__all__ = ["ClusterPorts", "K8sBinaries", "LocalCluster", "ensure_binaries"]
