#!/usr/bin/env bash
# Rolls a stack back to earlier images. The program takes its images from the stack config keys
# monkeytown:webImage and monkeytown:apiImage (a tag or a digest); every successful `pulumi up` records
# the config it ran with in the stack's history, so the history is where earlier images are read from.
#
#   scripts/rollback.sh deployed <stack>   the images of the last successful update (what runs now)
#   scripts/rollback.sh previous <stack>   the images of the newest successful update before those
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
  sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2
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

# Reads `pulumi stack history --json` on stdin; $1 is `deployed` or `previous`.
images_from_history() {
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
        .sort((a, b) => (b.version ?? 0) - (a.version ?? 0));
      const images = (u) => ({
        webImage: u.config?.["monkeytown:webImage"]?.value,
        apiImage: u.config?.["monkeytown:apiImage"]?.value,
      });
      const withImages = succeeded.map(images).filter((i) => i.webImage && i.apiImage);
      const [deployed] = withImages;
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
    pulumi stack history --stack "$2" --json --page-size 100 | images_from_history "$cmd"
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
