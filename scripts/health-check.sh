#!/usr/bin/env bash
# Checks a deployed stack: GET /health and /ready on the stack's webUrl and apiUrl outputs must answer
# 200 within the retry window. deploy.yml runs it after every `pulumi up`; a failure there triggers
# the automatic rollback (scripts/rollback.sh).
#
#   scripts/health-check.sh <stack>           read webUrl and apiUrl with `pulumi stack output`
#   scripts/health-check.sh --url URL ...     check the given base URLs instead (no Pulumi needed)
#
# Tunables (environment): HEALTH_ATTEMPTS (default 30), HEALTH_INTERVAL seconds between attempts
# (default 10), HEALTH_TIMEOUT seconds per request (default 10). Exit 0 when every endpoint answered
# 200, 1 when one did not, 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."

attempts="${HEALTH_ATTEMPTS:-30}"
interval="${HEALTH_INTERVAL:-10}"
timeout="${HEALTH_TIMEOUT:-10}"

usage() {
  sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

bases=()
if [ "${1:-}" = "--url" ]; then
  while [ $# -gt 0 ]; do
    if [ "$1" != "--url" ] || [ $# -lt 2 ]; then usage; fi
    bases+=("$2")
    shift 2
  done
elif [ $# -eq 1 ] && [ -n "$1" ]; then
  stack="$1"
  if ! command -v pulumi >/dev/null 2>&1 && [ -x scripts/pulumi-toolchain.sh ]; then
    eval "$(scripts/pulumi-toolchain.sh)"
  fi
  for output in webUrl apiUrl; do
    url="$(pulumi stack output "$output" --stack "$stack" 2>/dev/null || true)"
    if [ -z "$url" ]; then
      echo "health-check: stack '$stack' has no '$output' output: is it deployed, and is PULUMI_BACKEND_URL pointing at its backend?" >&2
      exit 1
    fi
    bases+=("$url")
  done
else
  usage
fi

failed=0
for base in "${bases[@]}"; do
  for path in /health /ready; do
    url="${base%/}$path"
    code=""
    for ((i = 1; i <= attempts; i++)); do
      body_file="$(mktemp)"
      code="$(curl --silent --show-error --location --max-time "$timeout" \
        --output "$body_file" --write-out '%{http_code}' "$url" 2>/dev/null || true)"
      body="$(head -c 200 "$body_file")"
      [ "$code" = "000" ] && code="" # curl's code when nothing answered
      rm -f "$body_file"
      if [ "$code" = "200" ]; then
        echo "health-check: ok   $url -> 200 $body"
        break
      fi
      if [ "$i" -lt "$attempts" ]; then
        echo "health-check: wait $url -> ${code:-no answer} (attempt $i/$attempts, next in ${interval}s)"
        sleep "$interval"
      fi
    done
    if [ "$code" != "200" ]; then
      echo "health-check: FAIL $url -> ${code:-no answer} after $attempts attempts" >&2
      failed=1
    fi
  done
done
exit "$failed"
