# Sourced by the deploy-flow scripts (scripts/blue-green.sh, scripts/rollback.sh) after they set ROOT
# (the repository, absolute) and say(). `enter_project` makes the Pulumi project the commands run in
# absolute and exported, so that the scripts they call inherit it, and changes into it:
#   MONKEYTOWN_PROJECT_DIR    the directory holding the stack's Pulumi.yaml (default: ROOT); refused
#                             with exit 2 when it holds none
#   MONKEYTOWN_POLICY_CONFIG  made absolute when set (the default is the caller's business)
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
