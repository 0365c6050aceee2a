#!/usr/bin/env bash
# What builds and serves the stacks' own images on the local cluster's real node. Started after the
# node's containerd and stopped before it (cluster/real-node.sh), by recorded PID, never by name:
#   registry   Debian's docker-registry (CNCF distribution) on 127.0.0.1:$REGISTRY_PORT, plain HTTP,
#              no auth, storage under $BUILDER_DIR: the local stand-in for GHCR. The local base
#              images (cluster/images/build-base.sh) are pushed to it; the kubelet's containerd pulls
#              from it over HTTP (containerd's default for a loopback registry).
#   buildkitd  BuildKit $BUILDKIT_VERSION on the node's containerd (containerd worker, namespace
#              $CTR_NAMESPACE: images it stores are the kubelet's; host network for RUN steps), at
#              unix://$BUILDKIT_SOCKET, registered as the buildx builder $BUILDER_NAME (remote driver)
#              in a DOCKER_CONFIG of its own, $BUILDER_DIR/docker (the user's ~/.docker is untouched):
#              docker-build builds with it when given that DOCKER_CONFIG and `builder: $BUILDER_NAME`.
#
# Usage:
#   cluster/images/builder.sh up     start both (needs root and the real node's containerd); writes
#                                    $BUILDER_DIR/env (printed by `env`)
#   cluster/images/builder.sh down   stop both; remove their state and the build containers' mounts
#   cluster/images/builder.sh env    print DOCKER_CONFIG, BUILDX_BUILDER, REGISTRY, NGINX_IMAGE and
#                                    NODE_IMAGE (the local bases, by digest) when up; exit 1 otherwise
#
# Needs: Debian's docker-registry (apt-get install -y docker-registry), the tools of
# cluster/images/build-tools.sh (built here when missing), curl.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$HERE/../lib.sh"

REGISTRY="127.0.0.1:$REGISTRY_PORT"
ENV_FILE="$BUILDER_DIR/env"
export DOCKER_CONFIG="$BUILDER_DIR/docker"

alive() { [[ -f "$PIDS/$1" ]] && kill -0 "$(cat "$PIDS/$1")" 2>/dev/null; }
registry_answers() { curl -fsS -o /dev/null "http://$REGISTRY/v2/"; }

write_configs() {
  mkdir -p "$BUILDER_DIR/registry" "$BUILDER_DIR/buildkit" "$DOCKER_CONFIG"
  cat >"$BUILDER_DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $BUILDER_DIR/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
  # Build containers go in the real node's cgroup, which the node's `down` removes with its pods'.
  cat >"$BUILDER_DIR/buildkitd.toml" <<EOF
root = "$BUILDER_DIR/buildkit"

[grpc]
  address = ["unix://$BUILDKIT_SOCKET"]

[worker.oci]
  enabled = false

[worker.containerd]
  enabled = true
  address = "$CONTAINERD_SOCKET"
  namespace = "$CTR_NAMESPACE"
  snapshotter = "overlayfs"
  networkMode = "host"
  defaultCgroupParent = "/$REAL_NODE_CGROUP/buildkit"

[registry."$REGISTRY"]
  http = true
EOF
}

on_failed_up() {
  local rc=$?
  [[ $rc -eq 0 ]] && return 0
  trap - EXIT
  log "the image builder did not come up (logs: $CLUSTER_STATE/logs/{registry,buildkitd}.log): stopping it"
  down
  exit "$rc"
}

up() {
  [[ "$(id -u)" == 0 ]] || die "buildkitd on the real node's containerd needs root"
  command -v docker-registry >/dev/null 2>&1 ||
    die "the local registry is Debian's docker-registry: apt-get update && apt-get install -y docker-registry"
  ctr --address "$CONTAINERD_SOCKET" version >/dev/null 2>&1 ||
    die "the real node's containerd does not answer on $CONTAINERD_SOCKET: start the node first (npm run cluster:up -- --real-node)"
  if alive registry && alive buildkitd && [[ -f "$ENV_FILE" ]]; then
    log "image builder already running (registry $REGISTRY, builder $BUILDER_NAME)"
    return 0
  fi
  down quiet
  ! port_in_use "$REGISTRY_PORT" || die "127.0.0.1:$REGISTRY_PORT is in use by another program: the local registry needs it (REGISTRY_PORT in cluster/lib.sh)"
  local tools t0
  tools="$(bash "$HERE/build-tools.sh" --only buildkit,buildx)" || die "buildkitd/buildx are not available (see above)"
  PATH="$(sed -n 's/^BIN=//p' <<<"$tools"):$PATH"
  export PATH
  t0=$(date +%s)
  trap on_failed_up EXIT
  write_configs

  log "starting the local registry (docker-registry $(docker-registry --version 2>/dev/null | awk '{print $3}') on $REGISTRY)"
  start registry docker-registry serve "$BUILDER_DIR/registry.yml"
  wait_for "the local registry" 30 registry_answers
  local bases
  bases="$(bash "$HERE/build-base.sh" --push "$REGISTRY")" || die "the local base images could not be made or pushed (see above)"

  log "starting buildkitd $BUILDKIT_VERSION on the real node's containerd (builder $BUILDER_NAME)"
  start buildkitd buildkitd --config "$BUILDER_DIR/buildkitd.toml"
  wait_for buildkitd 60 buildctl --addr "unix://$BUILDKIT_SOCKET" debug workers
  buildx create --name "$BUILDER_NAME" --driver remote "unix://$BUILDKIT_SOCKET" >/dev/null
  buildx inspect --bootstrap "$BUILDER_NAME" >/dev/null
  {
    echo "DOCKER_CONFIG=$DOCKER_CONFIG"
    echo "BUILDX_BUILDER=$BUILDER_NAME"
    echo "REGISTRY=$REGISTRY"
    grep -E '^(NGINX|NODE)_IMAGE=' <<<"$bases"
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  trap - EXIT
  log "image builder ready in $(($(date +%s) - t0)) s: registry $REGISTRY, builder $BUILDER_NAME (DOCKER_CONFIG=$DOCKER_CONFIG)"
}

# down [quiet]: stop buildkitd, then the registry; remove their state. Best effort.
down() {
  local stopped=0 mp
  if stop_recorded buildkitd; then stopped=$((stopped + 1)); fi
  if stop_recorded registry; then stopped=$((stopped + 1)); fi
  if [[ -d "$BUILDER_DIR" ]]; then
    # Mounts buildkitd's executor may have left under its root.
    awk -v d="$BUILDER_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | tac | while read -r mp; do
      umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || log "warning: could not unmount $mp"
    done
    rm -rf "$BUILDER_DIR"
  fi
  if port_in_use "$REGISTRY_PORT" && [[ $stopped -gt 0 ]]; then
    log "warning: 127.0.0.1:$REGISTRY_PORT still answers after stopping the registry"
  fi
  [[ "${1:-}" == quiet || $stopped -eq 0 ]] || log "image builder stopped (buildkitd, registry)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env)
    alive registry && alive buildkitd && [[ -f "$ENV_FILE" ]] || exit 1
    cat "$ENV_FILE"
    ;;
  -h | --help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) die "usage: cluster/images/builder.sh up | down | env (try --help)" ;;
esac
