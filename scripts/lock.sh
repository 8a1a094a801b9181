#!/usr/bin/env bash
# Resolve the direct pins (*.in) into hashed locks (*.txt) holding every transitive
# dependency, for Linux x86_64 with glibc 2.36 (Debian 12) and Python 3.11 (the images' and the machines' Python):
#   requirements-dev.txt       <- requirements-dev.in (both images' pins + test/lint tools)
#   requirements.txt           <- requirements.in, constrained to the dev lock (tier0 image)
#   requirements-operator.txt  <- requirements-operator.in, same constraint (operator image)
# The dev lock is resolved first and constrains the others, so a package shared by the
# images and the dev venv has one version everywhere. Needs network access to PyPI.
# Run after editing any *.in; the unit tests fail when a lock no longer matches its pins.
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-.venv/bin/uv}
[ -x "$UV" ] || { echo "lock.sh: $UV not found: run scripts/install.sh (uv is in requirements-dev.in)" >&2; exit 1; }

compile() {
  local in=$1 out=$2; shift 2
  "$UV" pip compile --quiet --generate-hashes --python-version 3.11 \
    --python-platform x86_64-manylinux_2_36 --custom-compile-command scripts/lock.sh \
    --no-emit-find-links --output-file "$out" "$@" "$in"
}

compile requirements-dev.in requirements-dev.txt
compile requirements.in requirements.txt -c requirements-dev.txt
compile requirements-operator.in requirements-operator.txt -c requirements-dev.txt
