#!/usr/bin/env bash
# skaffold custom builder: builds $IMAGE from the Dockerfile with docker when a Docker daemon
# answers, else with podman (in the store that scripts/skaffold-dev.sh serves to skaffold), and
# pushes it only when skaffold asks. A custom builder, rather than skaffold's docker builder, lets
# skaffold watch k8s/ too (see dependencies in skaffold.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
builder=docker
if ! docker info >/dev/null 2>&1; then
  command -v podman >/dev/null 2>&1 || { echo "skaffold-build: neither a Docker daemon nor podman" >&2; exit 1; }
  builder=podman
  source scripts/podman-env.sh
fi
"$builder" build -t "$IMAGE" -f Dockerfile "${BUILD_CONTEXT:-.}"
if [ "${PUSH_IMAGE:-false}" = "true" ]; then "$builder" push "$IMAGE"; fi
