#!/usr/bin/env bash
# Rolls a stack back to earlier images. The program takes its images from the stack config keys
# monkeytown:webImage and monkeytown:apiImage (a tag or a digest; when unset, the Registry builds them)
# and exports the references that serve as the stack output `images` ({web, api}); every successful
# `pulumi up` also records the config it ran with in the stack's history. A blue-green stack
# (monkeytown:api.strategy blue-green, scripts/blue-green.sh) keeps the previous API release running
# on its idle colour: rolling the API back there is switching the traffic, with nothing to start.
#
#   scripts/rollback.sh deployed <stack>   what runs now: the `images` output, else the config of the
#                                           last successful update; blue-green adds its colour lines
#   scripts/rollback.sh previous <stack>   the images configured in the newest successful update whose
#                                           images differ from what runs now
#   scripts/rollback.sh to <stack> <webImage> <apiImage>
#                                           set webImage and apiImage, `pulumi up` with the policy pack
#                                           and the stack's policy config, then scripts/health-check.sh;
#                                           blue-green: apiImage is made the serving colour's image (a
#                                           switch when the idle colour runs it, else staged on the idle
#                                           colour, smoke-tested, then switched to)
#   scripts/rollback.sh switch-back <stack>
#                                           blue-green, instant: send the traffic back to the idle colour
#                                           (the release that served before), then the health check
#   scripts/rollback.sh colors <stack> <webImage> <activeColor> <blueImage> <greenImage>
#                                           blue-green: put back exactly that (what `deployed` printed
#                                           before a deploy), one `pulumi up`, then the health check
#
# `deployed` and `previous` print `webImage=<ref>` and `apiImage=<ref>` lines (nothing when the history
# holds no such update), a format that can be appended to $GITHUB_OUTPUT as it is.
# `to`, `switch-back` and `colors` change the project's Pulumi.<stack>.yaml (the work tree's unless
# MONKEYTOWN_PROJECT_DIR says otherwise): commit that change, or revert the commit that brought the bad
# images, so that git says what runs (blue-green's colour keys are the exception: the stack outputs
# record them, and every deploy pins them from there).
#
# Environment (the defaults are the repository's own stacks; scripts/blue-green.sh and
# scripts/health-check.sh, which this script runs, read the same):
#   MONKEYTOWN_PROJECT_DIR    the directory of the stack's Pulumi project, holding its Pulumi.yaml and
#                             Pulumi.<stack>.yaml: pulumi runs there and that stack file is the one the
#                             commands change (default: the repository root). For a stack kept outside
#                             the repository, such as the local cluster's workspace (cluster/workspace.ts);
#                             the policy pack and the sibling scripts still come from this repository.
#   MONKEYTOWN_POLICY_CONFIG  the policy pack config file every `pulumi up` here passes (default: the
#                             repository's policy/config/<stack>.json)
#   HEALTH_URLS, HEALTH_*     the health check's addresses and budget (scripts/health-check.sh)
set -euo pipefail

say() { echo "rollback: $*" >&2; }

# The repository (sibling scripts, policy pack, policy configs) and the Pulumi project the commands
# run in, both absolute: the scripts this one calls inherit them.
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib/project.sh
. "$ROOT/scripts/lib/project.sh"
enter_project

usage() {
  sed -n '9,23p' "$ROOT/scripts/rollback.sh" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

POLICY_CONFIG=""
up() {
  local stack="$1" message="$2"
  pulumi up --stack "$stack" --yes --non-interactive \
    --policy-pack "$ROOT/policy" --policy-pack-config "$POLICY_CONFIG" \
    --message "$message"
}

# Blue-green colour state of a stack (scripts/blue-green.sh state) as shell variables bg_<key>.
read_colors() {
  local lines
  lines="$("$ROOT/scripts/blue-green.sh" state "$1")"
  bg_activeColor="$(sed -n 's/^activeColor=//p' <<<"$lines")"
  bg_idleColor="$(sed -n 's/^idleColor=//p' <<<"$lines")"
  bg_activeImage="$(sed -n 's/^activeImage=//p' <<<"$lines")"
  bg_idleImage="$(sed -n 's/^idleImage=//p' <<<"$lines")"
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

# Reads `pulumi stack history --json` on stdin and the `images` output (JSON, or empty) from
# $IMAGES_OUTPUT; $1 is `deployed` or `previous`.
choose_images() {
  # The script is JavaScript: its ${...} are template literals, not shell expansions.
  # shellcheck disable=SC2016
  node -e '
    const mode = process.argv[1];
    let raw = "";
    process.stdin.on("data", (chunk) => (raw += chunk));
    process.stdin.on("end", () => {
      const history = JSON.parse(raw.trim() || "[]");
      const succeeded = history
        .filter((u) => u.kind === "update" && u.result === "succeeded")
        // Newest first. Self-managed backends report version 0 for every update: startTime decides.
        .sort(
          (a, b) =>
            (b.version ?? 0) - (a.version ?? 0) ||
            Date.parse(b.startTime ?? 0) - Date.parse(a.startTime ?? 0),
        );
      const images = (u) => ({
        webImage: u.config?.["monkeytown:webImage"]?.value,
        apiImage: u.config?.["monkeytown:apiImage"]?.value,
      });
      const withImages = succeeded.map(images).filter((i) => i.webImage && i.apiImage);
      const out = JSON.parse(process.env.IMAGES_OUTPUT || "null");
      const running =
        out && typeof out.web === "string" && typeof out.api === "string"
          ? { webImage: out.web, apiImage: out.api }
          : undefined;
      const deployed = running ?? withImages[0];
      const chosen =
        mode === "deployed" || !deployed
          ? deployed
          : withImages.find((i) => i.webImage !== deployed.webImage || i.apiImage !== deployed.apiImage);
      if (chosen) console.log(`webImage=${chosen.webImage}\napiImage=${chosen.apiImage}`);
    });
  ' "$1"
}

cmd="${1:-}"
case "$cmd" in
  deployed | previous)
    [ $# -eq 2 ] || usage
    ensure_pulumi
    IMAGES_OUTPUT="$(pulumi stack output images --json --stack "$2" 2>/dev/null || true)"
    export IMAGES_OUTPUT
    pulumi stack history --stack "$2" --json --page-size 100 | choose_images "$cmd"
    if [ "$cmd" = deployed ]; then "$ROOT/scripts/blue-green.sh" state "$2"; fi
    ;;
  to)
    [ $# -eq 4 ] || usage
    stack="$2" web="$3" api="$4"
    ensure_pulumi
    POLICY_CONFIG="$(policy_config "$stack")"
    echo "rollback: $stack -> webImage=$web apiImage=$api"
    read_colors "$stack"
    pulumi config set --stack "$stack" monkeytown:webImage "$web"
    if [ -z "$bg_activeColor" ]; then
      pulumi config set --stack "$stack" monkeytown:apiImage "$api"
      up "$stack" "rollback to webImage=$web apiImage=$api"
    else
      "$ROOT/scripts/blue-green.sh" pin "$stack"
      if [ "$api" = "$bg_activeImage" ]; then
        echo "rollback: $bg_activeColor serves $api already"
        up "$stack" "rollback to webImage=$web ($bg_activeColor serves $api)"
      elif [ "$api" = "$bg_idleImage" ]; then
        echo "rollback: $bg_idleColor runs $api: switching the traffic to it"
        pulumi config set --stack "$stack" --path monkeytown:api.activeColor "$bg_idleColor"
        up "$stack" "rollback to webImage=$web, api traffic to $bg_idleColor ($api)"
      else
        echo "rollback: $api runs on neither colour: staging it on $bg_idleColor, smoke test, switch"
        pulumi config set --stack "$stack" --path "monkeytown:api.${bg_idleColor}Image" "$api"
        up "$stack" "rollback to webImage=$web, $api on $bg_idleColor"
        "$ROOT/scripts/blue-green.sh" smoke "$stack"
        "$ROOT/scripts/blue-green.sh" switch "$stack"
      fi
    fi
    "$ROOT/scripts/health-check.sh" "$stack"
    ;;
  switch-back)
    [ $# -eq 2 ] || usage
    ensure_pulumi
    "$ROOT/scripts/blue-green.sh" switch "$2"
    "$ROOT/scripts/health-check.sh" "$2"
    ;;
  colors)
    [ $# -eq 6 ] || usage
    stack="$2" web="$3" active="$4" blue="$5" green="$6"
    case "$active" in blue | green) ;; *) usage ;; esac
    ensure_pulumi
    POLICY_CONFIG="$(policy_config "$stack")"
    echo "rollback: $stack -> webImage=$web, $active serves, blue=$blue green=$green"
    pulumi config set --stack "$stack" monkeytown:webImage "$web"
    pulumi config set --stack "$stack" --path monkeytown:api.activeColor "$active"
    pulumi config set --stack "$stack" --path monkeytown:api.blueImage "$blue"
    pulumi config set --stack "$stack" --path monkeytown:api.greenImage "$green"
    up "$stack" "rollback to webImage=$web, api $active (blue=$blue green=$green)"
    "$ROOT/scripts/health-check.sh" "$stack"
    ;;
  *) usage ;;
esac
