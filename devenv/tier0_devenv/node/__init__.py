"""A real single-node Kubernetes cluster on this machine: `make cluster`.

Where tier0_devenv.k8s plays the kubelet with kwok (fake nodes, no containers), this
package runs the real thing on the same control plane: containerd with runc, a real
kubelet and kube-proxy built from the same Go module, CoreDNS, a bridge CNI, static
hostPath volumes, and the product's chart installed with locally built images (no
registry is reachable here). One module per job: preflight, containerd, cni, kubelet,
kube_proxy, coredns, storage, node_images, chart, inventory and teardown, bringup
(the ordered steps) and cli.
"""
