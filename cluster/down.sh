#!/usr/bin/env bash
# `npm run cluster:down`: stops every process cluster/up.sh started, by the PIDs it recorded (never
# by name), and removes the cluster's state (etcd data, certificates, kubeconfigs, logs) and the
# cluster:deploy state that belonged to it. Leaves no process or listening port of its own behind.
# With a real node (cluster:up -- --real-node), stops it first and puts the host back
# (cluster/real-node.sh down: iptables chains, bridge, mounts, cgroups, sysctls).
#
# Usage: cluster/down.sh [--keep-logs]
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$HERE/lib.sh"

KEEP_LOGS=""
[[ "${1:-}" == --keep-logs ]] && KEEP_LOGS=1

PIDS="$CLUSTER_STATE/pids"
if [[ ! -d "$PIDS" ]]; then
  log "no cluster state in $CLUSTER_STATE: nothing to stop"
  exit 0
fi

# The real node first, while the API server still answers: its pods are stopped through the
# kubelet, then the host is put back (cluster/real-node.sh; nothing to do when it never ran).
bash "$HERE/real-node.sh" down

# Stop in reverse start order.
stopped=0
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  if stop_recorded "$name"; then stopped=$((stopped + 1)); fi
done

# Nothing of ours may still listen.
for port in "$API_PORT" "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$CONTROLLER_MANAGER_PORT" "$SCHEDULER_PORT" "$KWOK_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    log "warning: 127.0.0.1:$port still answers after stopping the cluster (another program?)"
  fi
done

if [[ -n "$KEEP_LOGS" ]]; then
  find "$CLUSTER_STATE" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
else
  rm -rf "$CLUSTER_STATE"
fi
log "stopped $stopped processes; removed $CLUSTER_STATE${KEEP_LOGS:+ (logs kept)}"
