#!/usr/bin/env bash
# skaffold's custom build step (profile `real-node` in skaffold.yaml): builds $IMAGE
# with tier0_devenv.images in the dockerd that `python -m tier0_devenv.images skaffold`
# runs, and imports it into the containerd at $TIER0_IMAGES_IMPORT_TO (the node's) when
# that is set. See tier0_devenv/images/skaffold.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec "${TIER0_PYTHON:-.venv/bin/python}" -m tier0_devenv.images skaffold-build
