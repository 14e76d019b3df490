# Sourced: podman settings that work in unprivileged CI sandboxes (runc, cgroupfs, overlay
# storage under a temporary directory). Set PODMAN_ROOT to reuse a store between runs.
PODMAN_ROOT=${PODMAN_ROOT:-/tmp/rest-api-podman}
mkdir -p "$PODMAN_ROOT/graph" "$PODMAN_ROOT/run" "$PODMAN_ROOT/tmp"
cat >"$PODMAN_ROOT/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$PODMAN_ROOT/graph"
runroot = "$PODMAN_ROOT/run"
CONF
cat >"$PODMAN_ROOT/containers.conf" <<CONF
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
CONF
export CONTAINERS_STORAGE_CONF="$PODMAN_ROOT/storage.conf"
export CONTAINERS_CONF="$PODMAN_ROOT/containers.conf"
export TMPDIR="$PODMAN_ROOT/tmp"
