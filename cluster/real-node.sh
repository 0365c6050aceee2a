#!/usr/bin/env bash
# The local cluster's optional real node (`npm run cluster:up -- --real-node`, or
# MONKEYTOWN_REAL_NODE=1): containerd, runc and the CNI plugins from Debian packages, kubelet and
# kube-proxy from `cluster/build.sh --only real-node`, joined to the running local cluster as node
# monkeytown-real. The node is tainted monkeytown.dev/real-node=true:NoSchedule so that the stacks'
# pods stay on the kwok nodes; a pod meant for it tolerates the taint and selects the node's label
# monkeytown.dev/real-node=true. Images are loaded without a registry (ctr images import). Needs
# root: it makes cgroups, network namespaces, a bridge and iptables rules.
#
# Usage (cluster/up.sh and cluster/down.sh run it):
#   cluster/real-node.sh up BIN IMAGES   start the node in the running local cluster (BIN: kubelet,
#                                        kube-proxy and kubectl; IMAGES: the node's image tarballs)
#   cluster/real-node.sh down            stop what `up` started, by recorded PID; put the host back
#
# What it changes on the host, all put back by `down` (and when `up` fails, by its trap):
#   processes    containerd, kubelet, kube-proxy, containerd's shims and the pods' processes
#   files        REAL_NODE_DIR (cluster/lib.sh): containerd's root and state (images, snapshots,
#                the pods' network namespaces), the kubelet's root, pod logs, configs; the mounts
#                under it. /var/log/containers (the kubelet's log links), /var/lib/kubelet/
#                device-plugins (the kubelet's device-plugin socket; both paths are fixed),
#                /var/lib/cni (the CNI result cache) and /run/containerd/s (shim sockets), each
#                removed when it did not exist before
#   network      the bridge monkeytown0 (10.244.0.1/24) and the pods' veth pairs; iptables chains
#                KUBE-* (kube-proxy, kubelet) and CNI-*, and the nftables tables iptables-nft made
#   cgroups      /monkeytown in every cgroup hierarchy (the pods' cgroups are below it)
#   sysctls      the kubelet sets vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1,
#                kernel.keys.root_maxkeys/maxbytes; the bridge plugin net.ipv4.ip_forward=1.
#                Their values are recorded before and written back.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$HERE/lib.sh"

# kubelet, kube-proxy, kubectl (cluster/build.sh links them there); `down` runs kube-proxy --cleanup.
export PATH="$CLUSTER_CACHE/bin:$PATH"
D="$REAL_NODE_DIR"
SAVED="$D/host.saved"
SYSCTLS=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys
  kernel/keys/root_maxbytes net/ipv4/ip_forward net/ipv4/conf/all/route_localnet net/bridge/bridge-nf-call-iptables)
HOST_DIRS=(/var/log/containers /var/lib/cni /run/containerd /var/lib/kubelet)
# The kubelet's device-plugin socket and checkpoint: their path is fixed whatever its root dir.
DEVICE_PLUGINS=/var/lib/kubelet/device-plugins
DEBIAN_PACKAGES="containerd runc containernetworking-plugins iptables conntrack socat"
CNI_BIN=/usr/lib/cni

ctr_() { ctr --address "$CONTAINERD_SOCKET" -n "$CTR_NAMESPACE" "$@"; }
alive() { [[ -f "$PIDS/$1" ]] && kill -0 "$(cat "$PIDS/$1")" 2>/dev/null; }
api_answers() { [[ -f "$KUBECONFIG_FILE" ]] && kubectl --kubeconfig "$KUBECONFIG_FILE" get --raw /readyz >/dev/null 2>&1; }
k() { kubectl --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# The cgroup hierarchies to make the node's cgroup in: each cgroup v1 hierarchy, or the v2 root.
cgroup_roots() {
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    echo /sys/fs/cgroup
  else
    awk '$3 == "cgroup" { print $2 }' /proc/mounts
  fi
}

# ---- up ------------------------------------------------------------------------------------------

preflight() {
  [[ "$(id -u)" == 0 ]] ||
    die "the real node needs root (cgroups, network namespaces, iptables): run cluster:up as root, or without --real-node"
  if ! [[ -f "$PKI/ca.key" ]] || ! api_answers; then
    die "the real node joins the local cluster of cluster/up.sh, which is not running"
  fi
  local missing=() t
  for t in containerd containerd-shim-runc-v2 runc ctr iptables ip6tables conntrack socat ip nsenter; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  for t in bridge host-local loopback; do [[ -x "$CNI_BIN/$t" ]] || missing+=("$CNI_BIN/$t"); done
  [[ ${#missing[@]} -eq 0 ]] ||
    die "the real node needs Debian packages (missing: ${missing[*]}): apt-get update && apt-get install -y $DEBIAN_PACKAGES"
  for t in kubelet kube-proxy kubectl; do command -v "$t" >/dev/null 2>&1 || die "$t is not built: cluster/build.sh --only real-node"; done
  for t in "$KUBELET_HEALTHZ_PORT" "$KUBE_PROXY_METRICS_PORT" "$KUBE_PROXY_HEALTHZ_PORT"; do
    ! port_in_use "$t" || die "127.0.0.1:$t is in use by another program: the real node needs it"
  done
  [[ ! -S "$DEVICE_PLUGINS/kubelet.sock" ]] ||
    die "$DEVICE_PLUGINS/kubelet.sock exists: another kubelet runs on this host (or a real node was not stopped: cluster/real-node.sh down)"
  ! ip link show "$REAL_NODE_BRIDGE" >/dev/null 2>&1 ||
    die "the network interface $REAL_NODE_BRIDGE exists: a real node was not stopped (cluster/real-node.sh down), or another program uses the name"
  [[ -z "$(ip -4 route show root "$REAL_POD_CIDR" 2>/dev/null)" ]] ||
    die "$REAL_POD_CIDR is already routed on this host (ip route): the real node's pod range would collide"
}

# What `down` puts back: the sysctls' values and which host directories did not exist. Recorded once
# per node, before anything is changed.
record_host() {
  mkdir -p "$D"
  [[ -f "$SAVED" ]] && return 0
  local s d
  {
    for s in "${SYSCTLS[@]}"; do
      if [[ -r "/proc/sys/$s" ]]; then echo "sysctl $s $(cat "/proc/sys/$s")"; fi
    done
    for d in "${HOST_DIRS[@]}"; do
      if [[ ! -e "$d" ]]; then echo "created $d"; fi
    done
    if command -v nft >/dev/null 2>&1; then
      nft list tables 2>/dev/null | sed 's/^table /nft-table /'
    fi
  } >"$SAVED.tmp"
  mv "$SAVED.tmp" "$SAVED"
}

make_cgroups() {
  local root
  for root in $(cgroup_roots); do
    mkdir -p "$root/$REAL_NODE_CGROUP"
    # A new cpuset cgroup starts with no CPUs and no memory nodes: give it its parent's.
    if [[ -f "$root/cpuset.cpus" && -f "$root/$REAL_NODE_CGROUP/cpuset.cpus" ]]; then
      [[ -n "$(cat "$root/$REAL_NODE_CGROUP/cpuset.cpus")" ]] || cat "$root/cpuset.cpus" >"$root/$REAL_NODE_CGROUP/cpuset.cpus"
      [[ -n "$(cat "$root/$REAL_NODE_CGROUP/cpuset.mems")" ]] || cat "$root/cpuset.mems" >"$root/$REAL_NODE_CGROUP/cpuset.mems"
    fi
    # cgroup v2: hand the controllers of the root down to the node's cgroup.
    if [[ -f "$root/cgroup.subtree_control" && "$root" == /sys/fs/cgroup ]]; then
      sed 's/\([^ ]*\)/+\1/g' "$root/cgroup.subtree_control" >"$root/$REAL_NODE_CGROUP/cgroup.subtree_control"
    fi
  done
}

# The bridge exists before the kubelet starts: the node's address (the kubelet serves the API
# server there; a node address cannot be loopback) is the bridge's, in the node's own pod range.
make_bridge() {
  ip link add "$REAL_NODE_BRIDGE" type bridge
  ip addr add "$REAL_POD_GATEWAY/${REAL_POD_CIDR#*/}" dev "$REAL_NODE_BRIDGE"
  ip link set "$REAL_NODE_BRIDGE" up
}

node_pki() {
  pki_sign kubelet ca "/O=system:nodes/CN=system:node:$REAL_NODE_NAME"
  pki_sign kubelet-serving ca "/CN=$REAL_NODE_NAME" "IP:$REAL_POD_GATEWAY,DNS:$REAL_NODE_NAME"
  pki_sign kube-proxy ca "/CN=system:kube-proxy"
  kubeconfig "$D/kubelet.kubeconfig" kubelet
  kubeconfig "$D/kube-proxy.kubeconfig" kube-proxy
}

write_configs() {
  mkdir -p "$D/containerd" "$D/cni/net.d" "$D/kubelet" "$D/kube-proxy"
  # containerd: its own socket, root and state; no systemd (cgroupfs); pods may not lower their
  # oom_score_adj below containerd's own (root here lacks CAP_SYS_RESOURCE: without
  # restrict_oom_score_adj every sandbox dies with runc's "can't get final child's PID from pipe").
  cat >"$D/containerd/config.toml" <<EOF
version = 2
root = "$D/containerd/root"
state = "$D/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$CONTAINERD_SOCKET"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$D/containerd/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$PAUSE_IMAGE"
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    disable_apparmor = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "$D/containerd/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "$CNI_BIN"
      conf_dir = "$D/cni/net.d"
EOF
  # CNI: the node's pods on the bridge, addresses from REAL_POD_CIDR; no masquerading (nothing
  # leaves the host), so the plugins add no iptables rules.
  cat >"$D/cni/net.d/10-$REAL_NODE_CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$REAL_NODE_CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$REAL_NODE_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$REAL_POD_CIDR", "gateway": "$REAL_POD_GATEWAY" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$D/cni/ipam"
      }
    }
  ]
}
EOF
  cat >"$D/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $REAL_POD_GATEWAY
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization: { mode: Webhook }
containerRuntimeEndpoint: unix://$CONTAINERD_SOCKET
imageServiceEndpoint: unix://$CONTAINERD_SOCKET
# cgroup v1 and no systemd on this kind of host (docs/cluster.md).
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupRoot: /$REAL_NODE_CGROUP
oomScoreAdj: 0
failSwapOn: false
podLogsDir: $D/pod-logs
volumePluginDir: $D/kubelet/volume-plugins
registerWithTaints: [{ key: "$REAL_NODE_TAINT_KEY", value: "true", effect: NoSchedule }]
maxPods: 30
# No image can be pulled again here: never collect the node's images; evict only when the disk is
# nearly full.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2% }
EOF
  cat >"$D/kube-proxy/config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: { kubeconfig: $D/kube-proxy.kubeconfig }
hostnameOverride: $REAL_NODE_NAME
bindAddress: $REAL_POD_GATEWAY
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
clusterCIDR: $REAL_POD_CIDR
# NodePorts only on the bridge's address; no route_localnet.
nodePortAddresses: ["$REAL_POD_GATEWAY/32"]
iptables: { localhostNodePorts: false }
oomScoreAdj: 0
# Leave the host's conntrack settings alone (0: do not set).
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
}

import_images() {
  local tarball
  for tarball in "$@"; do
    ctr_ images import "$tarball" >/dev/null || die "ctr images import $tarball failed"
  done
}

# wait_node WHAT SECONDS CMD...: poll CMD like wait_for, but give up as soon as one of the node's
# processes has exited, with the end of its log.
wait_node() {
  local what="$1" limit="$2" i name
  shift 2
  for ((i = 0; i < limit * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    for name in containerd kubelet kube-proxy; do
      if [[ -f "$PIDS/$name" ]] && ! alive "$name"; then
        tail -n 5 "$CLUSTER_STATE/logs/$name.log" >&2
        die "$name exited while waiting for $what (log: $CLUSTER_STATE/logs/$name.log)"
      fi
    done
    sleep 0.25
  done
  die "$what did not come up within ${limit} s (logs: $CLUSTER_STATE/logs/)"
}

on_failed_up() {
  local rc=$?
  [[ $rc -eq 0 ]] && return 0
  trap - EXIT
  log "the real node did not come up (logs: $CLUSTER_STATE/logs/{containerd,kubelet,kube-proxy}.log): stopping it and cleaning the host"
  down_node
  exit "$rc"
}

up_node() {
  local bin="$1" images="$2" t0
  export PATH="$bin:$PATH"
  preflight
  t0=$(date +%s)
  trap on_failed_up EXIT
  record_host
  make_cgroups
  make_bridge
  node_pki
  write_configs

  log "starting containerd $(containerd --version | awk '{print $3}') (socket $CONTAINERD_SOCKET)"
  start containerd containerd --config "$D/containerd/config.toml"
  wait_node containerd 30 ctr_ version
  import_images "$images/pause.tar" "$images/node-check.tar"

  log "starting kubelet $K8S_VERSION (node $REAL_NODE_NAME, $REAL_POD_GATEWAY:$KUBELET_PORT; pods from $REAL_POD_CIDR)"
  start kubelet kubelet --config "$D/kubelet/config.yaml" --kubeconfig "$D/kubelet.kubeconfig" \
    --root-dir "$D/kubelet/root" --cert-dir "$D/kubelet/pki" --hostname-override "$REAL_NODE_NAME" \
    --node-ip "$REAL_POD_GATEWAY" --node-labels "$REAL_NODE_LABEL"
  log "starting kube-proxy $K8S_VERSION (iptables mode)"
  start kube-proxy kube-proxy --config "$D/kube-proxy/config.yaml"
  wait_node "the real node" 120 k wait --for=condition=Ready "node/$REAL_NODE_NAME" --timeout=1s
  wait_node kube-proxy 60 curl -sf "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"
  trap - EXIT
  log "real node $REAL_NODE_NAME Ready in $(($(date +%s) - t0)) s (taint $REAL_NODE_TAINT; images: $PAUSE_IMAGE, $NODE_CHECK_IMAGE)"
}

# ---- down ----------------------------------------------------------------------------------------

# Every iptables chain named KUBE-* or CNI-*, and the rules elsewhere that jump to them.
clean_chains() {
  local ipt="$1" table rule chain chains
  for table in filter nat mangle raw; do
    # (2>/dev/null: iptables-nft warns on every call when legacy tables exist too)
    $ipt -t "$table" -S >/dev/null 2>&1 || continue
    while read -r rule; do
      eval "$ipt -t $table -D ${rule#-A }" 2>/dev/null
    done < <($ipt -t "$table" -S 2>/dev/null | grep -E -- '-j (KUBE|CNI)-' | grep -vE '^-A (KUBE|CNI)-')
    chains="$($ipt -t "$table" -S 2>/dev/null | sed -n 's/^-N \(\(KUBE\|CNI\)-[^ ]*\)$/\1/p')"
    for chain in $chains; do $ipt -t "$table" -F "$chain" 2>/dev/null; done
    for chain in $chains; do $ipt -t "$table" -X "$chain" 2>/dev/null; done
  done
}

# The nftables tables that iptables-nft created for the node and that hold no rule any more.
clean_nft_tables() {
  command -v nft >/dev/null 2>&1 || return 0
  local family name
  while read -r _ family name; do
    grep -qx "nft-table $family $name" "$SAVED" 2>/dev/null && continue
    if ! nft list table "$family" "$name" | grep -vqE '^\s*(table .*\{|chain .*\{|type .*;|\}|)$'; then
      nft delete table "$family" "$name"
    fi
  done < <(nft list tables 2>/dev/null)
}

unmount_all_under() {
  local dir="$1" mp
  awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | tac | while read -r mp; do
    umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || log "warning: could not unmount $mp"
  done
}

remove_cgroups() {
  local root cg pid
  for root in $(cgroup_roots) $(awk '$3 == "cgroup2" { print $2 }' /proc/mounts); do
    cg="$root/$REAL_NODE_CGROUP"
    [[ -d "$cg" ]] || continue
    # A container process the runtime left behind: it runs in the node's cgroup, so it is the node's.
    find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ ! -d "$cg" ]] || { sleep 1; find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null; }
    [[ ! -d "$cg" ]] || log "warning: could not remove the cgroup $cg"
  done
}

restore_host() {
  [[ -f "$SAVED" ]] || return 0
  local kind a b link
  while read -r kind a b; do
    case "$kind" in
      sysctl) [[ "$(cat "/proc/sys/$a" 2>/dev/null)" == "$b" ]] || echo "$b" >"/proc/sys/$a" || log "warning: could not restore $a=$b" ;;
    esac
  done <"$SAVED"
  # The kubelet's links to the node's pod logs; CNI results of the node's network.
  for link in /var/log/containers/*; do
    [[ -L "$link" && "$(readlink "$link")" == "$D/"* ]] && rm -f "$link"
  done
  rm -f /var/lib/cni/results/"$REAL_NODE_CNI_NETWORK"-* "$DEVICE_PLUGINS/kubelet.sock" \
    "$DEVICE_PLUGINS/kubelet_internal_checkpoint" 2>/dev/null
  while read -r kind a b; do
    [[ "$kind" == created ]] || continue
    find "$a" -depth -type d -empty -delete 2>/dev/null
    [[ ! -e "$a" ]] || log "warning: $a was created for the real node but is not empty: left in place"
  done <"$SAVED"
}

# down_node: best effort, each step independent; says what it could not undo.
down_node() {
  set +e
  local name pid f
  # The image builder (cluster/images/builder.sh: the local registry and buildkitd on this node's
  # containerd), when cluster:deploy --real-node started it: first, while containerd still answers.
  bash "$HERE/images/builder.sh" down
  if api_answers && k get node "$REAL_NODE_NAME" >/dev/null 2>&1; then
    k cordon "$REAL_NODE_NAME" >/dev/null
    if alive kubelet; then
      # The kubelet stops the pods and the runtime tears down their networks.
      k delete pods --all-namespaces --field-selector "spec.nodeName=$REAL_NODE_NAME" \
        --grace-period=5 --wait=true --timeout=60s >/dev/null 2>&1
    fi
  fi
  for name in kube-proxy kubelet; do stop_recorded "$name"; done
  # What the kubelet did not stop: every task and container in the CRI namespace.
  if alive containerd; then
    for f in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$f" >/dev/null 2>&1; done
    sleep 0.5
    for f in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$f" >/dev/null 2>&1; done
    for f in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$f" >/dev/null 2>&1; done
  fi
  stop_recorded containerd
  # Shims outlive containerd by design: each recorded its PID.
  for f in "$D"/containerd/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
    [[ -f "$f" ]] || continue
    pid="$(cat "$f")"
    [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
  done
  if command -v kube-proxy >/dev/null 2>&1; then
    kube-proxy --cleanup >"$CLUSTER_STATE/logs/kube-proxy-cleanup.log" 2>&1
  fi
  clean_chains iptables
  clean_chains ip6tables
  remove_cgroups
  unmount_all_under "$D"
  ip link show "$REAL_NODE_BRIDGE" >/dev/null 2>&1 && ip link delete "$REAL_NODE_BRIDGE"
  conntrack -D -d "$REAL_POD_CIDR" >/dev/null 2>&1
  conntrack -D -s "$REAL_POD_CIDR" >/dev/null 2>&1
  clean_nft_tables
  restore_host
  if api_answers; then k delete node "$REAL_NODE_NAME" --ignore-not-found >/dev/null 2>&1; fi
  rm -f "$PKI"/kubelet.* "$PKI"/kubelet-serving.* "$PKI"/kube-proxy.*
  rm -rf "$D"
  check_clean
  set -e
}

# What must be gone once the node is down.
check_clean() {
  local left=()
  ip link show "$REAL_NODE_BRIDGE" >/dev/null 2>&1 && left+=("bridge $REAL_NODE_BRIDGE")
  iptables-save 2>/dev/null | grep -qE '^:(KUBE|CNI)-' && left+=("iptables chains KUBE-*/CNI-*")
  ip6tables-save 2>/dev/null | grep -qE '^:(KUBE|CNI)-' && left+=("ip6tables chains KUBE-*/CNI-*")
  [[ -S "$DEVICE_PLUGINS/kubelet.sock" ]] && left+=("$DEVICE_PLUGINS/kubelet.sock")
  grep -q " $D/" /proc/self/mountinfo && left+=("mounts under $D")
  for root in $(cgroup_roots); do [[ -d "$root/$REAL_NODE_CGROUP" ]] && left+=("cgroup $root/$REAL_NODE_CGROUP"); done
  if [[ ${#left[@]} -gt 0 ]]; then
    log "warning: the real node left: ${left[*]}"
  else
    log "real node stopped; host clean (bridge, iptables chains, mounts, cgroups, sysctls)"
  fi
}

case "${1:-}" in
  up) up_node "${2:?up needs BIN}" "${3:?up needs IMAGES}" ;;
  down)
    if [[ -d "$D" ]] || compgen -G "$PIDS/kubelet" >/dev/null || compgen -G "$PIDS/containerd" >/dev/null; then
      [[ "$(id -u)" == 0 ]] || die "stopping the real node needs root"
      log "stopping the real node $REAL_NODE_NAME"
      down_node
    fi
    ;;
  -h | --help) sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) die "usage: cluster/real-node.sh up BIN IMAGES | down (try --help)" ;;
esac
