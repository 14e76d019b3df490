#!/usr/bin/env bash
# Runs skaffold (`npm run dev:cluster` = skaffold dev) with docker, or with podman when no Docker
# daemon answers. With `push: false`, skaffold reads the built image's ID through the Docker Engine
# API; podman serves that API on a socket (podman system service), which DOCKER_HOST points
# skaffold at. The custom builder (scripts/skaffold-build.sh) builds into the same podman store.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DOCKER_HOST:-}" ] && ! docker info >/dev/null 2>&1 && command -v podman >/dev/null 2>&1; then
  source scripts/podman-env.sh
  sock="$PODMAN_ROOT/docker-api.sock"
  rm -f "$sock"
  podman system service --time=0 "unix://$sock" &
  service=$!
  trap 'kill "$service" 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do
    [ -S "$sock" ] && break
    kill -0 "$service" 2>/dev/null || { echo "skaffold-dev: podman system service exited" >&2; exit 1; }
    sleep 0.1
  done
  [ -S "$sock" ] || { echo "skaffold-dev: podman's Docker API socket $sock did not appear within 60s" >&2; exit 1; }
  export DOCKER_HOST="unix://$sock"
  echo "skaffold-dev: no Docker daemon; podman serves the Docker API at $DOCKER_HOST" >&2
fi
status=0
"${SKAFFOLD:-skaffold}" "$@" || status=$?
exit "$status"
