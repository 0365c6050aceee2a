#!/usr/bin/env bash
# `npm run preview -- -s <stack>`: `pulumi preview` of one stack on the real engine, with the policy
# pack (policy/) and the stack's policy config (policy/config/<stack>.json). Same environment as the
# main job (scripts/up-dev.sh): local file backend by default, no update check, no plugin downloads.
#   dev                   render mode; the kubeconfig is hidden; passphrase defaults to the dev one
#   staging, production   your kubeconfig's cluster; PULUMI_CONFIG_PASSPHRASE must be set (no
#                         default), and the stack's providers (kubernetes, docker-build, cloudflare,
#                         github) must be installed (see docs/engine.md)
# Extra arguments go to `pulumi preview` (e.g. `npm run preview -- -s dev --diff`).
#
# Environment: PULUMI_BACKEND_URL (default file://<repo>/.pulumi-state), PULUMI_CONFIG_PASSPHRASE,
# PULUMI_HOME (default ~/.pulumi), KUBECONFIG (staging/production only),
# PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION (default true: set it to false to let the engine
# download providers where the internet is reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DEV_PASSPHRASE="monkeytown-dev"

say() { printf 'preview: %s\n' "$*" >&2; }
fail() { printf 'preview: ERROR: %s\n' "$*" >&2; exit 1; }
usage() { echo "usage: npm run preview -- -s <dev|staging|production> [pulumi preview flags]" >&2; exit 2; }

STACK=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -s | --stack) [ $# -ge 2 ] || usage; STACK="$2"; shift 2 ;;
    --stack=*) STACK="${1#--stack=}"; shift ;;
    -h | --help) usage ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -n "$STACK" ] || usage
if [ ! -f "Pulumi.$STACK.yaml" ]; then
  known=(Pulumi.*.yaml); known=("${known[@]#Pulumi.}"); known=("${known[@]%.yaml}")
  fail "no stack file Pulumi.$STACK.yaml (stacks: ${known[*]})"
fi
POLICY_CONFIG="policy/config/$STACK.json"
[ -f "$POLICY_CONFIG" ] || fail "$POLICY_CONFIG is missing: every stack needs its policy config"

bash scripts/ensure-deps.sh || fail "installing the npm dependencies failed (npm ci in . and policy/): see above"
# The provider goes into $PULUMI_HOME/plugins rather than on PATH, so the engine does not warn
# "using pulumi-resource-kubernetes from $PATH" on every run.
export PULUMI_HOME="${PULUMI_HOME:-$HOME/.pulumi}"
export PULUMI_TOOLCHAIN_LINK_PLUGINS="${PULUMI_TOOLCHAIN_LINK_PLUGINS:-1}"
if ! toolchain_env="$(bash scripts/pulumi-toolchain.sh)"; then
  # shellcheck source-path=SCRIPTDIR source=toolchain/versions.env disable=SC1091
  . scripts/toolchain/versions.env
  fail "the Pulumi toolchain is not available (see above); 'npm run toolchain' builds it (Go >= $MIN_GO_VERSION and the Go module proxy needed)"
fi
eval "$toolchain_env"

export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$ROOT/.pulumi-state}"
export PULUMI_HOME="${PULUMI_HOME:-$HOME/.pulumi}"
export PULUMI_SKIP_UPDATE_CHECK=true
# ts-node transpiles without type-checking at start-up (`npm run typecheck` and CI type-check):
# dev's preview drops from ~2x to ~1.1x the empty program's (docs/engine.md, bench:preview).
export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-true}"
if [ "$STACK" = dev ]; then
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-$DEV_PASSPHRASE}"
  # Render mode must not see any cluster (pulumi-kubernetes#3498); KUBECONFIG must be unset (an
  # empty one is rejected: "kubeconfig" arg is not compatible with "renderYamlToDirectory").
  unset KUBECONFIG
elif [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  fail "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the $STACK stack's passphrase; the dev default is never used for $STACK"
fi
case "$PULUMI_BACKEND_URL" in
  file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;;
esac

say "pulumi $(pulumi version), backend $PULUMI_BACKEND_URL, stack $STACK, policy config $POLICY_CONFIG"
pulumi stack select --create "$STACK" --secrets-provider passphrase --non-interactive
exec pulumi preview --non-interactive --stack "$STACK" \
  --policy-pack policy --policy-pack-config "$POLICY_CONFIG" ${args[@]+"${args[@]}"}
