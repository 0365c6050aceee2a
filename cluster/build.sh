#!/usr/bin/env bash
# Finds or builds, offline from the Go module proxy, everything the local cluster runs, and caches it
# outside the repository keyed by version and by the wrapper module's go.sum:
#   kubernetes  kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (v1.37.2)
#   etcd        etcd (v3.6.16)
#   kwok        kwok (v0.8.0): fake nodes whose pods become Running/Ready without containers
#   crds        controller-gen (v0.23.0) and the CustomResourceDefinitions it generates from
#               prometheus-operator v0.95.2 and cert-manager v1.21.2 API types
#
# Usage:
#   cluster/build.sh            find/build all; prints `BIN=<dir>` and `CRDS=<dir>` on stdout
#   cluster/build.sh --check    exit 0 when everything is cached, 1 otherwise (never builds)
#   cluster/build.sh --only kwok,crds   only these parts (for a cluster that exists, such as kind)
#
# Progress goes to stderr. Cold (empty Go caches), on 2 cores: about 8-12 min, most of it Kubernetes.
# Environment: MONKEYTOWN_CLUSTER_CACHE (default ~/.cache/monkeytown-cluster).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$HERE/lib.sh"

MODE=build
PARTS=",kubernetes,etcd,kwok,crds,"
case "${1:-}" in
  "") ;;
  --check) MODE=check ;;
  --only) PARTS=",${2:?--only needs a list such as kwok,crds},"; [[ "$PARTS" =~ ^,((kubernetes|etcd|kwok|crds),)+$ ]] || die "--only takes kubernetes,etcd,kwok,crds" ;;
  -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument: $1 (try --help)" ;;
esac
want() { [[ "$PARTS" == *",$1,"* ]]; }

case "$CLUSTER_CACHE/" in
  "$REPO_ROOT/"*) die "MONKEYTOWN_CLUSTER_CACHE ($CLUSTER_CACHE) must be outside the repository" ;;
esac

# The cache directory of one wrapper module: its name, pinned version and a hash of its sources.
cache_dir() {
  local name="$1" version="$2" hash
  hash="$(cat "$HERE/build/$name/go.mod" "$HERE/build/$name/go.sum" | sha256sum | cut -c1-10)"
  echo "$CLUSTER_CACHE/$name-$version-$hash"
}

require_go() {
  command -v go >/dev/null 2>&1 || die "Go is needed to build the cluster's binaries offline: install Go >= 1.26 and run again."
  local v; v="$(go env GOVERSION)"; v="${v#go}"
  [[ "$(printf '%s\n1.26\n' "${v%.*}" | sort -V | head -n1)" == 1.26 ]] ||
    die "Go $v is too old: k8s.io/kubernetes $K8S_VERSION needs Go >= 1.26."
  export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
}

# build_module NAME VERSION LDFLAGS TAGS PKG...: go build the packages of wrapper module NAME into its
# cache dir (a copy of the module, so builds never write into the repository), in the background
# with a log, printing progress.
build_module() {
  local name="$1" version="$2" ldflags="$3" tags="$4"; shift 4
  local dir t0 rc
  dir="$(cache_dir "$name" "$version")"
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp/src" "$dir.tmp/bin"
  cp "$HERE/build/$name/go.mod" "$HERE/build/$name/go.sum" "$HERE/build/$name"/*.go "$dir.tmp/src/"
  t0=$(date +%s)
  log "$name $version: building $* (log: $dir.tmp/build.log)"
  (cd "$dir.tmp/src" && go build -trimpath -tags "$tags" -ldflags "$ldflags" -o ../bin/ "$@") \
    >"$dir.tmp/build.log" 2>&1 &
  local pid=$!
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
  log "$name $version: built in $(( $(date +%s) - t0 )) s -> $dir/bin"
}

k8s_ldflags() {
  local v="$K8S_VERSION" minor flags="-s -w" pkg date
  minor="${v#v*.}"; minor="${minor%%.*}"
  date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  echo "$flags"
}

have() { [[ -x "$(cache_dir "$1" "$2")/bin/$3" ]]; }

# CRDs: run controller-gen over the API packages (module cache, read-only) into $dir/crds.
generate_crds() {
  local dir; dir="$(cache_dir crds "$CRDS_VERSION")"
  local out="$dir/crds.tmp" pkg
  rm -rf "$out"; mkdir -p "$out"
  log "crds: generating CustomResourceDefinitions with controller-gen"
  # One run per API group: the versions of a kind (AlertmanagerConfig is v1alpha1 and v1beta1) must
  # be generated together into one multi-version CRD, or the last package's version wins.
  local mon=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring
  for paths in "$mon/v1;$mon/v1alpha1;$mon/v1beta1" github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1; do
    (cd "$dir/src" && "$dir/bin/controller-gen" crd:allowDangerousTypes=true,maxDescLen=0 \
      paths="$paths" output:crd:artifacts:config="$out") >>"$dir/crds.log" 2>&1 ||
      { tail -n 20 "$dir/crds.log" >&2; die "controller-gen failed for $paths (log: $dir/crds.log)"; }
  done
  rm -rf "$dir/crds"; mv "$out" "$dir/crds"
  log "crds: $(find "$dir/crds" -name '*.yaml' | wc -l) CRDs in $dir/crds"
}

if [[ "$MODE" == check ]]; then
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    have kubernetes "$K8S_VERSION" "$b" || exit 1
  done
  have etcd "$ETCD_VERSION" etcd && have kwok "$KWOK_VERSION" kwok && [[ -d "$(cache_dir crds "$CRDS_VERSION")/crds" ]]
  exit $?
fi

BIN="$CLUSTER_CACHE/bin"
mkdir -p "$BIN"
if ! want kubernetes; then
  :
elif ! have kubernetes "$K8S_VERSION" kube-apiserver || ! have kubernetes "$K8S_VERSION" kubectl; then
  require_go
  build_module kubernetes "$K8S_VERSION" "$(k8s_ldflags)" selinux,notest,grpcnotrace \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
else
  log "kubernetes $K8S_VERSION: cache hit ($(cache_dir kubernetes "$K8S_VERSION")/bin)"
fi
if ! want etcd; then
  :
elif ! have etcd "$ETCD_VERSION" etcd; then
  require_go
  build_module etcd "$ETCD_VERSION" "-s -w" "" go.etcd.io/etcd/server/v3
  mv "$(cache_dir etcd "$ETCD_VERSION")/bin/server" "$(cache_dir etcd "$ETCD_VERSION")/bin/etcd"
else
  log "etcd $ETCD_VERSION: cache hit"
fi
if ! want kwok; then
  :
elif ! have kwok "$KWOK_VERSION" kwok; then
  require_go
  build_module kwok "$KWOK_VERSION" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" "" sigs.k8s.io/kwok/cmd/kwok
else
  log "kwok $KWOK_VERSION: cache hit"
fi
if ! want crds; then
  :
elif [[ ! -d "$(cache_dir crds "$CRDS_VERSION")/crds" ]]; then
  require_go
  if ! have crds "$CRDS_VERSION" controller-gen; then
    build_module crds "$CRDS_VERSION" "-s -w" "" sigs.k8s.io/controller-tools/cmd/controller-gen
  fi
  generate_crds
else
  log "crds: cache hit"
fi

# One directory of links to the cached binaries: the PATH the cluster scripts use.
if want kubernetes; then
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    ln -sfn "$(cache_dir kubernetes "$K8S_VERSION")/bin/$b" "$BIN/$b"
  done
fi
if want etcd; then ln -sfn "$(cache_dir etcd "$ETCD_VERSION")/bin/etcd" "$BIN/etcd"; fi
if want kwok; then ln -sfn "$(cache_dir kwok "$KWOK_VERSION")/bin/kwok" "$BIN/kwok"; fi
echo "BIN=$BIN"
echo "CRDS=$(cache_dir crds "$CRDS_VERSION")/crds"
