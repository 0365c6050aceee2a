#!/usr/bin/env bash
# Installs kube-score (https://github.com/zegl/kube-score), the independent workload linter that
# test/engine/kube-score runs on the rendered dev manifests, outside the repository:
#   kube-score  built from its Go module (pinned) into $MONKEYTOWN_TOOLS/bin
#               (default ~/.cache/monkeytown-tools/bin)
# Idempotent: when the pinned version is present it says where and exits at once.
# Prints `export PATH=...` on stdout so a caller can `eval "$(scripts/ci/install-kube-score.sh)"`;
# progress goes to stderr. Exits 1, saying what to install, when Go or the module proxy is missing.
set -euo pipefail

KUBE_SCORE_VERSION="v1.20.0"
TOOLS_DIR="${MONKEYTOWN_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/monkeytown-tools}"
BIN_DIR="$TOOLS_DIR/bin"
KUBE_SCORE="$BIN_DIR/kube-score"

log() { printf 'install-kube-score: %s\n' "$*" >&2; }

installed_version() {
  # `kube-score version` prints e.g. "kube-score version: 1.20.0, commit: ..., built: ...".
  [ -x "$KUBE_SCORE" ] && "$KUBE_SCORE" version 2>/dev/null | sed -n 's/^kube-score version: \([^,]*\).*/v\1/p'
}

if [ "$(installed_version)" = "$KUBE_SCORE_VERSION" ]; then
  log "kube-score $KUBE_SCORE_VERSION already at $KUBE_SCORE"
else
  if ! command -v go >/dev/null 2>&1; then
    log "go is not on PATH: install Go 1.22 or later (https://go.dev/dl/ or apt-get install golang-go), then run this again"
    exit 1
  fi
  mkdir -p "$BIN_DIR"
  log "building kube-score $KUBE_SCORE_VERSION from its Go module into $BIN_DIR (cold: ~2-4 min on 2 cores) ..."
  t0=$(date +%s)
  # The version is stamped the way kube-score's release build does it (main.version).
  if ! GOBIN="$BIN_DIR" GOFLAGS="${GOFLAGS:-} -mod=mod" go install \
      -ldflags "-s -w -X main.version=${KUBE_SCORE_VERSION#v}" \
      "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" >&2; then
    log "go install failed: the Go module proxy ($(go env GOPROXY)) must be reachable, or the modules already be in $(go env GOMODCACHE)"
    exit 1
  fi
  log "built $("$KUBE_SCORE" version) in $(( $(date +%s) - t0 ))s"
fi

# The literal $PATH is meant: the caller's shell expands it.
# shellcheck disable=SC2016
printf 'export PATH=%q:"$PATH"\n' "$BIN_DIR"
