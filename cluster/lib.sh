# Shared settings of the local-cluster scripts (sourced by cluster/*.sh). The one place that pins the
# versions of what the cluster runs and names its ports, ranges and directories.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# ---- pinned versions (the wrapper modules in cluster/build/*/go.mod must agree) ----
K8S_VERSION="v1.37.2"
ETCD_VERSION="v3.6.16"
KWOK_VERSION="v0.8.0"
CRDS_VERSION="po0.95.2-cm1.21.2-cg0.23.0-r2" # prometheus-operator, cert-manager, controller-gen; -rN: the generation recipe

CLUSTER_CACHE="${MONKEYTOWN_CLUSTER_CACHE:-$HOME/.cache/monkeytown-cluster}"
CLUSTER_STATE="${MONKEYTOWN_CLUSTER_STATE:-$HOME/.local/state/monkeytown-cluster}"

# ---- addresses: loopback ports and private ranges that only this cluster uses ----
# Nothing routes these ranges on the host: kwok's pods and Services exist only as API objects.
API_PORT="${MONKEYTOWN_CLUSTER_API_PORT:-16443}"
ETCD_CLIENT_PORT=12379
ETCD_PEER_PORT=12380
CONTROLLER_MANAGER_PORT=20257
SCHEDULER_PORT=20259
KWOK_PORT=20247
SERVICE_CIDR="10.96.0.0/16"
SERVICE_IP="10.96.0.1" # the `kubernetes` Service: first address of SERVICE_CIDR
KWOK_POD_CIDR="10.245.0.0/16"

KUBECONFIG_FILE="$CLUSTER_STATE/kubeconfig"

log() { echo "[cluster] $*" >&2; }
die() {
  echo "[cluster] ERROR: $*" >&2
  exit 1
}

PIDS="$CLUSTER_STATE/pids"

# start NAME CMD...: run in its own session (so its process group is its PID), log to
# logs/NAME.log, record the PID for cluster/down.sh.
start() {
  local name="$1"
  shift
  mkdir -p "$PIDS" "$CLUSTER_STATE/logs"
  setsid "$@" >"$CLUSTER_STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name"
}

# wait_for WHAT SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
  local what="$1" limit="$2" i
  shift 2
  for ((i = 0; i < limit * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  die "$what did not come up within ${limit} s (logs: $CLUSTER_STATE/logs/)"
}

# start_kwok KUBECONFIG: kwok as a local process managing the fake nodes of cluster/kwok/nodes.yaml
# in the cluster of KUBECONFIG (the local one, or kind on GitHub), and those nodes, Ready.
start_kwok() {
  local kc="$1"
  log "starting kwok $KWOK_VERSION (fake nodes; pod addresses from $KWOK_POD_CIDR)"
  start kwok kwok --kubeconfig "$kc" \
    --config "$REPO_ROOT/cluster/kwok/stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr "$KWOK_POD_CIDR" --node-ip 127.0.0.1 --node-lease-duration-seconds 40 \
    --server-address "127.0.0.1:$KWOK_PORT"
  kubectl apply -f "$REPO_ROOT/cluster/kwok/nodes.yaml" >/dev/null
  wait_for "the kwok nodes" 90 kubectl wait --for=condition=Ready node -l type=kwok --timeout=1s
}

# install_prerequisites CRDS_DIR: what the stacks rely on (docs/cluster-prerequisites.md): the
# prometheus-operator and cert-manager CRDs, and the ClusterIssuers the stack files name.
install_prerequisites() {
  local crds="$1"
  log "installing CRDs: prometheus-operator (monitoring.coreos.com), cert-manager (cert-manager.io)"
  # Server-side: the largest CRDs exceed the client-side last-applied annotation's size limit.
  kubectl apply --server-side --force-conflicts -f "$crds" >/dev/null
  kubectl wait --for condition=established --timeout=60s -f "$crds" >/dev/null
  kubectl apply -f "$REPO_ROOT/cluster/manifests/prerequisites.yaml" >/dev/null
}
