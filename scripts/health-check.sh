#!/usr/bin/env bash
# Checks a deployed stack: GET /health and /ready on the stack's webUrl and apiUrl outputs must all
# answer 200 before the check's budget runs out. deploy-stack.yml runs it after every `pulumi up`; a
# failure there triggers the automatic rollback (scripts/rollback.sh).
#
#   scripts/health-check.sh <stack>           read webUrl and apiUrl with `pulumi stack output`
#   scripts/health-check.sh --url URL ...     check the given base URLs instead (no Pulumi needed)
#
# Where the stack's public addresses do not answer (the local cluster: its webUrl and apiUrl name
# hostnames that do not resolve here), HEALTH_URLS (space-separated base URLs, such as the Services'
# ClusterIP addresses) replaces the webUrl and apiUrl outputs of `<stack>`, whose recovery output still
# sets the budget; `--url` ignores it. MONKEYTOWN_PROJECT_DIR (default: the repository root) is the
# directory of the stack's Pulumi project, where `pulumi stack output` runs (as in scripts/rollback.sh).
#
# The budget is part of the stack's recovery plan (architecture seed §9.1: a failed deployment is
# rolled back within 1 minute): the stack output `recovery.healthCheck` gives the seconds the whole
# check may take, the seconds between attempts and per request, derived from monkeytown:recovery
# (config/recovery.ts). Environment overrides: HEALTH_BUDGET (default: the output's, else 30),
# HEALTH_INTERVAL (the output's, else 5), HEALTH_TIMEOUT (the output's, else 5; cut to what is left
# of the budget), HEALTH_ATTEMPTS (at most this many rounds; default: as many as the budget allows).
# Exit 0 when every endpoint answered 200, 1 when one did not in time, 2 on a usage error.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

usage() {
  sed -n '6,7p' "$ROOT/scripts/health-check.sh" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Milliseconds since the epoch (bash 5's EPOCHREALTIME; whole seconds from date otherwise).
now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local t="${EPOCHREALTIME/[.,]/}"
    echo $((10#$t / 1000))
  else
    echo $(($(date +%s) * 1000))
  fi
}

bases=()
plan=""
if [ "${1:-}" = "--url" ]; then
  while [ $# -gt 0 ]; do
    if [ "$1" != "--url" ] || [ $# -lt 2 ]; then usage; fi
    bases+=("$2")
    shift 2
  done
elif [ $# -eq 1 ] && [ -n "$1" ]; then
  stack="$1"
  project="${MONKEYTOWN_PROJECT_DIR:-$ROOT}"
  if [ ! -f "$project/Pulumi.yaml" ] && [ ! -f "$project/Pulumi.yml" ]; then
    echo "health-check: MONKEYTOWN_PROJECT_DIR '$project' holds no Pulumi.yaml: set it to the directory of the stack's Pulumi project, or unset it for the repository's own" >&2
    exit 2
  fi
  cd "$project"
  if ! command -v pulumi >/dev/null 2>&1 && [ -x "$ROOT/scripts/pulumi-toolchain.sh" ]; then
    eval "$("$ROOT/scripts/pulumi-toolchain.sh")"
  fi
  if [ -n "${HEALTH_URLS:-}" ]; then
    read -r -d '' -a bases <<<"$HEALTH_URLS" || true
    if [ ${#bases[@]} -eq 0 ]; then
      echo "health-check: HEALTH_URLS holds no URL: give it space-separated base URLs, or unset it for the stack's webUrl and apiUrl" >&2
      exit 2
    fi
    echo "health-check: HEALTH_URLS instead of the webUrl and apiUrl outputs of $stack"
  else
    for output in webUrl apiUrl; do
      url="$(pulumi stack output "$output" --stack "$stack" 2>/dev/null || true)"
      if [ -z "$url" ]; then
        echo "health-check: stack '$stack' has no '$output' output: is it deployed, and is PULUMI_BACKEND_URL pointing at its backend?" >&2
        exit 1
      fi
      bases+=("$url")
    done
  fi
  plan="$(pulumi stack output recovery --json --stack "$stack" 2>/dev/null || true)"
else
  usage
fi

# The stack's budget, when its recovery output is there: "budget interval timeout".
from_plan=""
if [ -n "$plan" ]; then
  from_plan="$(printf '%s' "$plan" | node -e '
    let raw = ""; process.stdin.on("data", (d) => (raw += d)).on("end", () => {
      try {
        const h = JSON.parse(raw).healthCheck;
        const v = [h.healthCheckBudgetSeconds, h.healthCheckIntervalSeconds, h.healthCheckTimeoutSeconds];
        if (v.every((n) => Number.isInteger(n) && n > 0)) console.log(v.join(" "));
      } catch {}
    });' || true)"
fi
read -r plan_budget plan_interval plan_timeout <<<"${from_plan:-30 5 5}"
budget="${HEALTH_BUDGET:-$plan_budget}"
interval="${HEALTH_INTERVAL:-$plan_interval}"
timeout="${HEALTH_TIMEOUT:-$plan_timeout}"
max_rounds="${HEALTH_ATTEMPTS:-0}"
source_note="$([ -n "$from_plan" ] && echo "the stack's recovery plan" || echo "defaults")"
[ -n "${HEALTH_BUDGET:-}" ] && source_note="HEALTH_BUDGET"
echo "health-check: budget ${budget}s, every ${interval}s, ${timeout}s per request (${source_note})"

urls=()
for base in "${bases[@]}"; do
  for path in /health /ready; do urls+=("${base%/}$path"); done
done
declare -A code_of=()
pending=("${urls[@]}")
start="$(now_ms)"
deadline=$((start + budget * 1000))
round=0
while [ ${#pending[@]} -gt 0 ]; do
  round=$((round + 1))
  still=()
  for url in "${pending[@]}"; do
    left_ms=$((deadline - $(now_ms)))
    if [ "$left_ms" -le 0 ]; then
      still+=("$url")
      continue
    fi
    # curl's --max-time takes fractions: never past the deadline.
    max_time="$timeout"
    if [ $((timeout * 1000)) -gt "$left_ms" ]; then
      max_time="$((left_ms / 1000)).$(printf '%03d' $((left_ms % 1000)))"
    fi
    body_file="$(mktemp)"
    code="$(curl --silent --show-error --location --max-time "$max_time" \
      --output "$body_file" --write-out '%{http_code}' "$url" 2>/dev/null || true)"
    body="$(head -c 200 "$body_file")"
    rm -f "$body_file"
    [ "$code" = "000" ] && code="" # curl's code when nothing answered
    code_of["$url"]="$code"
    if [ "$code" = "200" ]; then
      echo "health-check: ok   $url -> 200 $body"
    else
      still+=("$url")
    fi
  done
  pending=("${still[@]+"${still[@]}"}")
  [ ${#pending[@]} -eq 0 ] && break
  left_ms=$((deadline - $(now_ms)))
  if [ "$left_ms" -le 0 ] || { [ "$max_rounds" -gt 0 ] && [ "$round" -ge "$max_rounds" ]; }; then
    break
  fi
  for url in "${pending[@]}"; do
    echo "health-check: wait $url -> ${code_of[$url]:-no answer} (attempt $round, next in ${interval}s)"
  done
  pause_ms=$((interval * 1000 < left_ms ? interval * 1000 : left_ms))
  sleep "$((pause_ms / 1000)).$(printf '%03d' $((pause_ms % 1000)))"
done

elapsed_ms=$(($(now_ms) - start))
elapsed="$((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000)) | cut -c1)"
if [ ${#pending[@]} -gt 0 ]; then
  for url in "${pending[@]}"; do
    echo "health-check: FAIL $url -> ${code_of[$url]:-no answer} after $round attempts (${elapsed}s of the ${budget}s budget)" >&2
  done
  exit 1
fi
echo "health-check: all ${#urls[@]} endpoints answered 200 in ${elapsed}s (budget ${budget}s)"
