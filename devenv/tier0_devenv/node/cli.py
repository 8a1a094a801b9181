"""`python -m tier0_devenv.node up|down|status`: the commands behind `make cluster`,
`make cluster-down` and `make cluster-status`.

Plain progress lines for a terminal (the daemons' own logs are under
<workdir>/logs and <workdir>/k8s/logs). Exit codes: 0 done, 1 a step failed,
`down` left something behind or `status` found a daemon stopped, 2 bad settings.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence

from pydantic import ValidationError

from ..processes import DevenvError
from . import bringup, chart, teardown
from .layout import NodeLayout
from .settings import NodeSettings


def say(line: str) -> None:
    print(f"[node] {line}", flush=True)


def usage(node: bringup.Node) -> list[str]:
    """How to reach the cluster: shell exports, then the NodePort URLs."""
    env = node.cluster.env()
    lines = ["", "Use the cluster from a shell:"]
    lines += [f"  export {key}={shlex.quote(env[key])}" for key in ("KUBECONFIG", "PATH")]
    lines += ["  kubectl get pods -A", f"  helm list -n {node.layout.settings.namespace}"]
    settings = node.layout.settings
    if settings.install_chart:
        ports = chart.node_ports(node.cluster, settings.namespace)
        if ports:
            lines.append("URLs (NodePorts on the node's address):")
            lines += [
                f"  {svc} ({name}): http://{node.layout.node_ip}:{port}"
                for svc, name, port in ports
            ]
    lines.append("Stop and remove everything: make cluster-down")
    return lines


def _up(layout: NodeLayout) -> int:
    say(f"work dir {layout.workdir} (logs in {layout.workdir / 'logs'} and k8s/logs)")
    try:
        node = bringup.up(layout, say)
    except DevenvError as exc:
        print(f"\n[node] FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    timings = ", ".join(f"{k} {v:.0f}s" for k, v in node.timings.items())
    say(f"node up: {timings}")
    print("\n".join(usage(node)))
    return 0


def _down(layout: NodeLayout) -> int:
    began = time.monotonic()
    left = teardown.teardown(layout, say)
    if left:
        say(f"down finished in {time.monotonic() - began:.1f}s but left:")
        for line in left:
            say(f"  {line}")
        return 1
    say(f"down finished in {time.monotonic() - began:.1f}s; nothing of the node is left")
    return 0


def _status(layout: NodeLayout) -> int:
    rows = bringup.status(layout)
    running = [row for row in rows if row.running]
    if not running:
        print(f"no node running from {layout.workdir} (`make cluster` starts one)")
        return 0
    for row in rows:
        state = f"running (pid {row.pid})" if row.running else "STOPPED"
        print(f"{row.name:24} {state:24} {row.log}")
    # A partly running node (a daemon died) is the state worth a non-zero exit.
    return 0 if len(running) == len(rows) else 1


COMMANDS = {"up": _up, "down": _down, "status": _status}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tier0_devenv.node",
        description="A real single-node Kubernetes cluster on this machine (TIER0_NODE_* "
        "settings, docs/kubernetes.md).",
    )
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args(argv)
    try:
        layout = NodeLayout.of(NodeSettings())
    except ValidationError as exc:
        print(f"[node] bad settings:\n{exc}", file=sys.stderr)
        return 2
    except DevenvError as exc:
        print(f"[node] {exc}", file=sys.stderr)
        return 2
    return COMMANDS[args.command](layout)
