#!/usr/bin/env bash
# Builds skaffold from its Go module (github.com/GoogleContainerTools/skaffold/v2, the
# version pinned in go.mod here; its own `replace` lines are copied in, since a
# dependency's replaces do not apply) and caches the binary. No release binary can be
# downloaded here, but the Go module proxy serves the module.
#
# The binary goes to ${TIER0_CACHE:-$HOME/.cache/tier0}/skaffold/<key>/skaffold, where
# <key> hashes go.mod, go.sum and `go version`; when it is there the script only prints
# its path. Usage: build.sh [--print-bin]   (--print-bin: the path, builds nothing)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '\033[1m[skaffold-build]\033[0m %s\n' "$*" >&2; }
command -v go >/dev/null || { log "go is not on PATH: install Go >= 1.26 first"; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS="-buildvcs=false -mod=readonly"
KEY="$( { cat "$HERE/go.mod" "$HERE/go.sum" "$0"; go version; } | sha256sum | cut -c1-16)"
OUT="${TIER0_CACHE:-$HOME/.cache/tier0}/skaffold/$KEY/skaffold"
if [ "${1:-}" = "--print-bin" ] || [ -x "$OUT" ]; then
  echo "$OUT"
  exit 0
fi
started=$(date +%s)
log "building skaffold into $OUT (cold: 20 minutes on 2 busy cores)"
mkdir -p "$(dirname "$OUT")"
VERSION="$(grep -o 'skaffold/v2 v[^ ]*' "$HERE/go.mod" | cut -d' ' -f2)"
# skaffold reads its own version from this variable (a release build sets it the same way).
( cd "$HERE" && go build -p "${TIER0_SKAFFOLD_JOBS:-2}" -o "$OUT.partial" \
    -ldflags "-X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=$VERSION" \
    github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold ) \
  || { log "FAILED: go build of skaffold (retry: $0)"; exit 1; }
mv "$OUT.partial" "$OUT"
log "built in $(( $(date +%s) - started ))s"
echo "$OUT"
