#!/usr/bin/env bash
# Fails with one clear message when any of the named environment variables is empty. The workflows map
# GitHub secrets and variables into the environment and call this first, so that a missing secret (for
# example on a pull request from a fork, which gets no secrets) says so instead of failing later.
#   .github/scripts/require-env.sh NAME...
set -euo pipefail
missing=()
for name in "$@"; do
  [ -n "${!name:-}" ] || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "::error::Missing ${missing[*]}: set them as repository or environment secrets (docs/runbook.md, 'Secrets and variables'). Pull requests from forks get no secrets; push the branch to this repository instead."
  exit 1
fi
echo "All of $* are set."
