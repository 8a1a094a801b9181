"""containerd with its own root, state, socket and CNI folder, run as a plain process.

The Debian package's systemd unit and /etc/containerd are not used: every path is
under the node's work dir, so `down` can remove all of it and a system containerd (if
one ran) is never touched. `restrict_oom_score_adj` is the setting that makes pods
start at all here: root lacks CAP_SYS_RESOURCE, so runc cannot set the -998
oom_score_adj the CRI plugin asks for and every sandbox would fail. The price is
that the kernel's OOM ordering no longer follows the pods' QoS classes.
"""

from __future__ import annotations

import subprocess

from ..processes import CallableCheck, ProcessSpec
from .cni import CNI_BIN_DIR
from .layout import NodeLayout

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
#: PATH for the daemons: containerd finds runc and its shim there, the kubelet mount.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HINT = "apt-get install containerd runc containernetworking-plugins"


def config_toml(layout: NodeLayout) -> str:
    state = layout.containerd_state
    cri = '[plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{layout.containerd_root}"
state = "{state}"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "{layout.containerd_socket}"

[ttrpc]
  address = "{layout.containerd_socket}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{layout.containerd_dir / "opt"}"

{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{state / "runc"}"

{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{layout.cni_conf_dir}"
  max_conf_num = 1
"""


def write_config(layout: NodeLayout) -> None:
    layout.containerd_dir.mkdir(parents=True, exist_ok=True)
    layout.containerd_config.write_text(config_toml(layout))


def ctr(layout: NodeLayout, *args: str, timeout: float = 120.0) -> str:
    """Run `ctr` against our containerd in the CRI namespace; raise on failure."""
    result = subprocess.run(
        ["ctr", "--address", str(layout.containerd_socket), "--namespace", "k8s.io", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ctr {' '.join(args[:3])} failed: {result.stderr.strip()}")
    return result.stdout


def _answers(layout: NodeLayout) -> bool:
    ctr(layout, "version", timeout=5.0)
    return True


def spec(layout: NodeLayout) -> ProcessSpec:
    return ProcessSpec(
        name="containerd",
        argv=["containerd", "--config", str(layout.containerd_config)],
        env={"PATH": SYSTEM_PATH},
        health=CallableCheck(
            lambda: _answers(layout), f"ctr version on {layout.containerd_socket}"
        ),
        start_timeout=60.0,
        stop_timeout=30.0,
        install_hint=HINT,
        prepare=lambda: write_config(layout),
    )
