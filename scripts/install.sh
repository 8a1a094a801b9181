#!/usr/bin/env bash
# Install everything tier0 needs on a fresh Debian 12 machine, idempotently and pinned:
#   - Debian packages (apt): Mosquitto, RabbitMQ, Prometheus, openssl, curl, chromium for
#     `make up` and its tests; and for the real node (`make cluster`, tests/node) and the
#     local image builds (tests/integration/images): containerd, runc, the CNI plugins,
#     conntrack, nftables, iptables, debootstrap, docker.io, umoci, skopeo, gcc, libc6-dev
#   - a Python virtualenv at .venv with requirements-dev.txt, the hashed lock of every
#     transitive dependency (pip --require-hashes; scripts/lock.sh regenerates it)
#   - the local Kubernetes control plane binaries and the real node's (kubelet,
#     kube-proxy, CoreDNS), built from Go modules and cached outside the repo
#     (devenv/k8s/build.sh, then build.sh --node; each returns at once when cached);
#     skip both with TIER0_SKIP_K8S=1
# Re-running is cheap: every step checks before it works.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[install]\033[0m %s\n' "$*" >&2; }

APT_PACKAGES=(mosquitto mosquitto-clients rabbitmq-server prometheus openssl curl chromium)
# The real node and the image builds (preflight.py names the same packages when missing).
APT_PACKAGES+=(containerd runc containernetworking-plugins conntrack nftables iptables)
APT_PACKAGES+=(debootstrap docker.io umoci skopeo gcc libc6-dev)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  log "apt: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start their services; tier0 runs its own instances on its own
  # ports and data folders, so the system ones are stopped to free 1883/5672.
  for svc in mosquitto rabbitmq-server prometheus; do
    (command -v systemctl >/dev/null && $SUDO systemctl disable --now "$svc" 2>/dev/null) || true
    (command -v service >/dev/null && $SUDO service "$svc" stop 2>/dev/null) || true
  done
else
  log "apt: all of ${APT_PACKAGES[*]} present"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "python: creating .venv with $($PY --version)"
  $PY -m venv .venv
fi
stamp=.venv/.tier0-requirements.sha256
want=$(cat requirements-dev.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "python: installing the hashed lock (requirements-dev.txt)"
  # --require-hashes: a file whose hash is not in the lock is refused, whatever the index serves.
  .venv/bin/pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.txt
  echo "$want" > "$stamp"
else
  log "python: .venv up to date"
fi

if [ "${TIER0_SKIP_K8S:-0}" != 1 ] && [ -x devenv/k8s/build.sh ]; then
  devenv/k8s/build.sh
  # The node tier (tests/node) would build these on its first `up`; here they build with
  # the rest, each step printed (about 8 minutes cold on 2 cores).
  devenv/k8s/build.sh --node
fi
# The source roots go on the venv's path through a .pth file rather than an editable
# install, so packages added later are importable without reinstalling.
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\n' "$PWD/services" "$PWD/simulators" "$PWD/operator" "$PWD/devenv" "$PWD" > "$site/tier0-src.pth"
log "done"
