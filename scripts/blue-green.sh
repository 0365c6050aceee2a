#!/usr/bin/env bash
# Blue-green releases of the API (monkeytown:api.strategy blue-green). The Deployments api-blue and
# api-green run the images in monkeytown:api.blueImage and api.greenImage; a colour whose key is unset
# runs the release (monkeytown:apiImage, or the image this commit builds). The Service api sends traffic
# to monkeytown:api.activeColor, api-preview to the other, idle, colour. The stack outputs apiActiveColor
# and apiColorImages record what runs: they, not git, are the record, and every command here starts by
# setting the three keys from them in the project's Pulumi.<stack>.yaml (the work tree's by default).
#
#   scripts/blue-green.sh state <stack>    what runs, as activeColor=, idleColor=, activeImage=, idleImage=,
#                                          blueImage=, greenImage= lines (nothing when the stack does not
#                                          run blue-green or has never been deployed)
#   scripts/blue-green.sh pin <stack>      set api.activeColor, api.blueImage and api.greenImage to what
#                                          runs, so that an update moves no colour unless told to
#   scripts/blue-green.sh stage <stack> [image]
#                                          pin, print the state, then give the release to the idle colour
#                                          only: its key is removed (it runs the release) or set to [image]
#   scripts/blue-green.sh smoke <stack>    GET /health and /ready on the idle colour through the api-preview
#                                          Service (kubectl port-forward; SMOKE_PORT, default 18080)
#   scripts/blue-green.sh switch <stack> [image the idle colour ran before staging]
#                                          pin, then send the traffic to the idle colour: pulumi up with the
#                                          policy pack. When the idle colour runs the serving image already (a
#                                          re-deploy of what runs), nothing switches, and the idle colour gets
#                                          [image] back so the rollback target survives.
#
# The deploy workflow runs stage, pulumi up, smoke, switch; scripts/rollback.sh switches back. Output
# lines suit $GITHUB_OUTPUT; messages go to stderr.
#
# Environment (the defaults are the repository's own stacks):
#   MONKEYTOWN_PROJECT_DIR    the directory of the stack's Pulumi project, holding its Pulumi.yaml and
#                             Pulumi.<stack>.yaml: pulumi runs there and that stack file is the one the
#                             commands change (default: the repository root). For a stack kept outside
#                             the repository, such as the local cluster's workspace (cluster/workspace.ts);
#                             the policy pack and the sibling scripts still come from this repository.
#   MONKEYTOWN_POLICY_CONFIG  the policy pack config file every `pulumi up` here passes (default: the
#                             repository's policy/config/<stack>.json)
#   SMOKE_PORT                the local port of smoke's port-forward (default 18080); kubectl talks to
#                             the cluster of its usual config (KUBECONFIG)
set -euo pipefail

say() { echo "blue-green: $*" >&2; }

# The repository (sibling scripts, policy pack, policy configs) and the Pulumi project the commands
# run in, both absolute: the scripts this one calls inherit them.
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib/project.sh
. "$ROOT/scripts/lib/project.sh"
enter_project

usage() {
  sed -n '9,23p' "$ROOT/scripts/blue-green.sh" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

ensure_pulumi() {
  if ! command -v pulumi >/dev/null 2>&1 && [ -x "$ROOT/scripts/pulumi-toolchain.sh" ]; then
    eval "$("$ROOT/scripts/pulumi-toolchain.sh")"
  fi
  command -v pulumi >/dev/null 2>&1 || {
    say "pulumi is not on PATH: run 'npm run toolchain' first"
    exit 1
  }
}

ACTIVE="" IDLE="" BLUE="" GREEN="" NAMESPACE=""

# What runs, from the stack outputs; the colour Deployments' images from the cluster for a stack last
# deployed before apiColorImages existed. Leaves ACTIVE empty when the stack has no colours.
read_state() {
  local stack="$1" json lines
  json="$(pulumi stack output --json --stack "$stack" 2>/dev/null || true)"
  # The script is JavaScript: its ${...} are template literals, not shell expansions.
  # shellcheck disable=SC2016
  lines="$(OUTPUTS="$json" node -e '
    let o = {};
    try { o = JSON.parse(process.env.OUTPUTS || "{}") ?? {}; } catch {}
    const active = o.apiActiveColor;
    if (active !== "blue" && active !== "green") process.exit(0);
    const images = o.apiColorImages ?? {};
    console.log(`ACTIVE=${active}`);
    console.log(`BLUE=${typeof images.blue === "string" ? images.blue : ""}`);
    console.log(`GREEN=${typeof images.green === "string" ? images.green : ""}`);
    console.log(`NAMESPACE=${typeof o.namespace === "string" ? o.namespace : ""}`);
  ')"
  ACTIVE="$(sed -n 's/^ACTIVE=//p' <<<"$lines")"
  BLUE="$(sed -n 's/^BLUE=//p' <<<"$lines")"
  GREEN="$(sed -n 's/^GREEN=//p' <<<"$lines")"
  NAMESPACE="$(sed -n 's/^NAMESPACE=//p' <<<"$lines")"
  [ -n "$ACTIVE" ] || return 0
  if [ "$ACTIVE" = blue ]; then IDLE=green; else IDLE=blue; fi
  if [ -z "$BLUE" ]; then BLUE="$(live_image "$stack" blue)"; fi
  if [ -z "$GREEN" ]; then GREEN="$(live_image "$stack" green)"; fi
  if [ -z "$BLUE" ] || [ -z "$GREEN" ]; then
    say "cannot tell which image each colour of $stack runs (no apiColorImages output, and kubectl could not read api-blue/api-green in '${NAMESPACE:-?}')"
    exit 1
  fi
}

live_image() {
  local stack="$1" color="$2"
  if [ -z "$NAMESPACE" ] || ! command -v kubectl >/dev/null 2>&1; then return 0; fi
  say "$stack records no apiColorImages yet: reading api-$color's image from the cluster"
  kubectl -n "$NAMESPACE" get deployment "api-$color" \
    -o jsonpath='{.spec.template.spec.containers[?(@.name=="api")].image}' 2>/dev/null || true
}

image_of() { if [ "$1" = blue ]; then echo "$BLUE"; else echo "$GREEN"; fi; }

print_state() {
  printf 'activeColor=%s\nidleColor=%s\nactiveImage=%s\nidleImage=%s\nblueImage=%s\ngreenImage=%s\n' \
    "$ACTIVE" "$IDLE" "$(image_of "$ACTIVE")" "$(image_of "$IDLE")" "$BLUE" "$GREEN"
}

set_key() { pulumi config set --stack "$1" --path "monkeytown:api.$2" "$3"; }

pin() {
  local stack="$1"
  set_key "$stack" activeColor "$ACTIVE"
  set_key "$stack" blueImage "$BLUE"
  set_key "$stack" greenImage "$GREEN"
  say "$stack pinned: $ACTIVE serves ($(image_of "$ACTIVE")), $IDLE idles ($(image_of "$IDLE"))"
}

POLICY_CONFIG=""
up() {
  local stack="$1" message="$2"
  pulumi up --stack "$stack" --yes --non-interactive \
    --policy-pack "$ROOT/policy" --policy-pack-config "$POLICY_CONFIG" \
    --message "$message"
}

no_colours() {
  say "$1 runs no blue-green colours yet (rolling, or never deployed): nothing to $2"
}

cmd="${1:-}"
case "$cmd" in
  state | pin | smoke)
    [ $# -eq 2 ] || usage
    ;;
  stage | switch)
    [ $# -eq 2 ] || [ $# -eq 3 ] || usage
    ;;
  *) usage ;;
esac
stack="$2"
ensure_pulumi
read_state "$stack"

case "$cmd" in
  state)
    [ -z "$ACTIVE" ] || print_state
    ;;
  pin)
    if [ -z "$ACTIVE" ]; then no_colours "$stack" pin; exit 0; fi
    pin "$stack"
    ;;
  stage)
    if [ -z "$ACTIVE" ]; then no_colours "$stack" stage; exit 0; fi
    pin "$stack"
    print_state
    if [ -n "${3:-}" ]; then
      set_key "$stack" "${IDLE}Image" "$3"
      say "the release $3 goes to $IDLE only; $ACTIVE keeps serving $(image_of "$ACTIVE")"
    else
      pulumi config rm --stack "$stack" --path "monkeytown:api.${IDLE}Image"
      say "the release (apiImage, or the image this commit builds) goes to $IDLE only; $ACTIVE keeps serving $(image_of "$ACTIVE")"
    fi
    ;;
  smoke)
    if [ -z "$ACTIVE" ]; then no_colours "$stack" smoke-test; exit 1; fi
    command -v kubectl >/dev/null 2>&1 || {
      say "kubectl is not on PATH: it reaches the idle colour through api-preview"
      exit 1
    }
    port="${SMOKE_PORT:-18080}"
    log="$(mktemp)"
    say "smoke-testing $IDLE ($(image_of "$IDLE")) through svc/api-preview in ${NAMESPACE}"
    kubectl -n "$NAMESPACE" port-forward svc/api-preview "$port:80" >"$log" 2>&1 &
    forward=$!
    trap 'kill "$forward" 2>/dev/null || true; rm -f "$log"' EXIT
    for _ in $(seq 1 30); do
      if curl --silent --output /dev/null --max-time 2 "http://127.0.0.1:$port/health"; then break; fi
      if ! kill -0 "$forward" 2>/dev/null; then
        say "kubectl port-forward stopped: $(cat "$log")"
        exit 1
      fi
      sleep 0.5
    done
    "$ROOT/scripts/health-check.sh" --url "http://127.0.0.1:$port"
    ;;
  switch)
    if [ -z "$ACTIVE" ]; then no_colours "$stack" switch; exit 1; fi
    POLICY_CONFIG="$(policy_config "$stack")"
    previous="${3:-}"
    if [ "$BLUE" = "$GREEN" ]; then
      say "$IDLE runs the image that serves already ($BLUE): nothing to switch"
      if [ -n "$previous" ] && [ "$previous" != "$BLUE" ]; then
        pin "$stack"
        set_key "$stack" "${IDLE}Image" "$previous"
        up "$stack" "keep $previous on $IDLE as the rollback target"
      fi
      exit 0
    fi
    pin "$stack"
    set_key "$stack" activeColor "$IDLE"
    say "switching the traffic from $ACTIVE ($(image_of "$ACTIVE")) to $IDLE ($(image_of "$IDLE")); $ACTIVE stays as the rollback"
    up "$stack" "switch api traffic to $IDLE ($(image_of "$IDLE"))"
    ;;
esac
