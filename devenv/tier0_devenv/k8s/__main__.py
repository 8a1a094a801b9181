"""`python -m tier0_devenv.k8s up|down|status|env [--workdir DIR]`.

`up` builds the binaries if needed (with progress), starts the control plane and
prints how to use it; `env` prints `export` lines for a shell (eval "$(...)");
`down` stops what `up` started from the same work dir, and nothing else.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..processes import DevenvError
from .cluster import ClusterPorts, LocalCluster
from .settings import K8sSettings


def _cluster(args: argparse.Namespace, settings: K8sSettings) -> LocalCluster:
    workdir = Path(args.workdir) if args.workdir else settings.workdir
    ports = None
    if args.command == "up":
        ports = ClusterPorts(
            apiserver=settings.apiserver_port,
            etcd_client=settings.etcd_client_port,
            etcd_peer=settings.etcd_peer_port,
        )
    return LocalCluster(
        workdir,
        ports,
        nodes=settings.nodes,
        build=args.command == "up" and not args.no_build,
        start_timeout=settings.start_timeout,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tier0_devenv.k8s", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "env"])
    parser.add_argument("--workdir", help="work dir (default $TIER0_K8S_WORKDIR or .run/k8s)")
    parser.add_argument(
        "--no-build", action="store_true", help="fail instead of building missing binaries"
    )
    args = parser.parse_args(argv)
    cluster = _cluster(args, K8sSettings())
    try:
        if args.command == "up":
            cluster.start()
            print(f"control plane up in {cluster.start_seconds:.1f}s at {cluster.server}")
            print(f"logs: {cluster.logs_dir}")
            _print_env(cluster)
        elif args.command == "down":
            cluster.stop()
            print(f"stopped the control plane of {cluster.workdir}")
        elif args.command == "status":
            for st in cluster.status():
                state = f"running (pid {st.pid})" if st.running else "stopped"
                print(f"{st.name:24} {state:24} {st.log}")
        else:
            _print_env(cluster)
    except DevenvError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _print_env(cluster: LocalCluster) -> None:
    for key, value in cluster.env().items():
        print(f"export {key}={shlex.quote(value)}")


if __name__ == "__main__":
    sys.exit(main())
