#!/usr/bin/env bash
# Rolls a stack back to earlier images. The program takes its images from the stack config keys
# monkeytown:webImage and monkeytown:apiImage (a tag or a digest; when unset, the Registry builds them)
# and exports the references it deployed as the stack output `images` ({web, api}); every successful
# `pulumi up` also records the config it ran with in the stack's history.
#
#   scripts/rollback.sh deployed <stack>   what runs now: the `images` output, else the config of the
#                                           last successful update
#   scripts/rollback.sh previous <stack>   the images configured in the newest successful update whose
#                                           images differ from what runs now
#   scripts/rollback.sh to <stack> <webImage> <apiImage>
#                                           set both keys, `pulumi up` with the policy pack and the
#                                           stack's policy config, then run scripts/health-check.sh
#
# `deployed` and `previous` print `webImage=<ref>` and `apiImage=<ref>` lines (nothing when the history
# holds no such update), a format that can be appended to $GITHUB_OUTPUT as it is.
# `to` changes Pulumi.<stack>.yaml in the work tree: commit that change, or revert the commit that
# brought the bad images, so that git says what runs.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '7,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

ensure_pulumi() {
  if ! command -v pulumi >/dev/null 2>&1 && [ -x scripts/pulumi-toolchain.sh ]; then
    eval "$(scripts/pulumi-toolchain.sh)"
  fi
  command -v pulumi >/dev/null 2>&1 || {
    echo "rollback: pulumi is not on PATH: run 'npm run toolchain' first" >&2
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
    ;;
  to)
    [ $# -eq 4 ] || usage
    stack="$2" web="$3" api="$4"
    ensure_pulumi
    echo "rollback: $stack -> webImage=$web apiImage=$api"
    pulumi config set --stack "$stack" monkeytown:webImage "$web"
    pulumi config set --stack "$stack" monkeytown:apiImage "$api"
    pulumi up --stack "$stack" --yes --non-interactive \
      --policy-pack policy --policy-pack-config "policy/config/$stack.json" \
      --message "rollback to webImage=$web apiImage=$api"
    scripts/health-check.sh "$stack"
    ;;
  *) usage ;;
esac
