/**
 * scripts/preview-all.sh against a fake `pulumi` that replays recorded previews
 * (test/fixtures/engine-output/): the findings table on stdout and in the job summary.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runScript, scratchDir } from "../test/delivery";

describe("scripts/preview-all.sh prints the findings table (against a fake pulumi)", () => {
  /** A `pulumi` whose preview replays a recording: its event log to --event-log, its output, its exit. */
  function replayingPulumi(recordingName: string): { dir: string; calls: string } {
    const dir = scratchDir("fake-pulumi-preview-");
    const recorded = path.join(ROOT, "test", "fixtures", "engine-output", recordingName);
    const failed = fs.readFileSync(`${recorded}.outcome`, "utf8").trim() !== "success";
    const calls = path.join(dir, "calls.log");
    fs.writeFileSync(
      path.join(dir, "pulumi"),
      [
        "#!/bin/sh",
        `echo "PULUMI_DEBUG_COMMANDS=$PULUMI_DEBUG_COMMANDS $*" >> "${calls}"`,
        'case "$1" in',
        "  version) echo v3.259.0 ;;",
        "  preview)",
        "    while [ $# -gt 0 ]; do",
        `      if [ "$1" = --event-log ]; then cp "${recorded}.events.jsonl" "$2"; fi`,
        "      shift",
        "    done",
        `    cat "${recorded}.output.txt"`,
        `    exit ${failed ? 1 : 0} ;;`,
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return { dir, calls };
  }

  it("a failed stack: the summary names its mandatory violations, the table goes to stdout and the job summary", async () => {
    const fake = replayingPulumi("insecure");
    const summary = path.join(fake.dir, "summary.md");
    try {
      const r = await runScript("scripts/preview-all.sh", [], {
        PATH: `${fake.dir}:${process.env.PATH}`,
        PULUMI_TOOLCHAIN_CACHE: path.join(fake.dir, "no-toolchain"), // not ready: the workflow's CLI
        GITHUB_ACTIONS: "true",
        GITHUB_STEP_SUMMARY: summary,
        PREVIEW_STACKS: "dev",
        PULUMI_BACKEND_URL: `file://${path.join(fake.dir, "state")}`,
      });
      expect(r.code, r.stderr).toBe(1);
      expect(fs.readFileSync(fake.calls, "utf8")).toMatch(
        /^PULUMI_DEBUG_COMMANDS=true preview --stack dev --non-interactive --policy-pack policy --policy-pack-config policy\/config\/dev\.json --event-log \S+\/dev\.events\.jsonl$/m,
      );
      const table = r.stdout.slice(r.stdout.indexOf("### dev\n"));
      expect(table).toContain(
        "### dev\n\n:x: **The preview of `dev` failed**: 9 mandatory policy violations.",
      );
      expect(table).toContain("**Policy findings:** 9 mandatory, 16 advisory");
      expect(table).toContain(
        "| **mandatory**<br>critical | `non-root` | `web`<br>`kubernetes:apps/v1:Deployment` |",
      );
      expect(r.stdout).toContain("preview-all:   dev: FAILED, 9 mandatory policy violation(s)");
      const written = fs.readFileSync(summary, "utf8");
      expect(written.startsWith("### dev\n\n:x: **The preview of `dev` failed**")).toBe(true);
      expect(written).toContain("**Policy findings:** 9 mandatory, 16 advisory");
    } finally {
      fs.rmSync(fake.dir, { recursive: true, force: true });
    }
  });

  it("a config error: the error's own text, and the stack counts as a preview error", async () => {
    const fake = replayingPulumi("config-error");
    try {
      const r = await runScript("scripts/preview-all.sh", [], {
        PATH: `${fake.dir}:${process.env.PATH}`,
        PULUMI_TOOLCHAIN_CACHE: path.join(fake.dir, "no-toolchain"),
        GITHUB_ACTIONS: "true",
        GITHUB_STEP_SUMMARY: "",
        PREVIEW_STACKS: "dev",
        PULUMI_BACKEND_URL: `file://${path.join(fake.dir, "state")}`,
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        '```text\nInvalid configuration in Pulumi.dev.yaml (stack "dev"): 2 problems; nothing was created.\n',
      );
      expect(r.stdout).toContain("preview-all:   dev: FAILED (preview error, see above)");
    } finally {
      fs.rmSync(fake.dir, { recursive: true, force: true });
    }
  });
});
