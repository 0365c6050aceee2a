#!/usr/bin/env bash
# Installs the workflow linter used by test/workflows/linters.test.ts and CI, outside the repository:
#   actionlint  built from its Go module (pinned), into $MONKEYTOWN_TOOLS/bin
#   ShellCheck  Debian's package (actionlint runs it on every `run:` script when it is on PATH)
# Idempotent: when both are present it prints where they are and exits at once.
# Prints `export PATH=...` on stdout so a caller can `eval "$(scripts/ci/install-actionlint.sh)"`;
# progress goes to stderr.
set -euo pipefail

ACTIONLINT_VERSION="v1.7.12"
TOOLS_DIR="${MONKEYTOWN_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/monkeytown-tools}"
BIN_DIR="$TOOLS_DIR/bin"
ACTIONLINT="$BIN_DIR/actionlint"

log() { printf 'install-actionlint: %s\n' "$*" >&2; }

installed_version() {
  # `actionlint -version` prints the version on its first line, e.g. "v1.7.12".
  [ -x "$ACTIONLINT" ] && "$ACTIONLINT" -version 2>/dev/null | head -n 1
}

if [ "$(installed_version)" = "$ACTIONLINT_VERSION" ]; then
  log "actionlint $ACTIONLINT_VERSION already at $ACTIONLINT"
else
  if ! command -v go >/dev/null 2>&1; then
    log "go is not on PATH: install Go 1.22 or later (https://go.dev/dl/ or apt-get install golang-go), then run this again"
    exit 1
  fi
  mkdir -p "$BIN_DIR"
  log "building actionlint $ACTIONLINT_VERSION from its Go module into $BIN_DIR ..."
  GOBIN="$BIN_DIR" GOFLAGS="${GOFLAGS:-} -mod=mod" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  log "built $("$ACTIONLINT" -version | head -n 1)"
fi

if command -v shellcheck >/dev/null 2>&1; then
  log "shellcheck already at $(command -v shellcheck)"
else
  if ! command -v apt-get >/dev/null 2>&1; then
    log "shellcheck is missing and apt-get is not available: install shellcheck with your package manager"
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      log "shellcheck is missing and installing it needs root: run 'apt-get install -y shellcheck' as root"
      exit 1
    fi
  fi
  log "installing shellcheck with apt-get ..."
  if ! $SUDO apt-get install -y --no-install-recommends shellcheck >&2; then
    log "package lists look stale: running apt-get update first"
    $SUDO apt-get update >&2
    $SUDO apt-get install -y --no-install-recommends shellcheck >&2
  fi
fi

# The literal $PATH is meant: the caller's shell expands it.
# shellcheck disable=SC2016
printf 'export PATH=%q:"$PATH"\n' "$BIN_DIR"
