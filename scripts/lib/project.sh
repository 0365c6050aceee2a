# Sourced by the deploy-flow scripts (scripts/blue-green.sh, scripts/rollback.sh) after they set ROOT
# (the repository, absolute) and say(). `enter_project` makes the Pulumi project the commands run in
# absolute and exported, so that the scripts they call inherit it, and changes into it:
#   MONKEYTOWN_PROJECT_DIR    the directory holding the stack's Pulumi.yaml (default: ROOT); refused
#                             with exit 2 when it holds none
#   MONKEYTOWN_POLICY_CONFIG  made absolute when set
# `policy_config <stack>` prints the policy config file of the stack's updates (MONKEYTOWN_POLICY_CONFIG,
# default ROOT/policy/config/<stack>.json), or exits 2 saying how to fix it when it is not a file.
# shellcheck shell=bash
enter_project() {
  local dir="${MONKEYTOWN_PROJECT_DIR:-$ROOT}"
  if [ ! -f "$dir/Pulumi.yaml" ] && [ ! -f "$dir/Pulumi.yml" ]; then
    say "MONKEYTOWN_PROJECT_DIR '$dir' holds no Pulumi.yaml: set it to the directory of the stack's Pulumi project, or unset it for the repository's own"
    exit 2
  fi
  MONKEYTOWN_PROJECT_DIR="$(cd "$dir" && pwd)"
  export MONKEYTOWN_PROJECT_DIR
  if [ -n "${MONKEYTOWN_POLICY_CONFIG:-}" ] && [ -d "$(dirname "$MONKEYTOWN_POLICY_CONFIG")" ]; then
    MONKEYTOWN_POLICY_CONFIG="$(cd "$(dirname "$MONKEYTOWN_POLICY_CONFIG")" && pwd)/$(basename "$MONKEYTOWN_POLICY_CONFIG")"
    export MONKEYTOWN_POLICY_CONFIG
  fi
  cd "$MONKEYTOWN_PROJECT_DIR" || exit 2
}

# The policy config file of the stack's updates; checked before anything changes.
policy_config() {
  local stack="$1"
  local file="${MONKEYTOWN_POLICY_CONFIG:-$ROOT/policy/config/${stack}.json}"
  if [ ! -f "$file" ]; then
    if [ -n "${MONKEYTOWN_POLICY_CONFIG:-}" ]; then
      say "MONKEYTOWN_POLICY_CONFIG '$file' is not a file: set it to the policy config of $stack, or unset it for policy/config/${stack}.json"
    else
      say "$stack has no policy config policy/config/${stack}.json: add it, or set MONKEYTOWN_POLICY_CONFIG to the file"
    fi
    exit 2
  fi
  echo "$file"
}
