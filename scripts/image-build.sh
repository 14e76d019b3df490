#!/usr/bin/env bash
# Builds the Dockerfile unchanged with podman, from local base images only (--pull=never).
# The host CA bundle is passed to npm for this build only (mounted, named by a build arg).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman-env.sh
tag=${1:-localhost/rest-api:test}
version=$(node -p 'require("./package.json").version')
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
ca=/etc/ssl/certs/ca-certificates.crt
podman build --pull=never --network=host \
  --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
  -v "$ca:/run/host-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  -t "$tag" -f Dockerfile . >&2
size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "image $tag: $((size / 1024 / 1024)) MiB" >&2
