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
PKI="$CLUSTER_STATE/pki"

# ---- the optional real node (`cluster:up -- --real-node` or MONKEYTOWN_REAL_NODE=1) ----
# kubelet + kube-proxy (built from the same kubernetes wrapper module), containerd, runc and the CNI
# plugins from Debian packages. Everything it owns lives under REAL_NODE_DIR; see docs/cluster.md.
REAL_NODE_NAME="monkeytown-real"
REAL_NODE_DIR="$CLUSTER_STATE/real-node"
# containerd of the real node. Other tools that load images into the node or build on it (ctr,
# buildkitd's containerd worker) use this socket and namespace: the CRI namespace is the kubelet's
# image store. Example: ctr --address "$CONTAINERD_SOCKET" -n "$CTR_NAMESPACE" images ls
CONTAINERD_SOCKET="$REAL_NODE_DIR/containerd/containerd.sock"
CTR_NAMESPACE="k8s.io"
# The real node's pods: a private /24 on a bridge of its own, apart from KWOK_POD_CIDR and
# SERVICE_CIDR. REAL_POD_GATEWAY is the bridge's (the host's) address in it.
REAL_POD_CIDR="10.244.0.0/24"
REAL_POD_GATEWAY="10.244.0.1"
REAL_NODE_BRIDGE="monkeytown0"
REAL_NODE_CNI_NETWORK="monkeytown"
# The cgroup (in every cgroup v1 hierarchy) under which the kubelet puts the pods.
REAL_NODE_CGROUP="monkeytown"
KUBELET_PORT=20250
KUBELET_HEALTHZ_PORT=20248
KUBE_PROXY_METRICS_PORT=20249
KUBE_PROXY_HEALTHZ_PORT=20256
# The taint keeps the stacks' pods on the kwok nodes: only pods that tolerate it (and select the
# node by its label) run on the real node.
REAL_NODE_TAINT_KEY="monkeytown.dev/real-node"
REAL_NODE_TAINT="$REAL_NODE_TAINT_KEY=true:NoSchedule"
REAL_NODE_LABEL="monkeytown.dev/real-node=true"
# Images the node has without a registry: the sandbox image (pause.c from the kubernetes module,
# linked statically) and a busybox-static image to check the node with (test/cluster/real-node.test.ts).
PAUSE_VERSION="3.10.2" # build/pause/Makefile's TAG at K8S_VERSION
PAUSE_IMAGE="monkeytown.local/pause:$PAUSE_VERSION"
NODE_CHECK_IMAGE="monkeytown.local/node-check:1"

# ---- building the stacks' images on the real node (cluster/images/; docs/cluster.md) ----
# buildkitd on the node's containerd (CONTAINERD_SOCKET, CTR_NAMESPACE), registered as a buildx
# builder, and a registry on loopback standing in for GHCR; both start and stop with the real node.
# The wrapper modules in cluster/build/{buildkit,buildx,docker-build}/go.mod must agree with these.
BUILDKIT_VERSION="v0.34.2"
BUILDX_VERSION="v0.35.0"
DOCKER_BUILD_VERSION="0.0.22" # Pulumi's docker-build provider: package.json pins @pulumi/docker-build to it
REGISTRY_PORT=20500
BUILDER_DIR="$REAL_NODE_DIR/builder"
BUILDKIT_SOCKET="$BUILDER_DIR/buildkitd.sock"
BUILDER_NAME="monkeytown-local"

log() { echo "[cluster] $*" >&2; }
die() {
  echo "[cluster] ERROR: $*" >&2
  exit 1
}

# go_build_into DIR NAME VERSION LDFLAGS TAGS PKG...: go build PKG... from the module copy the caller
# put in DIR.tmp/src into DIR.tmp/bin, in the background with a log and progress lines; on failure the
# log's tail and a hint when the module proxy did not serve something; on success DIR.tmp becomes DIR
# (so a cache directory only ever holds a finished build).
go_build_into() {
  local dir="$1" name="$2" version="$3" ldflags="$4" tags="$5"; shift 5
  local t0 pid rc
  mkdir -p "$dir.tmp/bin"
  t0=$(date +%s)
  log "$name $version: building $* (log: $dir.tmp/build.log)"
  (cd "$dir.tmp/src" && go build -trimpath -tags "$tags" -ldflags "$ldflags" -o ../bin/ "$@") \
    >"$dir.tmp/build.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15
    kill -0 "$pid" 2>/dev/null && log "$name: still building ($(( $(date +%s) - t0 )) s)"
  done
  wait "$pid" && rc=0 || rc=$?
  if [[ $rc -ne 0 ]]; then
    tail -n 25 "$dir.tmp/build.log" >&2
    if grep -qiE 'dial tcp|no such host|404 Not Found|410 Gone|connection refused' "$dir.tmp/build.log"; then
      echo "[cluster] the Go module proxy ($(go env GOPROXY)) did not serve a module above: make it reachable (or the modules present in $(go env GOMODCACHE)) and run again." >&2
    fi
    die "building $name failed (full log: $dir.tmp/build.log)"
  fi
  echo "$(( $(date +%s) - t0 ))" >"$dir.tmp/build-seconds"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  log "$name $version: built in $(cat "$dir/build-seconds") s -> $dir/bin"
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

# docker_archive OUT REF ROOTFS CONFIG: a `docker save`-style tarball of a one-layer image (the
# directory ROOTFS, owned by root, timestamps zeroed: the same inputs give the same digest) tagged
# REF; CONFIG is the image config's "config" object as JSON (Entrypoint, User, Env, ...). Loads
# without a registry: ctr --address "$CONTAINERD_SOCKET" -n "$CTR_NAMESPACE" images import OUT
docker_archive() {
  local out="$1" ref="$2" rootfs="$3" config="$4" tmp diff
  tmp="$(mktemp -d)"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$rootfs" -cf "$tmp/layer.tar" .
  diff="sha256:$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)"
  printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["%s"]}}\n' \
    "$(dpkg --print-architecture 2>/dev/null || echo amd64)" "$config" "$diff" >"$tmp/config.json"
  printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":["layer.tar"]}]\n' "$ref" >"$tmp/manifest.json"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tmp" -cf "$out" \
    manifest.json config.json layer.tar
  rm -rf "$tmp"
}

# port_in_use PORT: does something answer on 127.0.0.1:PORT?
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pki_sign NAME CA SUBJECT [SANS]: in $PKI, a key and a certificate signed by CA: a client
# certificate, or with SANS (openssl's subjectAltName syntax) a serving and client one. 30 days.
pki_sign() {
  local name="$1" ca="$2" subj="$3" sans="${4:-}" ext
  openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null
  ext="$(mktemp)"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n "$sans" ]]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$sans"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" -CAcreateserial \
    -days 30 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$ext"
  chmod 600 "$PKI/$name.key"
}

# kubeconfig FILE USER: a kubeconfig for USER's client certificate ($PKI/USER.crt), context
# "monkeytown-local".
kubeconfig() {
  local file="$1" user="$2"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: monkeytown-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$user.crt")
    client-key-data: $(base64 -w0 "$PKI/$user.key")
contexts:
- name: monkeytown-local
  context: { cluster: monkeytown-local, user: $user }
current-context: monkeytown-local
EOF
  chmod 600 "$file"
}

# stop_recorded NAME: stop the process group that `start` recorded for NAME (SIGTERM, then SIGKILL
# after 10 s) and forget its PID. Succeeds when it was running.
stop_recorded() {
  local name="$1" f="$PIDS/$1" pid
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  rm -f "$f"
  kill -0 "$pid" 2>/dev/null || return 1
  # Each process runs in its own session (setsid), so its process group is its PID: signal the
  # group to catch anything it spawned.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  return 0
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
