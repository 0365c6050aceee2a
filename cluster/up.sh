#!/usr/bin/env bash
# `npm run cluster:up`: a single-machine Kubernetes cluster as local processes: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok with three fake nodes (pods become Running/Ready
# without containers). Installs what the stacks rely on: the prometheus-operator and cert-manager
# CRDs and the ClusterIssuers the stack files name. Prints the KUBECONFIG to use.
#
# Running it again while the cluster is up changes nothing and prints the same KUBECONFIG.
# `npm run cluster:down` stops it. Everything listens on 127.0.0.1; see docs/cluster.md.
#
# --real-node (or MONKEYTOWN_REAL_NODE=1) adds a real node that runs containers: kubelet,
# kube-proxy, containerd, runc, CNI (cluster/real-node.sh; needs root and Debian packages). Given
# to a running cluster without one, it adds the node.
#
# Usage: cluster/up.sh [--print-env] [--real-node]
#   (--print-env: only `export KUBECONFIG=...` on stdout)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$HERE/lib.sh"

PRINT_ENV=""
REAL_NODE=""
[[ "${MONKEYTOWN_REAL_NODE:-}" == 1 ]] && REAL_NODE=1
for arg in "$@"; do
  case "$arg" in
    --print-env) PRINT_ENV=1 ;;
    --real-node) REAL_NODE=1 ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (try --help)" ;;
  esac
done

for tool in openssl curl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (apt-get install -y $tool)"
done

announce() {
  if [[ -n "$PRINT_ENV" ]]; then
    printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_FILE"
  else
    log "ready: $(kubectl get nodes --no-headers 2>/dev/null | wc -l) nodes; use it with:"
    printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_FILE"
  fi
}

# ---- already up? -------------------------------------------------------------------------------

alive() { [[ -f "$PIDS/$1" ]] && kill -0 "$(cat "$PIDS/$1")" 2>/dev/null; }
all_alive() { for p in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do alive "$p" || return 1; done; }

build_out="$(bash "$HERE/build.sh")" || die "the cluster's binaries are not available (see above)"
BIN="$(sed -n 's/^BIN=//p' <<<"$build_out")"
CRDS="$(sed -n 's/^CRDS=//p' <<<"$build_out")"
if [[ -n "$REAL_NODE" ]]; then
  node_out="$(bash "$HERE/build.sh" --only real-node)" || die "the real node's binaries and images are not available (see above)"
  NODE_IMAGES="$(sed -n 's/^NODE_IMAGES=//p' <<<"$node_out")"
fi
export PATH="$BIN:$PATH"
export KUBECONFIG="$KUBECONFIG_FILE"

# real_node: start the real node; on failure its trap has cleaned the host, the control plane runs on.
real_node() {
  bash "$HERE/real-node.sh" up "$BIN" "$NODE_IMAGES" ||
    die "the real node did not start (see above); the cluster runs without it (cluster:down stops it)"
}

if all_alive && kubectl get --raw /readyz >/dev/null 2>&1; then
  log "already running (state: $CLUSTER_STATE)"
  if [[ -n "$REAL_NODE" ]] && ! { alive containerd && alive kubelet && alive kube-proxy; }; then
    bash "$HERE/real-node.sh" down # a real node that died in part
    real_node
  fi
  announce
  exit 0
fi
if compgen -G "$PIDS/*" >/dev/null; then
  log "a previous cluster is partly running: stopping it first"
  bash "$HERE/down.sh"
fi

# Ports must be free: another program holding one would get our traffic, or we its.
for port in "$API_PORT" "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$CONTROLLER_MANAGER_PORT" "$SCHEDULER_PORT" "$KWOK_PORT"; do
  if port_in_use "$port"; then
    die "127.0.0.1:$port is in use by another program: stop it, or set MONKEYTOWN_CLUSTER_API_PORT for the API server's port"
  fi
done

mkdir -p "$CLUSTER_STATE" "$PIDS" "$CLUSTER_STATE/logs"
T0=$(date +%s)

# ---- PKI ---------------------------------------------------------------------------------------
make_pki() {
  rm -rf "$PKI"; mkdir -p "$PKI"
  openssl_ca() { openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$2" -keyout "$PKI/$1.key" -out "$PKI/$1.crt" 2>/dev/null; }
  openssl_ca ca monkeytown-local-ca
  openssl_ca front-proxy-ca monkeytown-local-front-proxy-ca
  pki_sign apiserver ca "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  pki_sign apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client"
  pki_sign front-proxy-client front-proxy-ca "/CN=front-proxy-client"
  pki_sign admin ca "/O=system:masters/CN=kubernetes-admin"
  pki_sign controller-manager ca "/CN=system:kube-controller-manager"
  pki_sign scheduler ca "/CN=system:kube-scheduler"
  pki_sign kwok ca "/O=system:masters/CN=kwok"
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 600 "$PKI"/*.key
}

log "creating the cluster's certificates ($PKI)"
make_pki
kubeconfig "$KUBECONFIG_FILE" admin
for u in controller-manager scheduler kwok; do kubeconfig "$CLUSTER_STATE/$u.kubeconfig" "$u"; done

# ---- processes ---------------------------------------------------------------------------------
rm -rf "$CLUSTER_STATE/etcd"
log "starting etcd $ETCD_VERSION (127.0.0.1:$ETCD_CLIENT_PORT)"
start etcd etcd --name local --data-dir "$CLUSTER_STATE/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "local=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" \
  --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn
wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_CLIENT_PORT/health"

log "starting kube-apiserver $K8S_VERSION (https://127.0.0.1:$API_PORT)"
# --kubelet-preferred-address-types: logs and exec reach a real node's kubelet at its InternalIP
# (the default tries the node's name first, which resolves nowhere here).
start kube-apiserver kube-apiserver \
  --bind-address 127.0.0.1 --secure-port "$API_PORT" --advertise-address 127.0.0.1 \
  --endpoint-reconciler-type none \
  --kubelet-preferred-address-types InternalIP,Hostname \
  --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --client-ca-file "$PKI/ca.crt" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --authorization-mode Node,RBAC --allow-privileged=true \
  --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
  --profiling=false
wait_for kube-apiserver 60 kubectl get --raw /readyz

log "starting kube-controller-manager and kube-scheduler"
start kube-controller-manager kube-controller-manager \
  --kubeconfig "$CLUSTER_STATE/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$CLUSTER_STATE/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$CLUSTER_STATE/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$CONTROLLER_MANAGER_PORT" --leader-elect=false \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" \
  --use-service-account-credentials=true --service-cluster-ip-range "$SERVICE_CIDR" \
  --horizontal-pod-autoscaler-sync-period 15s --profiling=false \
  --flex-volume-plugin-dir "$CLUSTER_STATE/volume-plugins"
start kube-scheduler kube-scheduler \
  --kubeconfig "$CLUSTER_STATE/scheduler.kubeconfig" \
  --authentication-kubeconfig "$CLUSTER_STATE/scheduler.kubeconfig" \
  --authorization-kubeconfig "$CLUSTER_STATE/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false --profiling=false

# kwok's Stages watch ClusterIssuers too: their CRD must be served before kwok starts.
install_prerequisites "$CRDS"
start_kwok "$CLUSTER_STATE/kwok.kubeconfig"
# Pods can be created once the controller-manager has made the `default` ServiceAccount.
wait_for "the default ServiceAccount" 60 kubectl get serviceaccount default -n default

log "up in $(( $(date +%s) - T0 )) s (state: $CLUSTER_STATE; logs: $CLUSTER_STATE/logs)"
if [[ -n "$REAL_NODE" ]]; then real_node; fi
announce
