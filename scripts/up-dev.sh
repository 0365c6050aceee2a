#!/usr/bin/env bash
# The main job (`npm run up:dev`): takes a fresh clone to a deployed dev stack on the real Pulumi
# engine, with no cluster and no cloud account.
#   1. installs the npm dependencies when missing (scripts/ensure-deps.sh: root and policy/)
#   2. finds or builds the Pulumi toolchain (scripts/pulumi-toolchain.sh: CLI, Node.js language
#      host, Kubernetes provider; a cold build takes a while, later runs are instant)
#   3. logs in to a local file backend, creates or selects the stack `dev`
#   4. `pulumi up --yes` with the policy pack (policy/, policy/config/dev.json): the Kubernetes
#      provider renders the manifests to rendered/dev instead of talking to a cluster
#   5. prints the stack outputs and where the manifests are
# Running it again changes nothing (the second `up` reports no changes); it never modifies a
# tracked file (Pulumi.dev.yaml carries the encryption salt of the dev passphrase).
#
# Environment (all optional):
#   PULUMI_BACKEND_URL        state backend (default: file://<repo>/.pulumi-state, git-ignored)
#   PULUMI_CONFIG_PASSPHRASE  dev's passphrase. Default: "monkeytown-dev", a published, dev-only
#                             value (dev holds no real secret; never use it for staging/production)
#   PULUMI_HOME               Pulumi's home (default: ~/.pulumi, outside the repository)
# Extra arguments go to `pulumi up` (e.g. `npm run up:dev -- --diff`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
STACK=dev
DEV_PASSPHRASE="monkeytown-dev"

say() { printf 'up:dev: %s\n' "$*" >&2; }
fail() { printf 'up:dev: ERROR: %s\n' "$*" >&2; exit 1; }

bash scripts/ensure-deps.sh || fail "installing the npm dependencies failed (npm ci in . and policy/): see above"

# The provider goes into $PULUMI_HOME/plugins rather than on PATH, so the engine does not warn
# "using pulumi-resource-kubernetes from $PATH" on every run.
export PULUMI_HOME="${PULUMI_HOME:-$HOME/.pulumi}"
export PULUMI_TOOLCHAIN_LINK_PLUGINS="${PULUMI_TOOLCHAIN_LINK_PLUGINS:-1}"
if ! toolchain_env="$(bash scripts/pulumi-toolchain.sh)"; then
  # shellcheck source-path=SCRIPTDIR source=toolchain/versions.env disable=SC1091
  . scripts/toolchain/versions.env
  fail "the Pulumi toolchain is not available (see the lines above for what failed). It needs:
  - Go >= $MIN_GO_VERSION and a reachable Go module proxy, to build pulumi v$PULUMI_VERSION, the Node.js
    language host and pulumi-resource-kubernetes v$K8S_VERSION into ~/.cache/monkeytown-pulumi
    (run: npm run toolchain);
  - or those binaries on PATH (an official Pulumi v$PULUMI_VERSION release, plus
    'pulumi plugin install resource kubernetes v$K8S_VERSION')."
fi
eval "$toolchain_env"

export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$ROOT/.pulumi-state}"
export PULUMI_HOME="${PULUMI_HOME:-$HOME/.pulumi}"
case "$PULUMI_HOME/" in
  "$ROOT/.pulumi/"*) ;; # git-ignored
  "$ROOT/"*) fail "PULUMI_HOME ($PULUMI_HOME) is inside the repository: use a path outside it, or $ROOT/.pulumi (git-ignored)" ;;
esac
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-$DEV_PASSPHRASE}"
export PULUMI_SKIP_UPDATE_CHECK=true
# ts-node transpiles without type-checking at start-up (`npm run typecheck` and CI type-check):
# dev's preview drops from ~2x to ~1.1x the empty program's (docs/engine.md, bench:preview).
export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Render mode must not see any cluster (pulumi-kubernetes#3498). KUBECONFIG must be unset (even
# KUBECONFIG=/dev/null is rejected: "kubeconfig" arg is not compatible with "renderYamlToDirectory").
unset KUBECONFIG
case "$PULUMI_BACKEND_URL" in
  file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;;
esac

say "pulumi $(pulumi version), backend $PULUMI_BACKEND_URL, stack $STACK"
pulumi stack select --create "$STACK" --secrets-provider passphrase --non-interactive
pulumi up --yes --non-interactive --stack "$STACK" \
  --policy-pack policy --policy-pack-config "policy/config/$STACK.json" "$@"

echo
echo "Stack outputs (pulumi stack output --json -s $STACK):"
pulumi stack output --json --stack "$STACK"
render_dir="$(pulumi stack output renderedManifestsDir --stack "$STACK" 2>/dev/null || true)"
echo
echo "Rendered manifests: $ROOT/${render_dir:-rendered/$STACK}"
echo "State: $PULUMI_BACKEND_URL (stack $STACK)"
