#!/usr/bin/env bash
# Installs the npm dependencies (root and policy pack) when they are missing or older than the lock
# files, so `npm test` and `npm run up:dev` work on a fresh clone. Instant when up to date.
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
