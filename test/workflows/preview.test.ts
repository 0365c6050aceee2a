/**
 * The PR gate (preview.yml): the preview keeps the engine's events, and its summary and comment steps
 * run here for real on a recorded preview (test/fixtures/engine-output/): one comment per stack,
 * edited in place; the policy check waits for every stack.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as prComment from "../../.github/scripts/pr-comment.cjs";
import { ROOT, type RunResult, job } from "../delivery";

describe("the preview comment is one per stack, edited in place", () => {
  const preview = job("preview.yml", "preview");
  const steps = preview.steps ?? [];
  const engine = steps.find((s) => s.id === "preview")!;
  const [summary, comment, fail] = steps.slice(steps.indexOf(engine) + 1);
  const RAN =
    "${{ !cancelled() && (steps.preview.outcome == 'success' || steps.preview.outcome == 'failure') }}";

  it("the preview keeps the engine's events and its output in files, and does not stop the job", () => {
    expect(engine["continue-on-error"]).toBe(true);
    expect(engine.env?.PULUMI_DEBUG_COMMANDS).toBe("true"); // the CLI hides --event-log without it
    expect(engine.run).toContain("set -o pipefail");
    expect(engine.run).toContain('--event-log "$RUNNER_TEMP/preview-events.jsonl"');
    expect(engine.run).toContain("--color never");
    expect(engine.run).toMatch(/2>&1 \| tee "\$RUNNER_TEMP\/preview\.log"\s*$/);
  });

  it("every preview, passed or failed, writes the job summary and the comment; a failed one then fails the check", () => {
    expect(steps.slice(steps.indexOf(engine) + 1)).toHaveLength(3);
    for (const step of [summary, comment]) {
      expect(step.if, step.name).toBe(RAN);
      expect(step.env?.OUTCOME, step.name).toBe("${{ steps.preview.outcome }}");
    }
    expect(summary.run).toContain('>> "$GITHUB_STEP_SUMMARY"');
    expect(comment.uses).toMatch(/^actions\/github-script@/);
    expect(comment.with?.script).toContain("comment.reportPreview(");
    expect(fail.if).toBe("steps.preview.outcome == 'failure'");
    expect(fail.run).toMatch(/exit 1\s*$/);
    expect(preview.env?.HEAD_SHA).toBe("${{ github.event.pull_request.head.sha }}");
  });

  /** A RUNNER_TEMP holding the recorded preview of the insecure fixture, as the preview step leaves it. */
  function runnerTemp(recordingName = "insecure"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-temp-"));
    const recorded = path.join(ROOT, "test", "fixtures", "engine-output", recordingName);
    fs.copyFileSync(`${recorded}.events.jsonl`, path.join(dir, "preview-events.jsonl"));
    fs.copyFileSync(`${recorded}.output.txt`, path.join(dir, "preview.log"));
    return dir;
  }

  it("the summary step's script appends the findings table to the job summary", async () => {
    const temp = runnerTemp();
    try {
      const file = path.join(temp, "summary.md");
      fs.writeFileSync(file, "earlier step\n");
      const r = await new Promise<RunResult>((resolve) =>
        execFile(
          "bash",
          ["-e", "-c", summary.run!],
          {
            cwd: ROOT,
            env: {
              ...process.env,
              RUNNER_TEMP: temp,
              GITHUB_STEP_SUMMARY: file,
              STACK: "staging",
              OUTCOME: "failure",
              HEAD_SHA: "0123456789abcdef",
            },
          },
          (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
        ),
      );
      expect(r.code, r.stderr).toBe(0);
      const written = fs.readFileSync(file, "utf8");
      expect(
        written.startsWith(
          "earlier step\n:x: **The preview of `staging` failed** at 0123456789abcdef: 9 mandatory policy violations.",
        ),
      ).toBe(true);
      expect(written).toContain("**Policy findings:** 9 mandatory, 16 advisory");
      expect(written).toContain(
        "| **mandatory**<br>critical | `non-root` | `web`<br>`kubernetes:apps/v1:Deployment` |",
      );
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
  });

  it("the comment step's script creates the stack's comment once, then edits it in place", async () => {
    const temp = runnerTemp();
    const calls: string[] = [];
    const stored: { id: number; body: string }[] = [
      { id: 5, body: "a reviewer's comment" },
      {
        id: 6,
        body: `${prComment.heading("monkeytown", "production")}\n\n<details>\n${prComment.SUMMARY}\n</details>`,
      },
    ];
    const github = {
      paginate: async () => stored,
      rest: {
        issues: {
          listComments: () => undefined,
          createComment: async (a: { issue_number: number; body: string }) => {
            calls.push(`create on #${a.issue_number}`);
            stored.push({ id: 7, body: a.body });
            return { data: { id: 7 } };
          },
          updateComment: async (a: { comment_id: number; body: string }) => {
            calls.push(`update ${a.comment_id}`);
            stored.find((c) => c.id === a.comment_id)!.body = a.body;
          },
        },
      },
    };
    const context = {
      repo: { owner: "monkeytown", repo: "monkeytown" },
      issue: { number: 42 },
      serverUrl: "https://github.com",
      runId: 99,
      sha: "merge-sha",
      payload: { pull_request: { head: { sha: "0123456789abcdef" } } },
    };
    const saved = { ...process.env };
    Object.assign(process.env, {
      GITHUB_WORKSPACE: ROOT,
      RUNNER_TEMP: temp,
      STACK: "staging",
      OUTCOME: "failure",
    });
    try {
      const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
        ...args: string[]
      ) => (...a: unknown[]) => Promise<void>;
      const script = new AsyncFunction(
        "require",
        "github",
        "context",
        String(comment.with?.script),
      );
      const req = createRequire(__filename);
      await script(req, github, context);
      await script(req, github, context);
    } finally {
      process.env = saved;
      fs.rmSync(temp, { recursive: true, force: true });
    }
    expect(calls).toEqual(["create on #42", "update 7"]);
    const body = stored.find((c) => c.id === 7)!.body;
    expect(
      body.startsWith(
        "#### :tropical_drink: `preview` on monkeytown/staging\n\n:x: **The preview of `staging` failed** at 0123456789abcdef: 9 mandatory policy violations.",
      ),
    ).toBe(true);
    expect(body).toContain("| **mandatory**<br>critical | `non-root` |");
    expect(body).toContain(
      "The preview's output (full log: https://github.com/monkeytown/monkeytown/actions/runs/99):",
    );
    expect(body.length).toBeLessThanOrEqual(65536);
    expect(prComment.findStackComment(stored, "monkeytown", "staging")?.id).toBe(7);
    // production's earlier comment (written by pulumi/actions) is its own, untouched
    expect(stored.find((c) => c.id === 6)!.body).not.toContain("staging");
  });

  it("the policy check waits for every stack and fails unless all passed", () => {
    const policy = job("preview.yml", "policy");
    expect(policy.needs).toBe("preview");
    expect(policy.if).toBe("${{ !cancelled() }}");
    const gate = policy.steps!.at(-1)!;
    expect(gate.env?.PREVIEWS).toBe("${{ needs.preview.result }}");
    expect(gate.run).toContain('if [ "$PREVIEWS" != "success" ]');
    expect(policy.steps!.some((s) => s.run === "npm run preview:all")).toBe(true);
  });
});
