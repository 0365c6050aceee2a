#!/usr/bin/env bash
# The pull-request gate on this machine (`npm run preview:all`): `pulumi preview` of each stack with the
# policy pack (policy/) and the stack's policy config (policy/config/<stack>.json), what preview.yml
# runs in CI, on the real engine.
#   dev                   always: render mode, no cluster, no cloud account
#   staging, production   when a kubeconfig, the stack's passphrase and its providers are available;
#                         otherwise reported as skipped, with the reason
# Exits 1 when any preview fails (a mandatory policy violation is named as such), 0 otherwise.
# At the end it prints, per previewed stack, the markdown table of policy findings the pull-request
# comment carries (.github/scripts/policy-report.cjs over the engine's --event-log), or the error's
# own text; under GitHub Actions the same goes to $GITHUB_STEP_SUMMARY.
#
# Environment:
#   PULUMI_BACKEND_URL        state backend (default: file://$PWD/.pulumi-state, git-ignored)
#   PULUMI_CONFIG_PASSPHRASE  the stacks' passphrase; required for staging and production, defaults
#                             to "monkeytown-dev" for dev only
#   PREVIEW_STACKS            the stacks to try (default: "dev staging production")
#   KUBECONFIG                the cluster of staging and production (default: ~/.kube/config)
set -euo pipefail
cd "$(dirname "$0")/.."

DEV_PASSPHRASE="monkeytown-dev"
# The providers a cluster stack uses besides Kubernetes (the SDKs in package.json).
CLUSTER_PROVIDERS=(kubernetes docker-build cloudflare github)

read -r -a stacks <<<"${PREVIEW_STACKS:-dev staging production}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
export PULUMI_SKIP_UPDATE_CHECK=true
case "$PULUMI_BACKEND_URL" in
  file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;;
esac

say() { printf 'preview-all: %s\n' "$*"; }

# The toolchain: ready (instant), or in GitHub Actions the CLI the workflow installed (the engine
# downloads providers there), or found/built by scripts/pulumi-toolchain.sh with progress.
if scripts/pulumi-toolchain.sh --check; then
  eval "$(PULUMI_TOOLCHAIN_QUIET=1 scripts/pulumi-toolchain.sh)"
elif [ "${GITHUB_ACTIONS:-}" = "true" ] && command -v pulumi >/dev/null 2>&1; then
  say "using the Pulumi CLI installed by the workflow: $(command -v pulumi)"
else
  say "the Pulumi toolchain is not ready: scripts/pulumi-toolchain.sh finds or builds it"
  eval "$(scripts/pulumi-toolchain.sh)"
fi
say "pulumi $(pulumi version) with backend $PULUMI_BACKEND_URL"

if [ ! -d policy/node_modules ]; then
  say "installing the policy pack's dependencies (npm ci --prefix policy)"
  npm ci --prefix policy --no-audit --no-fund
fi

# Why a cluster stack cannot be previewed here, or nothing when it can.
skip_reason() {
  local kubeconfig="${KUBECONFIG:-$HOME/.kube/config}" missing=() p
  if [ ! -s "${kubeconfig%%:*}" ]; then
    echo "no kubeconfig (KUBECONFIG is unset and ~/.kube/config is absent)"
    return
  fi
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
    echo "PULUMI_CONFIG_PASSPHRASE is not set (the stack's secrets cannot be decrypted)"
    return
  fi
  if [ "${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-}" = "true" ]; then
    local installed
    installed="$(pulumi plugin ls 2>/dev/null || true)"
    for p in "${CLUSTER_PROVIDERS[@]}"; do
      command -v "pulumi-resource-$p" >/dev/null 2>&1 && continue
      grep -qE "^${p}[[:space:]]+resource" <<<"$installed" && continue
      missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      echo "provider plugins not installed and downloads are off: ${missing[*]} (scripts/pulumi-toolchain.sh says which it can build)"
    fi
  fi
}

logs="$(mktemp -d)"
results=()
failed=0
for stack in "${stacks[@]}"; do
  if [ "$stack" != "dev" ]; then
    reason="$(skip_reason)"
    if [ -n "$reason" ]; then
      say "SKIP $stack: $reason"
      results+=("$stack: skipped: $reason")
      continue
    fi
  fi
  policy_config="policy/config/$stack.json"
  if [ ! -f "$policy_config" ]; then
    say "FAIL $stack: $policy_config is missing (every stack needs its policy config)"
    results+=("$stack: failed (no $policy_config)")
    failed=1
    continue
  fi
  passphrase="${PULUMI_CONFIG_PASSPHRASE:-}"
  [ "$stack" = "dev" ] && passphrase="${passphrase:-$DEV_PASSPHRASE}"

  say "pulumi preview --stack $stack with policy/ and $policy_config"
  log="$logs/$stack.log"
  events="$logs/$stack.events.jsonl"
  set +e
  (
    export PULUMI_CONFIG_PASSPHRASE="$passphrase"
    # --event-log (the engine's events, one JSON object a line) is a debug command of the CLI.
    export PULUMI_DEBUG_COMMANDS=true
    pulumi stack select --create "$stack" --secrets-provider passphrase --non-interactive &&
      pulumi preview --stack "$stack" --non-interactive \
        --policy-pack policy --policy-pack-config "policy/config/${stack}.json" \
        --event-log "$events"
  ) 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  outcome=success
  [ "$rc" -eq 0 ] || outcome=failure
  violations=0
  [ -f "$events" ] && violations="$(grep -c '"enforcementLevel":"mandatory"' "$events" || true)"
  if [ "$rc" -eq 0 ]; then
    results+=("$stack: passed")
  elif [ "$violations" -gt 0 ]; then
    results+=("$stack: FAILED, $violations mandatory policy violation(s)")
    failed=1
  else
    results+=("$stack: FAILED (preview error, see above)")
    failed=1
  fi
  {
    printf '### %s\n\n' "$stack"
    node .github/scripts/policy-report.cjs --stack "$stack" --outcome "$outcome" \
      --events "$events" --log "$log"
    printf '\n'
  } >>"$logs/report.md"
done

if [ -s "$logs/report.md" ]; then
  say "policy findings"
  cat "$logs/report.md"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$logs/report.md" >>"$GITHUB_STEP_SUMMARY"
  fi
fi
rm -rf "$logs"

say "summary"
for r in "${results[@]}"; do say "  $r"; done
exit "$failed"
