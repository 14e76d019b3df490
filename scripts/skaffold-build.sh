#!/usr/bin/env bash
# skaffold custom builder: builds $IMAGE from the Dockerfile with docker (podman when docker is
# absent) and pushes it only when skaffold asks. A custom builder, rather than skaffold's docker
# builder, lets skaffold watch k8s/ too (see dependencies in skaffold.yaml).
set -euo pipefail
builder=docker
command -v docker >/dev/null 2>&1 || builder=podman
"$builder" build -t "$IMAGE" -f Dockerfile "${BUILD_CONTEXT:-.}"
if [ "${PUSH_IMAGE:-false}" = "true" ]; then "$builder" push "$IMAGE"; fi
