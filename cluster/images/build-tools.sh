#!/usr/bin/env bash
# Finds or builds, offline from the Go module proxy, what builds the stacks' images on the local
# cluster's real node (versions pinned in cluster/lib.sh):
#   buildkit      buildkitd and buildctl (github.com/moby/buildkit)
#   buildx        buildx (github.com/docker/buildx): registers buildkitd as a builder
#   docker-build  pulumi-resource-docker-build (github.com/pulumi/pulumi-docker-build), the provider
#                 behind the npm package @pulumi/docker-build at the same version; linked into
#                 $PULUMI_HOME/plugins/resource-docker-build-v<version>/, where the engine looks
#                 for it (as scripts/pulumi-toolchain.sh does for the Kubernetes provider)
# Each from a wrapper module with a committed go.sum (cluster/build/<name>/), cached in
# $MONKEYTOWN_CLUSTER_CACHE/<name>-<version>-<hash of the module>/bin; buildkitd, buildctl and buildx
# are linked into $MONKEYTOWN_CLUSTER_CACHE/bin with the cluster's other binaries.
#
# Usage:
#   cluster/images/build-tools.sh             find/build all; prints BIN=<dir> and DOCKER_BUILD_PLUGIN=<dir>
#   cluster/images/build-tools.sh --check     exit 0 when all are cached and linked (never builds)
#   cluster/images/build-tools.sh --only buildkit,buildx
#
# Progress on stderr. Environment: MONKEYTOWN_CLUSTER_CACHE, PULUMI_HOME (default ~/.pulumi).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/lib.sh
source "$HERE/../lib.sh"
MODULES="$REPO_ROOT/cluster/build"
PHOME="${PULUMI_HOME:-$HOME/.pulumi}"
PLUGIN_DIR="$PHOME/plugins/resource-docker-build-v$DOCKER_BUILD_VERSION"

MODE=build
PARTS=",buildkit,buildx,docker-build,"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) MODE=check ;;
    --only)
      PARTS=",${2:?--only needs a list such as buildkit,buildx},"
      [[ "$PARTS" =~ ^,((buildkit|buildx|docker-build),)+$ ]] || die "--only takes buildkit,buildx,docker-build"
      shift
      ;;
    -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
  shift
done
want() { [[ "$PARTS" == *",$1,"* ]]; }

case "$CLUSTER_CACHE/" in
  "$REPO_ROOT/"*) die "MONKEYTOWN_CLUSTER_CACHE ($CLUSTER_CACHE) must be outside the repository" ;;
esac

# The wrapper modules must require what cluster/lib.sh pins (and @pulumi/docker-build the same).
check_pins() {
  local want
  for want in "buildkit|github.com/moby/buildkit $BUILDKIT_VERSION" \
    "buildx|github.com/docker/buildx $BUILDX_VERSION" \
    "docker-build|github.com/pulumi/pulumi-docker-build v$DOCKER_BUILD_VERSION"; do
    grep -qF "	${want#*|}" "$MODULES/${want%%|*}/go.mod" ||
      grep -qF "require ${want#*|}" "$MODULES/${want%%|*}/go.mod" ||
      die "cluster/build/${want%%|*}/go.mod does not require ${want#*|}: change cluster/lib.sh and the module together (go get ...@version; go mod tidy)"
  done
  grep -qF "\"@pulumi/docker-build\": \"$DOCKER_BUILD_VERSION\"" "$REPO_ROOT/package.json" ||
    die "package.json does not pin @pulumi/docker-build to $DOCKER_BUILD_VERSION (DOCKER_BUILD_VERSION in cluster/lib.sh): the provider and the SDK must match"
}

# cache_dir NAME VERSION: NAME's cache directory, keyed by version and every file of its module.
cache_dir() {
  local name="$1" version="$2" hash
  hash="$(cd "$MODULES/$name" && find . -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-10)"
  echo "$CLUSTER_CACHE/$name-$version-$hash"
}

require_go() {
  command -v go >/dev/null 2>&1 || die "Go is needed to build the image tools offline: install Go >= 1.26.8 and run again."
  local v; v="$(go env GOVERSION)"; v="${v#go}"
  [[ "$(printf '%s\n1.26.8\n' "$v" | sort -V | head -n1)" == 1.26.8 ]] ||
    die "Go $v is too old: github.com/moby/buildkit $BUILDKIT_VERSION needs Go >= 1.26.8."
  export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
}

# build NAME VERSION LDFLAGS PKG...: go build the packages of wrapper module NAME into its cache dir
# (from a copy of the module: builds never write into the repository), in the background with a log.
build() {
  local name="$1" version="$2" ldflags="$3"; shift 3
  local dir
  dir="$(cache_dir "$name" "$version")"
  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
  cp -r "$MODULES/$name" "$dir.tmp/src"
  go_build_into "$dir" "$name" "$version" "$ldflags" "" "$@"
  rm -rf "$dir/src"
}

have() { [[ -x "$(cache_dir "$1" "$2")/bin/$3" ]]; }

check_pins
BIN="$CLUSTER_CACHE/bin"
PROVIDER="$(cache_dir docker-build "v$DOCKER_BUILD_VERSION")/bin/pulumi-resource-docker-build"

if [[ "$MODE" == check ]]; then
  if want buildkit; then
    for b in buildkitd buildctl; do
      have buildkit "$BUILDKIT_VERSION" "$b" && [[ "$(readlink "$BIN/$b")" == "$(cache_dir buildkit "$BUILDKIT_VERSION")/bin/$b" ]] || exit 1
    done
  fi
  if want buildx; then
    have buildx "$BUILDX_VERSION" buildx && [[ "$(readlink "$BIN/buildx")" == "$(cache_dir buildx "$BUILDX_VERSION")/bin/buildx" ]] || exit 1
  fi
  if want docker-build; then
    p="$PLUGIN_DIR/pulumi-resource-docker-build"
    [[ -x "$p" && ! -L "$p" ]] || [[ -x "$PROVIDER" && "$(readlink "$p")" == "$PROVIDER" ]] || exit 1
  fi
  exit 0
fi

mkdir -p "$BIN"
if want buildkit; then
  if ! have buildkit "$BUILDKIT_VERSION" buildkitd || ! have buildkit "$BUILDKIT_VERSION" buildctl; then
    require_go
    build buildkit "$BUILDKIT_VERSION" \
      "-s -w -X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION -X github.com/moby/buildkit/version.Package=github.com/moby/buildkit" \
      github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
  else
    log "buildkit $BUILDKIT_VERSION: cache hit"
  fi
  for b in buildkitd buildctl; do ln -sfn "$(cache_dir buildkit "$BUILDKIT_VERSION")/bin/$b" "$BIN/$b"; done
fi
if want buildx; then
  if ! have buildx "$BUILDX_VERSION" buildx; then
    require_go
    build buildx "$BUILDX_VERSION" \
      "-s -w -X github.com/docker/buildx/version.Version=$BUILDX_VERSION -X github.com/docker/buildx/version.Package=github.com/docker/buildx" \
      github.com/docker/buildx/cmd/buildx
  else
    log "buildx $BUILDX_VERSION: cache hit"
  fi
  ln -sfn "$(cache_dir buildx "$BUILDX_VERSION")/bin/buildx" "$BIN/buildx"
fi
if want docker-build && [[ -x "$PLUGIN_DIR/pulumi-resource-docker-build" && ! -L "$PLUGIN_DIR/pulumi-resource-docker-build" ]]; then
  # Installed by `pulumi plugin install resource docker-build v$DOCKER_BUILD_VERSION` (where that works).
  log "docker-build $DOCKER_BUILD_VERSION: installed plugin ($PLUGIN_DIR)"
elif want docker-build; then
  if [[ ! -x "$PROVIDER" ]]; then
    require_go
    build docker-build "v$DOCKER_BUILD_VERSION" \
      "-s -w -X github.com/pulumi/pulumi-docker-build/provider.Version=$DOCKER_BUILD_VERSION" \
      github.com/pulumi/pulumi-docker-build/provider/cmd/pulumi-resource-docker-build
  else
    log "docker-build $DOCKER_BUILD_VERSION: cache hit"
  fi
  # The plugin cache entry must be a real directory; a linked binary inside it is fine.
  mkdir -p "$PLUGIN_DIR"
  ln -sfn "$PROVIDER" "$PLUGIN_DIR/pulumi-resource-docker-build"
fi
echo "BIN=$BIN"
echo "DOCKER_BUILD_PLUGIN=$PLUGIN_DIR"
