#!/usr/bin/env bash
# shellcheck disable=SC2016  # single-quoted scripts for bash -c / node -e are intentional
# Offline Pulumi toolchain: finds or builds (from the Go module proxy) the `pulumi` CLI, a Node.js
# language host and the Kubernetes provider at the versions of scripts/toolchain/versions.env,
# caches them outside the repo keyed by version, and prints `export PATH=...` for them.
#
# Usage:
#   scripts/pulumi-toolchain.sh              find/build; print `export PATH=...` on stdout
#   scripts/pulumi-toolchain.sh --print-env  same as above
#   eval "$(scripts/pulumi-toolchain.sh)"    put the toolchain on PATH in this shell
#   source scripts/pulumi-toolchain.sh       same (exports PATH into the calling shell)
#   scripts/pulumi-toolchain.sh --check      exit 0 if everything is ready, 1 otherwise (silent, never builds)
#   scripts/pulumi-toolchain.sh --help
#
# Progress goes to stderr. Cold builds take ~25 min on 2 cores (see
# scripts/toolchain/README.md); they run in the background with a log file and
# are polled, so if the calling shell is killed, running the script again
# re-attaches to the build that is still going.
#
# Environment:
#   PULUMI_TOOLCHAIN_CACHE  cache root (default: $HOME/.cache/monkeytown-pulumi)
#   PULUMI_HOME             where the npm `pulumi` package keeps CLIs (default: $HOME/.pulumi)
#   PULUMI_TOOLCHAIN_QUIET  set to 1 to silence progress lines
#   PULUMI_TOOLCHAIN_LINK_PLUGINS=1  also link the providers into $PULUMI_HOME/plugins/<kind>-<name>-v<version>/
#                           and leave them off PATH: the engine then stops warning
#                           "using pulumi-resource-kubernetes from $PATH" (PULUMI_HOME must be set as it will be used)

# When sourced, run in a child bash (so `set -e`/`exit` cannot hurt the caller) and export its PATH.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  __pt_out="$(bash "${BASH_SOURCE[0]}" --print-env)" && eval "$__pt_out"
  __pt_rc=$?
  unset __pt_out
  # shellcheck disable=SC2317
  return "$__pt_rc" 2>/dev/null || exit "$__pt_rc"
fi

set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
TC_DIR="$SCRIPT_DIR/toolchain"
# The pinned versions (PULUMI_VERSION, K8S_VERSION, K8S_MODULE_VERSION, MIN_GO_VERSION): one file.
# shellcheck source-path=SCRIPTDIR source=toolchain/versions.env disable=SC1091
. "$TC_DIR/versions.env"
CACHE_ROOT="${PULUMI_TOOLCHAIN_CACHE:-$HOME/.cache/monkeytown-pulumi}"
PHOME="${PULUMI_HOME:-$HOME/.pulumi}"
POLL_SECONDS=15

MODE=print
case "${1:-}" in
  "" | --print-env) MODE=print ;;
  --check) MODE=check ;;
  -h | --help) sed -n '3,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "pulumi-toolchain: unknown argument: $1 (try --help)" >&2; exit 2 ;;
esac

log() { [[ "$MODE" == check || "${PULUMI_TOOLCHAIN_QUIET:-}" == 1 ]] || echo "[pulumi-toolchain] $*" >&2; }
die() { echo "[pulumi-toolchain] ERROR: $*" >&2; exit 1; }

case "$CACHE_ROOT/" in
  "$REPO_ROOT/"*) die "PULUMI_TOOLCHAIN_CACHE ($CACHE_ROOT) must be outside the repository ($REPO_ROOT)" ;;
esac

# Short content hash of a wrapper module, so a change to our own Go code gets a new cache dir.
# Its tests (*_test.go) are not in the binary and do not count.
src_hash() {
  (
    cd "$1" && shopt -s nullglob
    local files=(go.mod go.sum) f
    for f in ./*.go; do [[ "$f" == *_test.go ]] || files+=("$f"); done
    cat "${files[@]}" 2>/dev/null | sha256sum | cut -c1-10
  )
}

# Does binary $1 print version $2 (with or without a leading v) for `version`/`-version`?
has_version() {
  local bin="$1" want="${2#v}" got
  [[ -x "$bin" ]] || return 1
  # timeout: a `pulumi` on PATH may be the npm wrapper, which would try to download a CLI.
  got="$(PULUMI_SKIP_UPDATE_CHECK=true timeout 30 "$bin" version 2>/dev/null || true)"
  [[ "${got#v}" == "$want" ]]
}

# ---- Go build helpers --------------------------------------------------------
GO_READY=""
require_go() {
  [[ -n "$GO_READY" ]] && return 0
  command -v go >/dev/null 2>&1 || die "Go is not installed, and it is needed to build the Pulumi toolchain offline.
  Install Go >= $MIN_GO_VERSION (e.g. 'apt-get install golang-go' if Debian's is new enough, or a release from the Go
  module proxy's toolchain: 'GOTOOLCHAIN=go1.26.0 go version' from any older Go), then run this script again.
  Alternatively put pulumi v$PULUMI_VERSION on PATH, or at \$PULUMI_HOME/versions/$PULUMI_VERSION/bin/pulumi."
  local v major minor
  v="$(go env GOVERSION)"; v="${v#go}"
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  if (( major < 1 || (major == 1 && minor < ${MIN_GO_VERSION#1.}) )); then
    die "Go $v is too old; Go >= $MIN_GO_VERSION is needed (github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION requires it)."
  fi
  export GOTOOLCHAIN=local
  export GOFLAGS="-mod=mod -buildvcs=false"
  # Keep Go's module and build caches outside the repository.
  local modcache gocache
  modcache="$(go env GOMODCACHE)"; gocache="$(go env GOCACHE)"
  case "$modcache/" in "$REPO_ROOT/"*) export GOMODCACHE="$CACHE_ROOT/go/mod" ;; esac
  case "$gocache/" in "$REPO_ROOT/"*) export GOCACHE="$CACHE_ROOT/go/build" ;; esac
  GO_READY=1
}

proxy_hint() {
  local proxy
  proxy="$(go env GOPROXY 2>/dev/null || echo '?')"
  cat >&2 <<EOF
[pulumi-toolchain] Could not download Go modules (GOPROXY=$proxy). See the log above.
  The toolchain is built from the Go module proxy; it must be reachable (or the modules already be in
  \$(go env GOMODCACHE)). Fix one of:
    - make the Go module proxy reachable (check GOPROXY / network), then run this script again;
    - or provide the binaries yourself: a 'pulumi' v$PULUMI_VERSION on PATH or at
      \$PULUMI_HOME/versions/$PULUMI_VERSION/bin/pulumi (where the npm 'pulumi' package looks), plus
      pulumi-language-nodejs and pulumi-resource-kubernetes v$K8S_VERSION on PATH (an official Pulumi
      release archive and 'pulumi plugin install resource kubernetes v$K8S_VERSION' provide them).
EOF
}

# Run "$@" in the background (own session, survives us), log to $log, poll every POLL_SECONDS.
# If a previous run of this script left the same build running, attach to it instead.
run_logged() {
  local what="$1" dir="$2" log="$3"; shift 3
  local pidfile="$dir/build.pid" start pid now
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    pid="$(cat "$pidfile")"
    log "$what: attaching to build already running (pid $pid, log $log)"
  else
    rm -f "$dir/build.rc"
    : >"$log"
    LOGFILE="$log" RCFILE="$dir/build.rc" setsid bash -c '"$@" >>"$LOGFILE" 2>&1; echo $? >"$RCFILE"' _ "$@" \
      </dev/null >/dev/null 2>&1 &
    pid=$!
    echo "$pid" >"$pidfile"
  fi
  start=$(date +%s)
  local ticks=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    if (( ticks % POLL_SECONDS == 0 )) && kill -0 "$pid" 2>/dev/null; then
      now=$(( $(date +%s) - start ))
      log "$what: still running ($((now / 60))m$((now % 60))s; log: $log)"
    fi
  done
  rm -f "$pidfile"
  [[ -f "$dir/build.rc" && "$(cat "$dir/build.rc")" == 0 ]]
}

# Copy wrapper module $1 into $2/src (builds never touch the repo), and download the modules that
# package $3 needs. (Not `go mod download`: it also wants .info files, which the proxy refuses for
# some pseudo-versions whose .mod/.zip it does serve.)
prepare_src() {
  local mod="$1" dir="$2" pkg="$3"
  rm -rf "$dir/src"; mkdir -p "$dir/src" "$dir/bin"
  cp "$mod/go.mod" "$mod/go.sum" "$dir/src/"
  if compgen -G "$mod/*.go" >/dev/null; then cp "$mod"/*.go "$dir/src/"; fi
  log "$(basename "$dir"): downloading Go modules (log: $dir/download.log)"
  if ! run_logged "$(basename "$dir") download" "$dir" "$dir/download.log" \
      bash -c 'cd "$0" && go list -x -deps "$1" >/dev/null' "$dir/src" "$pkg"; then
    grep -v '^# get' "$dir/download.log" | tail -n 8 >&2 || true
    proxy_hint
    exit 1
  fi
}

# go build in $dir/src -> $dir/bin/$name, timed.
go_build() {
  local dir="$1" name="$2" pkg="$3" ldflags="$4" t0 t
  t0=$(date +%s)
  log "$(basename "$dir"): go build $pkg (background; log: $dir/build.log)"
  if ! run_logged "$(basename "$dir")" "$dir" "$dir/build.log" \
      bash -c 'cd "$0" && go build -trimpath -ldflags "$1" -o "../bin/$2.tmp" "$3"' "$dir/src" "$ldflags" "$name" "$pkg"; then
    tail -n 30 "$dir/build.log" >&2 || true
    if grep -qiE 'dial tcp|no such host|not available|403|404|connection refused|i/o timeout' "$dir/build.log"; then proxy_hint; fi
    die "building $name failed (full log: $dir/build.log)"
  fi
  mv -f "$dir/bin/$name.tmp" "$dir/bin/$name"
  t=$(( $(date +%s) - t0 ))
  echo "$t" >"$dir/build-seconds"
  log "$(basename "$dir"): built in $((t / 60))m$((t % 60))s -> $dir/bin/$name"
}

# ---- components --------------------------------------------------------------
# Each find_* sets a *_DIR variable to a directory containing the binary, or returns 1.

CLI_DIR="" ; LANG_DIR="" ; K8S_DIR=""

find_cli() {
  local p d
  # 1. pulumi already on PATH at the pinned version
  if p="$(command -v pulumi 2>/dev/null)" && has_version "$p" "$PULUMI_VERSION"; then
    CLI_DIR="$(dirname "$p")"; log "pulumi v$PULUMI_VERSION found on PATH: $p"; return 0
  fi
  # 2. where the npm `pulumi` package installs it
  d="$PHOME/versions/$PULUMI_VERSION/bin"
  if has_version "$d/pulumi" "$PULUMI_VERSION"; then
    CLI_DIR="$d"; log "pulumi v$PULUMI_VERSION found in PULUMI_HOME: $d/pulumi"; return 0
  fi
  # 3. our cache
  d="$CACHE_ROOT/pulumi-v$PULUMI_VERSION/bin"
  if has_version "$d/pulumi" "$PULUMI_VERSION"; then
    CLI_DIR="$d"; log "pulumi v$PULUMI_VERSION: cache hit ($d)"; return 0
  fi
  return 1
}

build_cli() {
  local dir="$CACHE_ROOT/pulumi-v$PULUMI_VERSION"
  log "pulumi v$PULUMI_VERSION not found; building it from the Go module proxy (cold: ~6 min on 2 cores)"
  require_go
  prepare_src "$TC_DIR/cli" "$dir" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  go_build "$dir" pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
  has_version "$dir/bin/pulumi" "$PULUMI_VERSION" || die "built pulumi does not report v$PULUMI_VERSION"
  CLI_DIR="$dir/bin"
}

lang_cache_dir() { echo "$CACHE_ROOT/language-nodejs-v$PULUMI_VERSION-$(src_hash "$TC_DIR/language-host")"; }

find_lang() {
  local d
  d="$(lang_cache_dir)/bin"
  # A real pulumi-language-nodejs shipped beside a found CLI (e.g. an official install) wins;
  # in our own cached CLI dir it is a copy of ours (see below), refreshed from the cache.
  if [[ -n "$CLI_DIR" && "$CLI_DIR/" != "$CACHE_ROOT/"* && -x "$CLI_DIR/pulumi-language-nodejs" ]]; then
    LANG_DIR="$CLI_DIR"; log "pulumi-language-nodejs found beside pulumi: $CLI_DIR"; return 0
  fi
  if [[ -x "$d/pulumi-language-nodejs" ]]; then
    LANG_DIR="$d"; log "pulumi-language-nodejs (minimal host for v$PULUMI_VERSION): cache hit ($d)"; return 0
  fi
  return 1
}

build_lang() {
  local dir; dir="$(lang_cache_dir)"
  log "building our minimal pulumi-language-nodejs (scripts/toolchain/language-host; cold: ~1 min)"
  require_go
  prepare_src "$TC_DIR/language-host" "$dir" .
  go_build "$dir" pulumi-language-nodejs . "-s -w -X main.version=$PULUMI_VERSION"
  LANG_DIR="$dir/bin"
}

find_k8s() {
  local p d
  d="$CACHE_ROOT/resource-kubernetes-v$K8S_VERSION/bin"
  if [[ -x "$d/pulumi-resource-kubernetes" ]]; then
    K8S_DIR="$d"; log "pulumi-resource-kubernetes v$K8S_VERSION: cache hit ($d)"; return 0
  fi
  # Installed with `pulumi plugin install resource kubernetes v$K8S_VERSION` (how CI on GitHub gets it).
  d="$PHOME/plugins/resource-kubernetes-v$K8S_VERSION"
  if [[ -x "$d/pulumi-resource-kubernetes" && ! -L "$d/pulumi-resource-kubernetes" ]]; then
    K8S_DIR="$d"; log "pulumi-resource-kubernetes v$K8S_VERSION: installed plugin ($d)"; return 0
  fi
  if p="$(command -v pulumi-resource-kubernetes 2>/dev/null)"; then
    K8S_DIR="$(dirname "$p")"; log "pulumi-resource-kubernetes found on PATH (version not checked): $p"; return 0
  fi
  return 1
}

build_k8s() {
  local dir="$CACHE_ROOT/resource-kubernetes-v$K8S_VERSION" moddir
  log "building pulumi-resource-kubernetes v$K8S_VERSION from the Go module proxy (cold: ~15-20 min on 2 cores)"
  require_go
  # provider/v4 (and some of its deps) at these versions are not in the checksum database the proxy
  # mirrors; the committed go.sum pins every hash instead.
  export GOSUMDB=off
  prepare_src "$TC_DIR/kubernetes" "$dir" github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider
  moddir="$(cd "$dir/src" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
  command -v node >/dev/null 2>&1 || die "node is needed to prepare the kubernetes provider schema"
  # Upstream's main embeds generated files that are not in the module zip: make them.
  node -e '
    const fs = require("fs"); const [mod, ver, out] = process.argv.slice(1);
    const dir = mod + "/cmd/pulumi-resource-kubernetes/";
    const schema = JSON.parse(fs.readFileSync(dir + "schema.json", "utf8"));
    schema.version = ver;
    fs.writeFileSync(out + "/schema-embed.json", JSON.stringify(schema));
    const tf = JSON.parse(fs.readFileSync(dir + "terraform-mapping.json", "utf8"));
    fs.writeFileSync(out + "/terraform-mapping-embed.json", JSON.stringify(tf));
  ' "$moddir" "$K8S_VERSION" "$dir/src"
  go_build "$dir" pulumi-resource-kubernetes . \
    "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=v$K8S_VERSION"
  unset GOSUMDB
  K8S_DIR="$dir/bin"
}

report_skipped() {
  log "skipped: pulumi-resource-github (the Go module proxy serves no version of github.com/pulumi/pulumi-github/provider/v6)"
  log "skipped: pulumi-resource-docker, pulumi-resource-cloudflare (they need patched upstream code that is in no module zip; not buildable here)"
}

# The wrapper modules' go.mod files must agree with versions.env.
check_pins() {
  local f want
  for want in "$TC_DIR/cli/go.mod|github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION" \
              "$TC_DIR/cli/go.mod|github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION" \
              "$TC_DIR/language-host/go.mod|github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION" \
              "$TC_DIR/kubernetes/go.mod|github.com/pulumi/pulumi-kubernetes/provider/v4 $K8S_MODULE_VERSION"; do
    f="${want%%|*}"
    grep -qF "${want#*|}" "$f" || die "$f does not require '${want#*|}': update $TC_DIR/versions.env and the go.mod together (go get ...; go mod tidy)"
  done
}

# ---- main --------------------------------------------------------------------
check_pins
if [[ "$MODE" == check ]]; then
  find_cli && find_lang && find_k8s || exit 1
  exit 0
fi

find_cli || build_cli
find_lang || build_lang
find_k8s || build_k8s
report_skipped

# The engine treats pulumi-language-nodejs as a plugin "bundled" with the CLI and warns
# ("using pulumi-language-nodejs from $PATH ...") when it is found anywhere but beside the running
# `pulumi`. When the CLI is our own cached build, put a copy of the host beside it.
if [[ "$LANG_DIR" != "$CLI_DIR" && "$CLI_DIR/" == "$CACHE_ROOT/"* ]]; then
  if ! cmp -s "$LANG_DIR/pulumi-language-nodejs" "$CLI_DIR/pulumi-language-nodejs"; then
    cp -f "$LANG_DIR/pulumi-language-nodejs" "$CLI_DIR/.pulumi-language-nodejs.tmp"
    mv -f "$CLI_DIR/.pulumi-language-nodejs.tmp" "$CLI_DIR/pulumi-language-nodejs"
    log "installed the language host beside pulumi: $CLI_DIR/pulumi-language-nodejs"
  fi
  LANG_DIR="$CLI_DIR"
fi

PATH_DIRS=("$CLI_DIR" "$LANG_DIR")
if [[ "${PULUMI_TOOLCHAIN_LINK_PLUGINS:-}" == 1 ]]; then
  # The plugin cache entry must be a real directory; a symlinked binary inside it is fine.
  pdir="$PHOME/plugins/resource-kubernetes-v$K8S_VERSION"
  if [[ "$K8S_DIR" != "$pdir" ]]; then # an installed plugin is already where the engine looks
    mkdir -p "$pdir"
    ln -sfn "$K8S_DIR/pulumi-resource-kubernetes" "$pdir/pulumi-resource-kubernetes"
    log "linked pulumi-resource-kubernetes into $pdir (not put on PATH)"
  fi
else
  PATH_DIRS+=("$K8S_DIR")
fi

NEW_PATH=""
for d in "${PATH_DIRS[@]}"; do
  case ":$NEW_PATH:" in *":$d:"*) ;; *) NEW_PATH="${NEW_PATH:+$NEW_PATH:}$d" ;; esac
done
# Drop those directories from the existing PATH so ours come first exactly once.
STRIP="$NEW_PATH"
[[ "$K8S_DIR/" == "$CACHE_ROOT/"* ]] && STRIP="$STRIP:$K8S_DIR"
REST=""
IFS=: read -r -a parts <<<"${PATH:-}"
for d in "${parts[@]}"; do
  case ":$STRIP:" in *":$d:"*) ;; *) REST="${REST:+$REST:}$d" ;; esac
done
log "ready: pulumi $("$CLI_DIR/pulumi" version 2>/dev/null), language host in $LANG_DIR, kubernetes provider in $K8S_DIR"
printf 'export PATH=%q\n' "$NEW_PATH${REST:+:$REST}"
