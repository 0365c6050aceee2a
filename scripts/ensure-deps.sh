#!/usr/bin/env bash
# Installs the npm dependencies (root and policy pack) when they are missing or older than the lock
# files, and precompiles the policy pack (policy/bin, see policy/main.js) when a source is newer
# than the build, so `npm test` and `npm run up:dev` work on a fresh clone. Instant when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in . policy; do
  lock="$dir/package-lock.json"
  stamp="$dir/node_modules/.package-lock.json"
  if [[ ! -f "$stamp" || "$lock" -nt "$stamp" ]]; then
    echo "ensure-deps: npm ci in $dir" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
done

# The engine type-checks a TypeScript pack at every cold start; a build skips that. policy/main.js
# falls back to the sources whenever the build is stale, so this is a speed-up, never a risk.
if [[ ! -f policy/bin/index.js ]] || [[ -n "$(find policy/index.ts policy/policies policy/lib -name '*.ts' -newer policy/bin/index.js -print -quit)" ]]; then
  echo "ensure-deps: building the policy pack (policy/bin)" >&2
  (cd policy && npx --no-install tsc -p tsconfig.build.json)
fi
