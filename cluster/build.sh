#!/usr/bin/env bash
# Finds or builds, offline from the Go module proxy, everything the local cluster runs, and caches it
# outside the repository keyed by version and by the wrapper module's go.sum:
#   kubernetes  kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (v1.37.2)
#   etcd        etcd (v3.6.16)
#   kwok        kwok (v0.8.0): fake nodes whose pods become Running/Ready without containers
#   crds        controller-gen (v0.23.0) and the CustomResourceDefinitions it generates from
#               prometheus-operator v0.95.2 and cert-manager v1.21.2 API types
# and, only when asked for (`--only real-node`; `cluster:up -- --real-node` does):
#   real-node   kubelet and kube-proxy (v1.37.2, same wrapper module as `kubernetes`), and the
#               docker-archive tarballs of the node's local images: pause (pause.c from the
#               k8s.io/kubernetes module, gcc -static) and node-check (Debian's busybox-static)
#
# Usage:
#   cluster/build.sh            find/build all but real-node; prints `BIN=<dir>` and `CRDS=<dir>`
#   cluster/build.sh --check    exit 0 when everything is cached, 1 otherwise (never builds)
#   cluster/build.sh --only kwok,crds   only these parts (for a cluster that exists, such as kind)
#   cluster/build.sh --only real-node   the real node's parts; also prints `NODE_IMAGES=<dir>`
#   (--check and --only combine: `--check --only real-node`)
#
# Progress goes to stderr. Cold (empty Go caches), on 2 cores: about 8-12 min, most of it Kubernetes.
# Environment: MONKEYTOWN_CLUSTER_CACHE (default ~/.cache/monkeytown-cluster).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$HERE/lib.sh"

MODE=build
PARTS=",kubernetes,etcd,kwok,crds,"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) MODE=check ;;
    --only)
      PARTS=",${2:?--only needs a list such as kwok,crds},"
      [[ "$PARTS" =~ ^,((kubernetes|etcd|kwok|crds|real-node),)+$ ]] || die "--only takes kubernetes,etcd,kwok,crds,real-node"
      shift
      ;;
    -h | --help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done
want() { [[ "$PARTS" == *",$1,"* ]]; }

case "$CLUSTER_CACHE/" in
  "$REPO_ROOT/"*) die "MONKEYTOWN_CLUSTER_CACHE ($CLUSTER_CACHE) must be outside the repository" ;;
esac

# The wrapper module (cluster/build/<module>) a cache entry is built from: kubelet and kube-proxy
# (kubernetes-node) come from the kubernetes module, cached apart from the control plane.
module_of() { if [[ "$1" == kubernetes-node ]]; then echo kubernetes; else echo "$1"; fi; }

# The cache directory of one build: its name, pinned version and a hash of its module's sources.
cache_dir() {
  local name="$1" version="$2" module hash
  module="$(module_of "$name")"
  hash="$(cat "$HERE/build/$module/go.mod" "$HERE/build/$module/go.sum" | sha256sum | cut -c1-10)"
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
  local dir module
  dir="$(cache_dir "$name" "$version")"
  module="$HERE/build/$(module_of "$name")"
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp/src"
  cp "$module/go.mod" "$module/go.sum" "$module"/*.go "$dir.tmp/src/"
  go_build_into "$dir" "$name" "$version" "$ldflags" "$tags" "$@"
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

# ---- the real node's local images ---------------------------------------------------------------
# No image can be pulled here: the node's sandbox image and an image to check the node with are
# made from local sources and saved as docker-archive tarballs (cluster/real-node.sh imports them).

# pause_source [offline]: pause.c of k8s.io/kubernetes at K8S_VERSION, from the Go module cache
# (downloaded from the module proxy unless "offline").
pause_source() {
  local dir proxy
  proxy="$(go env GOPROXY)"
  [[ -z "${1:-}" ]] || proxy=off
  dir="$(cd / && GOFLAGS="" GOTOOLCHAIN=local GOPROXY="$proxy" go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>/dev/null |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || true
  [[ -n "$dir" && -f "$dir/build/pause/linux/pause.c" ]] || return 1
  echo "$dir/build/pause/linux/pause.c"
}

# node_images_dir [offline]: the cache directory of the node's images, keyed by their names, their
# sources (pause.c, busybox) and the recipe below.
node_images_dir() {
  local pause_c busybox hash
  pause_c="$(pause_source "${1:-}")" || return 1
  busybox="$(command -v busybox)" || return 1
  hash="$({
    echo "$PAUSE_IMAGE $NODE_CHECK_IMAGE"
    sha256sum "$pause_c" "$busybox" | cut -d' ' -f1
    sed -n '/^build_node_images()/,/^}/p' "${BASH_SOURCE[0]}"
  } | sha256sum | cut -c1-10)"
  echo "$CLUSTER_CACHE/node-images-$hash"
}

# build_node_images DIR: DIR/pause.tar and DIR/node-check.tar.
build_node_images() {
  local dir="$1" pause_c root
  command -v gcc >/dev/null 2>&1 || die "gcc is needed to build the real node's pause image: apt-get install -y gcc libc6-dev"
  command -v busybox >/dev/null 2>&1 || die "busybox is needed for the real node's check image: apt-get install -y busybox-static"
  file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked' ||
    die "$(command -v busybox) is not statically linked: apt-get install -y busybox-static"
  pause_c="$(pause_source)" || die "pause.c: k8s.io/kubernetes@$K8S_VERSION is not in the Go module cache and the proxy did not serve it"
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  # pause: the pod sandbox image, as k8s.io/kubernetes' build/pause/Makefile builds it (static, -Os).
  root="$dir.tmp/pause-root"; mkdir -p "$root"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-monkeytown" -o "$root/pause" "$pause_c"
  docker_archive "$dir.tmp/pause.tar" "$PAUSE_IMAGE" "$root" '{"Entrypoint":["/pause"],"User":"65535:65535"}'
  # node-check: busybox httpd on :8080 serving /www, as uid 1001 (the restricted profile's shape):
  # /healthz for probes, /cgi-bin/name answers the pod's name, a shell for `kubectl exec`.
  root="$dir.tmp/node-check-root"; mkdir -p "$root/bin" "$root/www/cgi-bin"
  cp "$(command -v busybox)" "$root/bin/busybox"
  for applet in sh httpd hostname id cat ls touch sleep wget; do ln -s busybox "$root/bin/$applet"; done
  echo "monkeytown node-check" >"$root/www/index.html"
  echo ok >"$root/www/healthz"
  printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nhostname\n' >"$root/www/cgi-bin/name"
  chmod 755 "$root/www/cgi-bin/name"
  docker_archive "$dir.tmp/node-check.tar" "$NODE_CHECK_IMAGE" "$root" \
    '{"Entrypoint":["/bin/httpd","-f","-v","-p","8080","-h","/www"],"User":"1001:1001","Env":["PATH=/bin"],"ExposedPorts":{"8080/tcp":{}}}'
  rm -rf "$dir.tmp"/*-root "$dir"; mv "$dir.tmp" "$dir"
  log "real node images: $PAUSE_IMAGE, $NODE_CHECK_IMAGE -> $dir"
}

if [[ "$MODE" == check ]]; then
  if want kubernetes; then
    for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
      have kubernetes "$K8S_VERSION" "$b" || exit 1
    done
  fi
  if want etcd; then have etcd "$ETCD_VERSION" etcd || exit 1; fi
  if want kwok; then have kwok "$KWOK_VERSION" kwok || exit 1; fi
  if want crds; then [[ -d "$(cache_dir crds "$CRDS_VERSION")/crds" ]] || exit 1; fi
  if want real-node; then
    have kubernetes-node "$K8S_VERSION" kubelet && have kubernetes-node "$K8S_VERSION" kube-proxy || exit 1
    images="$(node_images_dir offline)" || exit 1
    [[ -f "$images/pause.tar" && -f "$images/node-check.tar" ]] || exit 1
  fi
  exit 0
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

if want real-node; then
  if ! have kubernetes-node "$K8S_VERSION" kubelet || ! have kubernetes-node "$K8S_VERSION" kube-proxy; then
    require_go
    build_module kubernetes-node "$K8S_VERSION" "$(k8s_ldflags)" selinux,notest,grpcnotrace \
      k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  else
    log "kubelet, kube-proxy $K8S_VERSION: cache hit ($(cache_dir kubernetes-node "$K8S_VERSION")/bin)"
  fi
  require_go
  NODE_IMAGES="$(node_images_dir)" || die "the real node's images need pause.c from k8s.io/kubernetes@$K8S_VERSION (Go module proxy) and busybox (apt-get install -y busybox-static)"
  if [[ -f "$NODE_IMAGES/pause.tar" && -f "$NODE_IMAGES/node-check.tar" ]]; then
    log "real node images: cache hit ($NODE_IMAGES)"
  else
    build_node_images "$NODE_IMAGES"
  fi
fi

# One directory of links to the cached binaries: the PATH the cluster scripts use.
if want kubernetes; then
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    ln -sfn "$(cache_dir kubernetes "$K8S_VERSION")/bin/$b" "$BIN/$b"
  done
fi
if want etcd; then ln -sfn "$(cache_dir etcd "$ETCD_VERSION")/bin/etcd" "$BIN/etcd"; fi
if want kwok; then ln -sfn "$(cache_dir kwok "$KWOK_VERSION")/bin/kwok" "$BIN/kwok"; fi
if want real-node; then
  for b in kubelet kube-proxy; do ln -sfn "$(cache_dir kubernetes-node "$K8S_VERSION")/bin/$b" "$BIN/$b"; done
fi
echo "BIN=$BIN"
echo "CRDS=$(cache_dir crds "$CRDS_VERSION")/crds"
if want real-node; then echo "NODE_IMAGES=$NODE_IMAGES"; fi
