#!/usr/bin/env bash
# `npm run cluster:down`: stops every process cluster/up.sh started, by the PIDs it recorded (never
# by name), and removes the cluster's state (etcd data, certificates, kubeconfigs, logs) and the
# cluster:deploy state that belonged to it. Leaves no process or listening port of its own behind.
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

# Stop in reverse start order; each process runs in its own session (setsid), so its process
# group is its PID: signal the group to catch anything it spawned.
stopped=0
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  f="$PIDS/$name"
  [[ -f "$f" ]] || continue
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    fi
    stopped=$((stopped + 1))
  fi
  rm -f "$f"
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
