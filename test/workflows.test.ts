/**
 * The delivery workflows (`.github/workflows/`), read as data: which events start them, which stacks
 * they cover, that the required checks of branch protection (components/repository/checks.ts) are the
 * names of pull-request jobs, the policy pack and per-stack policy config on every preview and update,
 * comments edited in place, concurrency, environments, least-privilege permissions, actions pinned by
 * commit, no secret echoed, image retention. The helper scripts they call run here for real (health
 * check against a local server, rollback against a fake `pulumi`), and actionlint checks the files
 * when it is installed (`scripts/ci/install-actionlint.sh`; CI installs it).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REQUIRED_CHECKS, REQUIRED_CHECK_CONTEXTS } from "../components/repository/checks";
import * as driftIssue from "../.github/scripts/drift-issue.cjs";
import * as report from "../.github/scripts/policy-report.cjs";
import * as prComment from "../.github/scripts/pr-comment.cjs";
import * as pruneImages from "../.github/scripts/prune-images.cjs";
import type { RecoveryPlan } from "../config/recovery";

const ROOT = path.resolve(__dirname, "..");
const WORKFLOWS_DIR = path.join(ROOT, ".github", "workflows");
/** The stacks CI previews, deploys and checks for drift (dev is the local, cluster-less stack). */
const DEPLOYED_STACKS = ["staging", "production"];
const PULUMI_ACTION = "pulumi/actions";

interface Step {
  readonly name?: string;
  readonly id?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly "continue-on-error"?: boolean;
}
type Permissions = Record<string, string> | string;
type Concurrency =
  | string
  | { readonly group: string; readonly "cancel-in-progress"?: boolean | string };
interface Job {
  readonly name?: string;
  readonly needs?: string | string[];
  readonly if?: string;
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
  readonly secrets?: unknown;
  readonly strategy?: { readonly matrix?: Record<string, unknown> };
  readonly concurrency?: Concurrency;
  readonly permissions?: Permissions;
  readonly environment?: string | { readonly name: string; readonly url?: string };
  readonly env?: Record<string, string>;
  readonly steps?: Step[];
}
interface Workflow {
  readonly name: string;
  readonly on: Record<string, unknown> | string | string[];
  readonly permissions?: Permissions;
  readonly concurrency?: Concurrency;
  readonly jobs: Record<string, Job>;
}
interface LoadedWorkflow {
  readonly file: string;
  readonly text: string;
  readonly wf: Workflow;
}

function loadWorkflows(): Record<string, LoadedWorkflow> {
  const out: Record<string, LoadedWorkflow> = {};
  for (const file of fs.readdirSync(WORKFLOWS_DIR).filter((f) => /\.ya?ml$/.test(f))) {
    const text = fs.readFileSync(path.join(WORKFLOWS_DIR, file), "utf8");
    out[file] = { file, text, wf: parse(text) as Workflow };
  }
  return out;
}

const WF = loadWorkflows();
function wf(file: string): Workflow {
  const loaded = WF[file];
  if (!loaded) throw new Error(`.github/workflows/${file} is missing`);
  return loaded.wf;
}
function job(file: string, id: string): Job {
  const j = wf(file).jobs[id];
  if (!j) throw new Error(`${file} has no job '${id}'`);
  return j;
}

function triggers(w: Workflow): string[] {
  if (typeof w.on === "string") return [w.on];
  return Array.isArray(w.on) ? w.on : Object.keys(w.on);
}

/** Every combination of the array-valued keys of a matrix. */
function matrixCombinations(matrix: Record<string, unknown> | undefined): Record<string, string>[] {
  let combos: Record<string, string>[] = [{}];
  for (const [key, values] of Object.entries(matrix ?? {})) {
    if (!Array.isArray(values)) continue;
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: String(v) })));
  }
  return combos;
}

/** The check names a job reports: its `name:` (or id) with `${{ matrix.x }}` expanded. */
function checkNames(id: string, j: Job): string[] {
  const template = j.name ?? id;
  return matrixCombinations(j.strategy?.matrix).map((combo) =>
    template.replace(
      /\$\{\{\s*matrix\.([\w-]+)\s*\}\}/g,
      (whole, key: string) => combo[key] ?? whole,
    ),
  );
}

/** Which jobs produce each check name on pull requests (reusable-workflow calls report nested names). */
function pullRequestChecks(
  workflows: readonly { file: string; wf: Workflow }[],
): Map<string, string[]> {
  const producers = new Map<string, string[]>();
  for (const { file, wf: w } of workflows) {
    if (!triggers(w).includes("pull_request")) continue;
    for (const [id, j] of Object.entries(w.jobs)) {
      if (j.uses) continue;
      for (const name of checkNames(id, j)) {
        producers.set(name, [...(producers.get(name) ?? []), `${file}:${id}`]);
      }
    }
  }
  return producers;
}

/** Required contexts that no job produces, or that more than one job produces. */
function checkMismatches(
  contexts: readonly string[],
  workflows: readonly { file: string; wf: Workflow }[],
): string[] {
  const producers = pullRequestChecks(workflows);
  return contexts.flatMap((c) => {
    const jobs = producers.get(c) ?? [];
    if (jobs.length === 0) return [`no pull_request job is named "${c}"`];
    if (jobs.length > 1) return [`"${c}" is produced by ${jobs.join(", ")}`];
    return [];
  });
}

function allSteps(): { file: string; jobId: string; job: Job; step: Step }[] {
  return Object.values(WF).flatMap(({ file, wf: w }) =>
    Object.entries(w.jobs).flatMap(([jobId, j]) =>
      (j.steps ?? []).map((step) => ({ file, jobId, job: j, step })),
    ),
  );
}

function pulumiSteps(command?: string) {
  return allSteps().filter(
    ({ step }) =>
      step.uses?.startsWith(`${PULUMI_ACTION}@`) &&
      (command === undefined || step.with?.command === command),
  );
}

function concurrencyGroup(c: Concurrency | undefined): string | undefined {
  return typeof c === "string" ? c : c?.group;
}

describe("required checks agree with branch protection (components/repository/checks.ts)", () => {
  const workflows = Object.values(WF);

  it("every required context is the name of exactly one pull_request job", () => {
    expect(checkMismatches(REQUIRED_CHECK_CONTEXTS, workflows)).toEqual([]);
  });

  it("each check comes from the workflow that is meant to produce it", () => {
    const producers = pullRequestChecks(workflows);
    expect(producers.get(REQUIRED_CHECKS.ci)).toEqual(["ci.yml:ci"]);
    expect(producers.get(REQUIRED_CHECKS.previewStaging)).toEqual(["preview.yml:preview"]);
    expect(producers.get(REQUIRED_CHECKS.previewProduction)).toEqual(["preview.yml:preview"]);
    expect(producers.get(REQUIRED_CHECKS.policy)).toEqual(["preview.yml:policy"]);
  });

  it("the agreement check fails when a workflow drops or duplicates a check", () => {
    const preview = structuredClone(wf("preview.yml"));
    delete (preview.jobs as Record<string, Job>).policy;
    (preview.jobs.preview.strategy!.matrix as Record<string, unknown>).stack = ["staging"];
    expect(
      checkMismatches(REQUIRED_CHECK_CONTEXTS, [
        { file: "ci.yml", wf: wf("ci.yml") },
        { file: "preview.yml", wf: preview },
      ]),
    ).toEqual([
      'no pull_request job is named "preview (production)"',
      'no pull_request job is named "policy"',
    ]);
    const twice = { file: "copy.yml", wf: wf("ci.yml") };
    expect(
      checkMismatches([REQUIRED_CHECKS.ci], [{ file: "ci.yml", wf: wf("ci.yml") }, twice]),
    ).toEqual(['"ci" is produced by ci.yml:ci, copy.yml:ci']);
  });

  it("a workflow that does not run on pull requests cannot satisfy a check", () => {
    const pushOnly = { ...wf("ci.yml"), on: { push: null } };
    expect(checkMismatches([REQUIRED_CHECKS.ci], [{ file: "ci.yml", wf: pushOnly }])).toEqual([
      'no pull_request job is named "ci"',
    ]);
  });
});

describe("triggers", () => {
  it("ci runs on every push and every pull request", () => {
    const on = wf("ci.yml").on as Record<string, unknown>;
    expect(Object.keys(on).sort()).toEqual(["pull_request", "push"]);
    expect(on.push).toBeNull();
    expect(on.pull_request).toBeNull();
  });

  it("preview runs on pull requests to main", () => {
    expect(wf("preview.yml").on).toEqual({ pull_request: { branches: ["main"] } });
  });

  it("deploy runs on pushes to main (and by hand), never on pull requests", () => {
    expect(wf("deploy.yml").on).toEqual({ push: { branches: ["main"] }, workflow_dispatch: null });
    expect(Object.keys(wf("deploy-stack.yml").on)).toEqual(["workflow_call"]);
  });

  it("drift and image retention run on a schedule and by hand", () => {
    for (const file of ["drift.yml", "images.yml"]) {
      const on = wf(file).on as Record<string, { cron: string }[]>;
      expect(Object.keys(on).sort(), file).toEqual(["schedule", "workflow_dispatch"]);
      expect(on.schedule[0].cron, file).toMatch(/^\d+ \d+ \* \* [*\d]$/);
    }
  });
});

describe("stacks", () => {
  it("preview and drift cover staging and production, one job each, none stopping the other", () => {
    for (const [file, id] of [
      ["preview.yml", "preview"],
      ["drift.yml", "drift"],
    ] as const) {
      const j = job(file, id);
      expect(j.strategy?.matrix?.stack, file).toEqual(DEPLOYED_STACKS);
      expect((j.strategy as Record<string, unknown>)["fail-fast"], file).toBe(false);
      expect(j.env?.STACK, file).toBe("${{ matrix.stack }}");
    }
  });

  it("deploy updates staging, then production, through the one stack workflow", () => {
    const jobs = wf("deploy.yml").jobs;
    expect(Object.keys(jobs)).toEqual(["staging", "production"]);
    for (const stack of DEPLOYED_STACKS) {
      expect(jobs[stack].uses).toBe("./.github/workflows/deploy-stack.yml");
      expect(jobs[stack].with).toEqual({ stack });
      expect(jobs[stack].secrets).toBe("inherit");
    }
    expect(jobs.staging.needs).toBeUndefined();
    expect(jobs.production.needs).toBe("staging");
  });
});

describe("the policy pack and its per-stack config", () => {
  const stackExpr: Record<string, string> = {
    "preview.yml": "${{ matrix.stack }}",
    "deploy-stack.yml": "${{ inputs.stack }}",
  };

  it("every pulumi preview and up runs the pack with the stack's policy config", () => {
    const steps = pulumiSteps("up");
    expect(steps.map((s) => `${s.file}:${String(s.step.with?.command)}`)).toEqual([
      "deploy-stack.yml:up",
    ]);
    for (const { file, step } of steps) {
      expect(step.with?.["stack-name"], file).toBe(stackExpr[file]);
      expect(step.with?.policyPacks, file).toBe("policy");
      expect(step.with?.policyPackConfigs, file).toBe(`policy/config/${stackExpr[file]}.json`);
    }
    // The PR gate runs the CLI itself (pulumi/actions cannot keep the engine's events).
    expect(pulumiSteps("preview")).toEqual([]);
    const previews = allSteps().filter(({ step }) => /pulumi preview\b/.test(step.run ?? ""));
    expect(previews.map((p) => `${p.file}:${p.jobId}`).sort()).toEqual([
      "drift.yml:drift",
      "preview.yml:preview",
    ]);
    const gate = previews.find((p) => p.file === "preview.yml")!.step.run!;
    expect(gate).toContain('pulumi preview --stack "$STACK"');
    expect(gate).toContain(
      '--policy-pack policy --policy-pack-config "policy/config/${STACK}.json"',
    );
  });

  it("the scripts that run the engine outside pulumi/actions pass the same pack and config", () => {
    for (const script of ["scripts/rollback.sh", "scripts/preview-all.sh"]) {
      const text = fs.readFileSync(path.join(ROOT, script), "utf8");
      expect(text, script).toMatch(
        /--policy-pack policy --policy-pack-config "policy\/config\/\$\{?stack\}?\.json"/,
      );
    }
  });

  it("each deployed stack has its policy config once the pack is in place", () => {
    if (!fs.existsSync(path.join(ROOT, "policy", "PulumiPolicy.yaml"))) {
      console.log(
        "policy/PulumiPolicy.yaml is not there yet: the per-stack config files are not checked",
      );
      return;
    }
    for (const stack of ["dev", ...DEPLOYED_STACKS]) {
      const file = path.join(ROOT, "policy", "config", `${stack}.json`);
      expect(fs.existsSync(file), file).toBe(true);
      expect(() => JSON.parse(fs.readFileSync(file, "utf8")) as unknown, file).not.toThrow();
    }
  });

  it("the Pulumi CLI is installed at the version the SDK is pinned to", () => {
    const action = fs.readFileSync(path.join(ROOT, ".github/actions/setup/action.yml"), "utf8");
    expect(action).toContain(`require('./package.json').dependencies['@pulumi/pulumi']`);
    expect(action).toContain("pulumi-version: ${{ steps.version.outputs.pulumi }}");
  });
});

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

  it("the comment carries the heading and the fold it is found by", () => {
    const preview = report.readPreview({
      events: "",
      log: "",
      outcome: "success",
      stack: "staging",
    });
    const body = prComment.commentBody({
      project: "monkeytown",
      stack: "staging",
      preview,
      runUrl: "https://x/run/1",
      sha: "abc",
    });
    expect(body.startsWith("#### :tropical_drink: `preview` on monkeytown/staging\n")).toBe(true);
    expect(body).toContain(prComment.SUMMARY);
    expect(prComment.SUMMARY).toBe("<summary>Pulumi report</summary>");
  });

  it("finds the comment of its own stack and no other", () => {
    const bodyOf = (stack: string) =>
      prComment.commentBody({
        project: "monkeytown",
        stack,
        preview: report.readPreview({ events: "", outcome: "failure", stack }),
        runUrl: "u",
        sha: "s",
      });
    const comments = [
      { id: 1, body: "an unrelated comment" },
      { id: 2, body: bodyOf("production") },
      {
        id: 3,
        body: `${prComment.heading("monkeytown", "staging")}\n\n<details>\n${prComment.SUMMARY}\n<pre>ok</pre>`,
      },
      { id: 4, body: null },
    ];
    expect(prComment.findStackComment(comments, "monkeytown", "staging")?.id).toBe(3);
    expect(prComment.findStackComment(comments, "monkeytown", "production")?.id).toBe(2);
    expect(prComment.findStackComment(comments, "other", "staging")).toBeUndefined();
  });

  it("reads the project name the heading uses from Pulumi.yaml", () => {
    expect(prComment.projectName(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"))).toBe(
      "monkeytown",
    );
    expect(() => prComment.projectName("runtime: nodejs\n")).toThrow(/no top-level `name:`/);
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

describe("concurrency", () => {
  const deploy = job("deploy-stack.yml", "deploy");

  it("one deploy per stack at a time, never cancelled half-way", () => {
    expect(deploy.concurrency).toEqual({
      group: "deploy-${{ inputs.stack }}",
      "cancel-in-progress": false,
    });
  });

  it("only the stack deploy workflow runs pulumi up", () => {
    expect(pulumiSteps("up").map((s) => `${s.file}:${s.jobId}`)).toEqual([
      "deploy-stack.yml:deploy",
    ]);
    for (const { file, step } of allSteps()) {
      if (file === "deploy-stack.yml") continue;
      expect(step.run ?? "", `${file}: ${step.name}`).not.toMatch(/pulumi up|rollback\.sh to/);
    }
  });

  it("previews supersede each other per pull request and stack; drift never queues behind a deploy", () => {
    expect(job("preview.yml", "preview").concurrency).toEqual({
      group: "preview-${{ github.event.pull_request.number }}-${{ matrix.stack }}",
      "cancel-in-progress": true,
    });
    expect(concurrencyGroup(job("preview.yml", "policy").concurrency)).toBe(
      "preview-${{ github.event.pull_request.number }}-policy",
    );
    expect(job("drift.yml", "drift").concurrency).toEqual({
      group: "drift-${{ matrix.stack }}",
      "cancel-in-progress": true,
    });
    const groups = Object.values(WF).flatMap(({ file, wf: w }) =>
      Object.entries(w.jobs)
        .map(([id, j]) => [`${file}:${id}`, concurrencyGroup(j.concurrency)] as const)
        .filter(([, g]) => g?.startsWith("deploy-")),
    );
    expect(groups).toEqual([["deploy-stack.yml:deploy", "deploy-${{ inputs.stack }}"]]);
  });

  it("ci cancels superseded runs except on main", () => {
    expect(wf("ci.yml").concurrency).toEqual({
      group: "ci-${{ github.ref }}",
      "cancel-in-progress": "${{ github.ref != 'refs/heads/main' }}",
    });
  });
});

describe("environments, health check and rollback", () => {
  const deploy = job("deploy-stack.yml", "deploy");
  const steps = deploy.steps ?? [];
  const byId = (id: string) => steps.find((s) => s.id === id);

  it("deploys run in the stack's environment (production's reviewers gate it) and nothing else does", () => {
    expect(deploy.environment).toEqual({
      name: "${{ inputs.stack }}",
      url: "${{ steps.up.outputs.webUrl }}",
    });
    const others = Object.values(WF).flatMap(({ file, wf: w }) =>
      Object.entries(w.jobs)
        .filter(([, j]) => j.environment !== undefined)
        .map(([id]) => `${file}:${id}`),
    );
    expect(others).toEqual(["deploy-stack.yml:deploy"]);
  });

  it("records what runs, updates, checks /health and /ready, and rolls back on failure", () => {
    expect(steps.map((s) => s.id).filter(Boolean)).toEqual([
      "before",
      "stage",
      "up",
      "smoke",
      "switch",
      "health",
    ]);
    expect(byId("before")?.run).toContain('scripts/rollback.sh deployed "$STACK"');
    expect(byId("before")?.run).toContain('>> "$GITHUB_OUTPUT"');
    expect(byId("health")?.run).toBe('scripts/health-check.sh "$STACK"');
    const rollback = steps.at(-1)!;
    expect(rollback.if).toBe(
      "failure() && (steps.up.outcome == 'failure' || steps.smoke.outcome == 'failure' || steps.switch.outcome == 'failure' || steps.health.outcome == 'failure') && steps.before.outputs.webImage != ''",
    );
    expect(rollback.env?.WEB_IMAGE).toBe("${{ steps.before.outputs.webImage }}");
    expect(rollback.env?.API_IMAGE).toBe("${{ steps.before.outputs.apiImage }}");
    expect(rollback.run).toContain('scripts/rollback.sh to "$STACK" "$WEB_IMAGE" "$API_IMAGE"');
  });

  it("blue-green: the release goes to the idle colour, is smoke-tested through api-preview, then takes the traffic", () => {
    // Pinned to what runs, the idle colour's key freed, before the update.
    expect(byId("stage")?.run).toBe(
      'scripts/blue-green.sh stage "$STACK" | tee -a "$GITHUB_OUTPUT"',
    );
    expect(steps.indexOf(byId("stage")!)).toBe(steps.indexOf(byId("up")!) - 1);
    // After the update and before the public health check: smoke test, then switch; rolling stacks
    // (stage prints nothing) skip both.
    for (const id of ["smoke", "switch"]) {
      expect(byId(id)?.if, id).toBe("steps.stage.outputs.idleColor != ''");
    }
    expect(byId("smoke")?.run).toBe('scripts/blue-green.sh smoke "$STACK"');
    expect(byId("switch")?.run).toBe('scripts/blue-green.sh switch "$STACK" "$IDLE_BEFORE"');
    expect(byId("switch")?.env?.IDLE_BEFORE).toBe("${{ steps.stage.outputs.idleImage }}");
    // A failure anywhere puts back exactly the colours that ran before (the old serving colour never
    // changed, so the traffic returns at once).
    const rollback = steps.at(-1)!;
    expect(rollback.env).toMatchObject({
      ACTIVE_COLOR: "${{ steps.before.outputs.activeColor }}",
      BLUE_IMAGE: "${{ steps.before.outputs.blueImage }}",
      GREEN_IMAGE: "${{ steps.before.outputs.greenImage }}",
    });
    expect(rollback.run).toContain(
      'scripts/rollback.sh colors "$STACK" "$WEB_IMAGE" "$ACTIVE_COLOR" "$BLUE_IMAGE" "$GREEN_IMAGE"',
    );
    for (const id of ["stage", "smoke", "switch"]) {
      expect(byId(id)?.env?.PULUMI_CONFIG_PASSPHRASE, id).toBe(
        "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
      );
    }
  });

  it("previews and drift checks see the colours as they run, not as git has them", () => {
    const preview = job("preview.yml", "preview").steps ?? [];
    const stage = preview.findIndex((s) => s.run === 'scripts/blue-green.sh stage "$STACK"');
    const gate = preview.findIndex((s) => s.id === "preview");
    expect(stage).toBeGreaterThanOrEqual(0);
    expect(stage).toBeLessThan(gate);
    const drift = job("drift.yml", "drift").steps ?? [];
    const pin = drift.findIndex((s) => s.run === 'scripts/blue-green.sh pin "$STACK"');
    expect(pin).toBeGreaterThanOrEqual(0);
    expect(pin).toBeLessThan(drift.findIndex((s) => s.id === "drift"));
  });
});

describe("least privilege", () => {
  /** The only write scopes any job may hold, and why. */
  const writes: Record<string, Record<string, string>> = {
    "preview.yml:preview": { "pull-requests": "write" },
    "drift.yml:drift": { issues: "write" },
    "images.yml:retention": { packages: "write" },
  };

  it("every workflow grants nothing at the top and every job says what it needs", () => {
    for (const { file, wf: w } of Object.values(WF)) {
      expect(w.permissions, file).toEqual({});
      for (const [id, j] of Object.entries(w.jobs)) {
        expect(j.permissions, `${file}:${id}`).toBeTypeOf("object");
      }
    }
  });

  it("jobs read contents at most, except the few writes they exist for", () => {
    for (const { file, wf: w } of Object.values(WF)) {
      for (const [id, j] of Object.entries(w.jobs)) {
        const perms = j.permissions as Record<string, string>;
        const granted = Object.fromEntries(
          Object.entries(perms).filter(([, level]) => level !== "read" && level !== "none"),
        );
        expect(granted, `${file}:${id}`).toEqual(writes[`${file}:${id}`] ?? {});
        for (const scope of Object.keys(perms)) {
          expect(
            ["contents", "pull-requests", "issues", "packages"],
            `${file}:${id} ${scope}`,
          ).toContain(scope);
        }
      }
    }
  });

  it("checkouts keep no credentials in the work tree", () => {
    const checkouts = allSteps().filter(({ step }) => step.uses?.startsWith("actions/checkout@"));
    expect(checkouts.length).toBeGreaterThanOrEqual(6);
    for (const { file, step } of checkouts)
      expect(step.with?.["persist-credentials"], file).toBe(false);
  });
});

describe("actions are pinned to a commit", () => {
  const files = [
    ...Object.values(WF).map(({ file, text }) => ({ file, text })),
    {
      file: "actions/setup/action.yml",
      text: fs.readFileSync(path.join(ROOT, ".github/actions/setup/action.yml"), "utf8"),
    },
  ];
  const PINNED = /^([\w.-]+\/[\w.-]+(?:\/[\w./-]+)?)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$/;

  it("every external action is a full commit SHA with its version beside it, the same everywhere", () => {
    const pins = new Map<string, string>();
    let external = 0;
    for (const { file, text } of files) {
      for (const m of text.matchAll(/^\s*(?:- )?uses:\s*(.+?)\s*$/gm)) {
        const ref = m[1];
        if (ref.startsWith("./")) continue;
        external += 1;
        const pin = PINNED.exec(ref);
        expect(pin, `${file}: ${ref}`).not.toBeNull();
        const [, action, sha, version] = pin!;
        const seen = pins.get(action);
        if (seen) expect(`${sha} ${version}`, `${file}: ${action}`).toBe(seen);
        pins.set(action, `${sha} ${version}`);
      }
    }
    expect(external).toBeGreaterThan(10);
    expect([...pins.keys()].sort()).toEqual([
      "actions/checkout",
      "actions/github-script",
      "actions/setup-go",
      "actions/setup-node",
      "pulumi/actions",
    ]);
  });

  it("rejects a tag, a branch and a short SHA", () => {
    for (const ref of [
      "actions/checkout@v7",
      "actions/checkout@main",
      "actions/checkout@3d3c42e # v7.0.1",
    ]) {
      expect(PINNED.test(ref), ref).toBe(false);
    }
  });
});

/** Lines of a run script that print a secret-fed variable anywhere but into a file under $RUNNER_TEMP. */
function secretEchoes(run: string, secretVars: readonly string[]): string[] {
  return run.split("\n").filter((line) => {
    if (!/\b(echo|printf|cat)\b/.test(line)) return false;
    const named = secretVars.some((v) => new RegExp(`\\$\\{?${v}\\b`).test(line));
    return named && !/>\s*"\$RUNNER_TEMP\//.test(line);
  });
}

describe("secrets", () => {
  const secretFed = (env: Record<string, string> | undefined) =>
    Object.entries(env ?? {})
      .filter(([, v]) => String(v).includes("secrets."))
      .map(([k]) => k);

  it("come only from the secrets context, never written into a script", () => {
    for (const { file, jobId, step } of allSteps()) {
      expect(step.run ?? "", `${file}:${jobId} ${step.name}`).not.toContain("secrets.");
      expect(String(step.with?.script ?? ""), `${file}:${jobId} ${step.name}`).not.toContain(
        "secrets.",
      );
    }
  });

  it("are never echoed, and no script traces its commands", () => {
    for (const { file, jobId, job: j, step } of allSteps()) {
      const vars = [...secretFed(j.env), ...secretFed(step.env), "KUBECONFIG_CONTENT"];
      expect(secretEchoes(step.run ?? "", vars), `${file}:${jobId} ${step.name}`).toEqual([]);
      expect(step.run ?? "", `${file}:${jobId}`).not.toMatch(/set -[a-z]*x|bash -x/);
    }
    const action = fs.readFileSync(path.join(ROOT, ".github/actions/setup/action.yml"), "utf8");
    expect(action).toContain(`printf '%s\\n' "$KUBECONFIG_CONTENT" > "$RUNNER_TEMP/kubeconfig"`);
    expect(action).toContain("umask 077");
  });

  it("the echo detector catches a printed secret and allows one written to a private file", () => {
    expect(
      secretEchoes('echo "pass: $PULUMI_CONFIG_PASSPHRASE"', ["PULUMI_CONFIG_PASSPHRASE"]),
    ).toHaveLength(1);
    expect(secretEchoes("printf '%s' ${TOKEN}", ["TOKEN"])).toHaveLength(1);
    expect(secretEchoes('printf \'%s\' "$TOKEN" > "$RUNNER_TEMP/t"', ["TOKEN"])).toEqual([]);
    expect(secretEchoes('echo "$STACK"', ["TOKEN"])).toEqual([]);
  });

  it("the passphrase reaches only the steps that run Pulumi, never npm ci", () => {
    for (const { file, wf: w } of Object.values(WF)) {
      for (const [id, j] of Object.entries(w.jobs)) {
        expect(
          secretFed(j.env).filter((k) => k !== "PULUMI_BACKEND_URL"),
          `${file}:${id}`,
        ).toEqual([]);
      }
    }
    const fedSteps = allSteps().filter(({ step }) =>
      secretFed(step.env).includes("PULUMI_CONFIG_PASSPHRASE"),
    );
    expect(fedSteps.length).toBeGreaterThanOrEqual(8);
    for (const { file, step } of fedSteps) {
      const runsPulumi =
        step.uses?.startsWith(`${PULUMI_ACTION}@`) ||
        /pulumi preview|scripts\/(rollback|health-check|blue-green)\.sh|require-env\.sh/.test(
          step.run ?? "",
        );
      expect(runsPulumi, `${file}: ${step.name}`).toBe(true);
    }
  });
});

describe("drift", () => {
  const drift = job("drift.yml", "drift");
  const steps = drift.steps ?? [];

  it("refresh-previews each stack expecting no changes and reports to an issue", () => {
    const check = steps.find((s) => s.id === "drift")!;
    expect(check.run).toMatch(/pulumi preview --stack "\$STACK" --refresh --expect-no-changes/);
    expect(check.run).toContain("set -o pipefail");
    expect(check["continue-on-error"]).toBe(true);
    const report = steps.at(-1)!;
    expect(report.env?.OUTCOME).toBe("${{ steps.drift.outcome }}");
    expect(report.with?.script).toContain("drift.report(");
  });

  it("tells drift from a clean run and from another failure", () => {
    expect(driftIssue.classify("success", "")).toBe("clean");
    expect(
      driftIssue.classify("failure", "error: no changes were expected but changes were proposed"),
    ).toBe("drift");
    expect(
      driftIssue.classify(
        "failure",
        "error: no changes were expected for preview but changes were proposed",
      ),
    ).toBe("drift");
    expect(driftIssue.classify("failure", "error: failed to load kubeconfig")).toBe("error");
  });

  it("the issue lists the drifted resources but no property values", () => {
    const log = [
      "Previewing update (staging)",
      "     Type                              Name             Plan       Info",
      "  ~  kubernetes:apps/v1:Deployment     web-deployment   update     [diff: ~spec]",
      "      password: hunter2",
      "Resources:",
      "    ~ 1 to update",
    ].join("\n");
    const body = driftIssue.issueBody({ stack: "staging", log, runUrl: "https://x/runs/9" });
    expect(body).toContain("kubernetes:apps/v1:Deployment     web-deployment");
    expect(body).toContain("~ 1 to update");
    expect(body).toContain("https://x/runs/9");
    expect(body).not.toContain("hunter2");
    expect(driftIssue.issueTitle("production")).toBe("Drift detected in production");
  });

  it("opens an issue on drift, updates it while drift lasts, closes it when clean", async () => {
    const calls: string[] = [];
    let open: { number: number; title: string }[] = [];
    const github = {
      paginate: async () => open,
      rest: {
        issues: {
          listForRepo: () => undefined,
          create: async (a: { title: string }) => {
            calls.push(`create ${a.title}`);
            open = [{ number: 7, title: a.title }];
            return { data: { number: 7 } };
          },
          update: async (a: { issue_number: number; state?: string }) => {
            calls.push(`update #${a.issue_number}${a.state ? ` ${a.state}` : ""}`);
          },
          createComment: async (a: { issue_number: number; body: string }) => {
            calls.push(`comment #${a.issue_number} ${a.body.split(":")[0]}`);
          },
        },
      },
    };
    const context = { repo: { owner: "o", repo: "r" }, serverUrl: "https://github.com", runId: 1 };
    const failures: string[] = [];
    const core = {
      warning: () => undefined,
      info: () => undefined,
      setFailed: (m: string) => failures.push(m),
    };
    const drifted = "error: no changes were expected but changes were proposed";
    const run = (outcome: string, log: string) =>
      driftIssue.report({ github, context, core, stack: "staging", outcome, log });
    expect(await run("failure", drifted)).toBe("drift");
    expect(await run("failure", drifted)).toBe("drift");
    expect(await run("success", "")).toBe("clean");
    expect(calls).toEqual([
      "create Drift detected in staging",
      "update #7",
      "comment #7 Still drifting",
      "comment #7 No drift any more",
      "update #7 closed",
    ]);
    expect(await run("failure", "error: backend unreachable")).toBe("error");
    expect(failures).toHaveLength(1);
  });
});

describe("image retention (architecture seed §9.2: Docker images 30 days on GHCR)", () => {
  const DAY = 24 * 60 * 60 * 1000;
  const now = Date.parse("2026-06-30T00:00:00Z");
  const version = (id: number, daysAgo: number, tags: string[]) => ({
    id,
    name: `sha256:${id}`,
    created_at: new Date(now - daysAgo * DAY).toISOString(),
    metadata: { container: { tags } },
  });

  it("runs weekly with 30 days of retention and only that job may delete packages", () => {
    const retention = job("images.yml", "retention");
    expect(retention.env?.RETENTION_DAYS).toBe("30");
    expect(retention.env?.KEEP_NEWEST).toBe("10");
    expect(retention.permissions).toEqual({ contents: "read", packages: "write" });
    expect(retention.steps!.at(-1)!.with?.script).toContain("prune(");
  });

  it("deletes what is older than the retention period beyond the newest tagged images", () => {
    const versions = [
      version(1, 90, ["old1"]),
      version(2, 60, ["old2"]),
      version(3, 40, ["kept-by-count"]),
      version(4, 10, ["recent"]),
      version(5, 90.01, []), // untagged part of image 1
    ];
    const doomed = pruneImages.selectVersionsToDelete(versions, {
      now,
      retentionDays: 30,
      keepNewest: 2,
    });
    expect(doomed.map((v) => v.id)).toEqual([5, 1, 2]);
  });

  it("keeps everything while there are no more tagged images than it must keep", () => {
    const versions = [version(1, 300, ["a"]), version(2, 200, ["b"]), version(3, 250, [])];
    expect(
      pruneImages.selectVersionsToDelete(versions, { now, retentionDays: 30, keepNewest: 2 }),
    ).toEqual([]);
  });

  it("never deletes the untagged parts pushed with a kept image", () => {
    const versions = [
      version(1, 101, ["v1"]),
      version(2, 99.99, []), // pushed minutes before v2's index
      version(3, 99.98, ["v2"]),
      version(4, 1, ["v3"]),
    ];
    const doomed = pruneImages.selectVersionsToDelete(versions, {
      now,
      retentionDays: 30,
      keepNewest: 2,
    });
    expect(doomed.map((v) => v.id)).toEqual([1]);
  });

  it("refuses settings that would delete everything", () => {
    expect(() =>
      pruneImages.selectVersionsToDelete([], { now, retentionDays: 0, keepNewest: 2 }),
    ).toThrow(/retentionDays/);
    expect(() =>
      pruneImages.selectVersionsToDelete([], { now, retentionDays: 30, keepNewest: 0 }),
    ).toThrow(/keepNewest/);
  });
});

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
/** Runs a script without blocking the event loop (the test's HTTP server must keep answering). */
function runScript(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      path.join(ROOT, script),
      args,
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A local server whose /health and /ready answer with the given status codes. */
async function healthServer(codes: {
  health: number;
  ready: number;
}): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? "";
    const status = url.endsWith("/health")
      ? codes.health
      : url.endsWith("/ready")
        ? codes.ready
        : 404;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: status === 200 ? "ok" : "down" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const FAST = { HEALTH_ATTEMPTS: "2", HEALTH_INTERVAL: "0", HEALTH_TIMEOUT: "5" };

describe("scripts/health-check.sh", () => {
  it("passes when /health and /ready answer 200", async () => {
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript(
        "scripts/health-check.sh",
        ["--url", `${server.url}/`, "--url", server.url],
        FAST,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.match(/health-check: ok /g)).toHaveLength(4);
    } finally {
      await server.close();
    }
  });

  it("fails, naming the endpoint, when /ready does not answer 200", async () => {
    const server = await healthServer({ health: 200, ready: 503 });
    try {
      const r = await runScript("scripts/health-check.sh", ["--url", server.url], FAST);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`FAIL ${server.url}/ready -> 503 after 2 attempts`);
      expect(r.stdout).toContain(`ok   ${server.url}/health -> 200`);
    } finally {
      await server.close();
    }
  });

  it("fails when nothing listens, and rejects bad usage", async () => {
    const r = await runScript("scripts/health-check.sh", ["--url", "http://127.0.0.1:9"], FAST);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("-> no answer after 2 attempts");
    expect((await runScript("scripts/health-check.sh", [])).code).toBe(2);
  });
});

describe("scripts/health-check.sh keeps to the stack's budget (seed §9.1: rolled back within 1 minute)", () => {
  /** A server that accepts connections and never answers: a hung release. */
  async function hangingServer(): Promise<{ url: string; close: () => Promise<void> }> {
    const sockets = new Set<import("node:net").Socket>();
    const server = http.createServer(() => undefined);
    server.on("connection", (s) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }

  it("gives up on endpoints that never answer when the budget runs out, whatever the per-request timeout", async () => {
    const server = await hangingServer();
    try {
      const started = Date.now();
      const r = await runScript("scripts/health-check.sh", ["--url", server.url], {
        HEALTH_BUDGET: "3",
        HEALTH_TIMEOUT: "10",
        HEALTH_INTERVAL: "1",
      });
      const seconds = (Date.now() - started) / 1000;
      expect(r.code).toBe(1);
      expect(seconds).toBeGreaterThanOrEqual(3);
      expect(seconds).toBeLessThan(4.5);
      expect(r.stderr).toContain(`FAIL ${server.url}/health -> no answer`);
      expect(r.stderr).toMatch(/\(3\.\d+s of the 3s budget\)/);
    } finally {
      await server.close();
    }
  });

  it("takes the budget from the stack's `recovery` output, which the program derives", async () => {
    const server = await hangingServer();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
    // The output's shape is the program's (typed): a renamed field fails to compile here.
    const recovery: Pick<RecoveryPlan, "healthCheck"> = {
      healthCheck: {
        healthCheckBudgetSeconds: 2,
        healthCheckIntervalSeconds: 1,
        healthCheckTimeoutSeconds: 1,
        updateSeconds: 20,
        rolloutSeconds: 7,
        worstCaseSeconds: 29,
      },
    };
    fs.writeFileSync(path.join(dir, "recovery.json"), JSON.stringify(recovery));
    fs.writeFileSync(
      path.join(dir, "pulumi"),
      [
        "#!/bin/sh",
        'case "$1 $2 $3" in',
        `  "stack output webUrl") echo "${server.url}" ;;`,
        `  "stack output apiUrl") echo "${server.url}/api/v1" ;;`,
        `  "stack output recovery") cat "${dir}/recovery.json" ;;`,
        "  *) exit 1 ;;",
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    try {
      const started = Date.now();
      const r = await runScript("scripts/health-check.sh", ["staging"], {
        PATH: `${dir}:${process.env.PATH}`,
      });
      const seconds = (Date.now() - started) / 1000;
      expect(r.stdout).toContain(
        "health-check: budget 2s, every 1s, 1s per request (the stack's recovery plan)",
      );
      expect(r.code).toBe(1);
      expect(seconds).toBeGreaterThanOrEqual(2);
      expect(seconds).toBeLessThan(3.5);
      expect(r.stderr.match(/FAIL /g)).toHaveLength(4);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("scripts/preview-all.sh prints the findings table (against a fake pulumi)", () => {
  /** A `pulumi` whose preview replays a recording: its event log to --event-log, its output, its exit. */
  function replayingPulumi(recordingName: string): { dir: string; calls: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-preview-"));
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

describe("scripts/rollback.sh (against a fake pulumi)", () => {
  const history = [
    {
      version: 4,
      kind: "update",
      result: "failed",
      config: {
        "monkeytown:webImage": { value: "web:4" },
        "monkeytown:apiImage": { value: "api:4" },
      },
    },
    { version: 3, kind: "refresh", result: "succeeded", config: {} },
    {
      version: 2,
      kind: "update",
      result: "succeeded",
      config: {
        "monkeytown:webImage": { value: "web:2" },
        "monkeytown:apiImage": { value: "api:2" },
      },
    },
    {
      version: 1,
      kind: "update",
      result: "succeeded",
      config: {
        "monkeytown:webImage": { value: "web:1" },
        "monkeytown:apiImage": { value: "api:1" },
      },
    },
  ];

  function fakePulumi(entries: readonly object[] = history): {
    bin: string;
    log: string;
    env: NodeJS.ProcessEnv;
  } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(path.join(dir, "history.json"), JSON.stringify(entries));
    fs.writeFileSync(
      path.join(dir, "pulumi"),
      [
        "#!/bin/sh",
        `echo "$*" >> "${log}"`,
        'case "$1 $2 $3" in',
        `  "stack history "*) cat "${dir}/history.json" ;;`,
        '  "stack output images") [ -n "$FAKE_IMAGES" ] && echo "$FAKE_IMAGES" || exit 1 ;;',
        '  "stack output webUrl") echo "$FAKE_URL" ;;',
        '  "stack output apiUrl") echo "$FAKE_URL/api/v1" ;;',
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return { bin: dir, log, env: { PATH: `${dir}:${process.env.PATH}` } };
  }

  it("reads what runs now from the images output, else from the last successful update", async () => {
    const fake = fakePulumi();
    const fromHistory = await runScript("scripts/rollback.sh", ["deployed", "staging"], fake.env);
    expect(fromHistory.stdout).toBe("webImage=web:2\napiImage=api:2\n");
    const fromOutput = await runScript("scripts/rollback.sh", ["deployed", "staging"], {
      ...fake.env,
      FAKE_IMAGES: '{"web":"ghcr.io/o/web@sha256:aa","api":"ghcr.io/o/api@sha256:bb"}',
    });
    expect(fromOutput.stdout).toBe(
      "webImage=ghcr.io/o/web@sha256:aa\napiImage=ghcr.io/o/api@sha256:bb\n",
    );
    expect(fs.readFileSync(fake.log, "utf8")).toContain(
      "stack history --stack staging --json --page-size 100",
    );
  });

  it("finds the previous images: the newest successful update that ran something else", async () => {
    const fake = fakePulumi();
    const r = await runScript("scripts/rollback.sh", ["previous", "production"], fake.env);
    expect(r.stdout).toBe("webImage=web:1\napiImage=api:1\n");
  });

  it("orders by start time where the backend reports version 0 for every update (file, S3)", async () => {
    const update = (startTime: string, tag: string) => ({
      version: 0,
      kind: "update",
      result: "succeeded",
      startTime,
      config: {
        "monkeytown:webImage": { value: `web:${tag}` },
        "monkeytown:apiImage": { value: `api:${tag}` },
      },
    });
    const fake = fakePulumi([
      update("2026-05-01T10:00:00.000Z", "old"),
      update("2026-05-03T10:00:00.000Z", "new"),
      update("2026-05-02T10:00:00.000Z", "mid"),
    ]);
    expect((await runScript("scripts/rollback.sh", ["deployed", "staging"], fake.env)).stdout).toBe(
      "webImage=web:new\napiImage=api:new\n",
    );
    expect((await runScript("scripts/rollback.sh", ["previous", "staging"], fake.env)).stdout).toBe(
      "webImage=web:mid\napiImage=api:mid\n",
    );
  });

  it("rolls back: sets both keys, updates with the policy pack, then checks health", async () => {
    const fake = fakePulumi();
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript("scripts/rollback.sh", ["to", "staging", "web:1", "api:1"], {
        ...fake.env,
        ...FAST,
        FAKE_URL: server.url,
      });
      expect(r.code, r.stderr).toBe(0);
      const calls = fs
        .readFileSync(fake.log, "utf8")
        .trim()
        .split("\n")
        .filter((c) => !c.startsWith("stack output --json"));
      expect(calls.slice(0, 3)).toEqual([
        "config set --stack staging monkeytown:webImage web:1",
        "config set --stack staging monkeytown:apiImage api:1",
        "up --stack staging --yes --non-interactive --policy-pack policy --policy-pack-config policy/config/staging.json --message rollback to webImage=web:1 apiImage=api:1",
      ]);
      expect(r.stdout).toContain(`ok   ${server.url}/api/v1/ready -> 200`);
    } finally {
      await server.close();
    }
  });

  it("fails the rollback when the stack is still unhealthy afterwards", async () => {
    const fake = fakePulumi();
    const server = await healthServer({ health: 500, ready: 200 });
    try {
      const r = await runScript("scripts/rollback.sh", ["to", "staging", "web:1", "api:1"], {
        ...fake.env,
        ...FAST,
        FAKE_URL: server.url,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("/health -> 500");
    } finally {
      await server.close();
    }
  });
});

describe("scripts/blue-green.sh and the blue-green rollbacks (against a fake pulumi and kubectl)", () => {
  const A = "ghcr.io/monkeytown/monkeytown-api@sha256:" + "a".repeat(64);
  const P = "ghcr.io/monkeytown/monkeytown-api@sha256:" + "b".repeat(64);
  const R = "ghcr.io/monkeytown/monkeytown-api@sha256:" + "c".repeat(64);

  /** Stack outputs of a blue-green stack (production's shape). */
  const outputs = (active: string, blue: string, green: string, extra: object = {}) =>
    JSON.stringify({
      namespace: "monkeytown",
      apiActiveColor: active,
      apiColorImages: { blue, green },
      images: { web: "web:1", api: active === "blue" ? blue : green },
      ...extra,
    });

  /**
   * A pulumi that answers `stack output` from $FAKE_OUTPUTS and logs every call, and a kubectl that
   * answers `get deployment` from $FAKE_LIVE_<COLOR> and serves /health and /ready with
   * $FAKE_SMOKE_STATUS on `port-forward`.
   */
  function fakeTools(): { log: string; env: NodeJS.ProcessEnv } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-bg-"));
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(
      path.join(dir, "server.js"),
      [
        'const status = Number(process.env.FAKE_SMOKE_STATUS || "200");',
        'require("http").createServer((req, res) => {',
        '  res.writeHead(req.url === "/health" || req.url === "/ready" ? status : 404);',
        "  res.end(JSON.stringify({ status }));",
        '}).listen(Number(process.argv[2]), "127.0.0.1");',
      ].join("\n"),
    );
    fs.writeFileSync(
      path.join(dir, "pulumi"),
      [
        "#!/bin/sh",
        `echo "$*" >> "${log}"`,
        'case "$1 $2 $3" in',
        '  "stack output --json") echo "${FAKE_OUTPUTS:-{\\}}" ;;',
        '  "stack output images") node -e \'const o = JSON.parse(process.env.FAKE_OUTPUTS || "{}"); if (!o.images) process.exit(1); console.log(JSON.stringify(o.images))\' ;;',
        '  "stack output webUrl") echo "$FAKE_URL" ;;',
        '  "stack output apiUrl") echo "$FAKE_URL/api/v1" ;;',
        '  "stack history "*) echo "[]" ;;',
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(dir, "kubectl"),
      [
        "#!/bin/sh",
        `echo "kubectl $*" >> "${log}"`,
        'case "$3" in',
        `  port-forward) exec node "${dir}/server.js" "\${5%%:*}" ;;`,
        '  get) case "$5" in api-blue) printf %s "$FAKE_LIVE_BLUE" ;; api-green) printf %s "$FAKE_LIVE_GREEN" ;; esac ;;',
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return { log, env: { PATH: `${dir}:${process.env.PATH}` } };
  }
  const calls = (log: string) =>
    fs
      .readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .filter((c) => !c.startsWith("stack output"));

  async function freePort(): Promise<number> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it("passes the policy pack and the stack's policy config to every update", () => {
    const text = fs.readFileSync(path.join(ROOT, "scripts/blue-green.sh"), "utf8");
    expect(text).toMatch(
      /--policy-pack policy --policy-pack-config "policy\/config\/\$\{?stack\}?\.json"/,
    );
  });

  it("state: what runs, from the stack outputs; nothing for a rolling or new stack", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["state", "production"], {
      ...fake.env,
      FAKE_OUTPUTS: outputs("blue", A, P),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `activeColor=blue\nidleColor=green\nactiveImage=${A}\nidleImage=${P}\nblueImage=${A}\ngreenImage=${P}\n`,
    );
    for (const none of ["", JSON.stringify({ namespace: "monkeytown-staging", images: {} })]) {
      const empty = await runScript("scripts/blue-green.sh", ["state", "staging"], {
        ...fake.env,
        FAKE_OUTPUTS: none,
      });
      expect(empty.code, empty.stderr).toBe(0);
      expect(empty.stdout).toBe("");
    }
  });

  it("state: a stack deployed before apiColorImages existed is read from the cluster", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["state", "production"], {
      ...fake.env,
      FAKE_OUTPUTS: JSON.stringify({ namespace: "monkeytown", apiActiveColor: "green" }),
      FAKE_LIVE_BLUE: P,
      FAKE_LIVE_GREEN: A,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `activeColor=green\nidleColor=blue\nactiveImage=${A}\nidleImage=${P}`,
    );
    expect(fs.readFileSync(fake.log, "utf8")).toContain(
      `kubectl -n monkeytown get deployment api-blue -o jsonpath={.spec.template.spec.containers[?(@.name=="api")].image}`,
    );
  });

  it("stage: pins both colours to what runs, then frees only the idle colour's key", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["stage", "production"], {
      ...fake.env,
      FAKE_OUTPUTS: outputs("blue", A, P),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(calls(fake.log)).toEqual([
      "config set --stack production --path monkeytown:api.activeColor blue",
      `config set --stack production --path monkeytown:api.blueImage ${A}`,
      `config set --stack production --path monkeytown:api.greenImage ${P}`,
      "config rm --stack production --path monkeytown:api.greenImage",
    ]);
    // What ran before staging, for $GITHUB_OUTPUT (the switch keeps idleImage as the rollback).
    expect(r.stdout).toContain(`idleColor=green\nactiveImage=${A}\nidleImage=${P}`);

    const given = fakeTools();
    await runScript("scripts/blue-green.sh", ["stage", "production", R], {
      ...given.env,
      FAKE_OUTPUTS: outputs("green", P, A),
    });
    expect(calls(given.log).at(-1)).toBe(
      `config set --stack production --path monkeytown:api.blueImage ${R}`,
    );
  });

  it("stage: a rolling or never-deployed stack is left as it is", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["stage", "staging"], fake.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(calls(fake.log)).toEqual([]);
  });

  it("switch: traffic to the idle colour (with the policy pack); the old colour stays pinned", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["switch", "production", P], {
      ...fake.env,
      FAKE_OUTPUTS: outputs("blue", A, R),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(calls(fake.log)).toEqual([
      "config set --stack production --path monkeytown:api.activeColor blue",
      `config set --stack production --path monkeytown:api.blueImage ${A}`,
      `config set --stack production --path monkeytown:api.greenImage ${R}`,
      "config set --stack production --path monkeytown:api.activeColor green",
      `up --stack production --yes --non-interactive --policy-pack policy --policy-pack-config policy/config/production.json --message switch api traffic to green (${R})`,
    ]);
  });

  it("switch: a re-deploy of what serves switches nothing and gives the idle colour its release back", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["switch", "production", P], {
      ...fake.env,
      FAKE_OUTPUTS: outputs("blue", A, A),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("nothing to switch");
    const made = calls(fake.log);
    expect(made).not.toContain(
      "config set --stack production --path monkeytown:api.activeColor green",
    );
    expect(made.slice(-2)).toEqual([
      `config set --stack production --path monkeytown:api.greenImage ${P}`,
      `up --stack production --yes --non-interactive --policy-pack policy --policy-pack-config policy/config/production.json --message keep ${P} on green as the rollback target`,
    ]);
  });

  it("smoke: /health and /ready of the idle colour through a port-forward to api-preview", async () => {
    const port = await freePort();
    const fake = fakeTools();
    const ok = await runScript("scripts/blue-green.sh", ["smoke", "production"], {
      ...fake.env,
      ...FAST,
      SMOKE_PORT: String(port),
      FAKE_OUTPUTS: outputs("blue", A, R),
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`ok   http://127.0.0.1:${port}/ready -> 200`);
    expect(fs.readFileSync(fake.log, "utf8")).toContain(
      `kubectl -n monkeytown port-forward svc/api-preview ${port}:80`,
    );
    const bad = await runScript("scripts/blue-green.sh", ["smoke", "production"], {
      ...fakeTools().env,
      ...FAST,
      SMOKE_PORT: String(await freePort()),
      FAKE_OUTPUTS: outputs("blue", A, R),
      FAKE_SMOKE_STATUS: "503",
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/FAIL http:\/\/127\.0\.0\.1:\d+\/health -> 503/);
  });

  it("rollback.sh deployed: the images and, for blue-green, the colours", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/rollback.sh", ["deployed", "production"], {
      ...fake.env,
      FAKE_OUTPUTS: outputs("blue", A, P),
    });
    expect(r.stdout).toBe(
      `webImage=web:1\napiImage=${A}\nactiveColor=blue\nidleColor=green\nactiveImage=${A}\nidleImage=${P}\nblueImage=${A}\ngreenImage=${P}\n`,
    );
  });

  it("rollback.sh switch-back: the traffic returns to the colour that served before, then health", async () => {
    const fake = fakeTools();
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript("scripts/rollback.sh", ["switch-back", "production"], {
        ...fake.env,
        ...FAST,
        FAKE_URL: server.url,
        FAKE_OUTPUTS: outputs("green", A, R),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(calls(fake.log).slice(-2)).toEqual([
        "config set --stack production --path monkeytown:api.activeColor blue",
        `up --stack production --yes --non-interactive --policy-pack policy --policy-pack-config policy/config/production.json --message switch api traffic to blue (${A})`,
      ]);
      expect(r.stdout).toContain(`ok   ${server.url}/api/v1/health -> 200`);
    } finally {
      await server.close();
    }
  });

  it("rollback.sh colors: exactly what ran before, in one update", async () => {
    const fake = fakeTools();
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript(
        "scripts/rollback.sh",
        ["colors", "production", "web:1", "blue", A, P],
        { ...fake.env, ...FAST, FAKE_URL: server.url },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(calls(fake.log)).toEqual([
        "config set --stack production monkeytown:webImage web:1",
        "config set --stack production --path monkeytown:api.activeColor blue",
        `config set --stack production --path monkeytown:api.blueImage ${A}`,
        `config set --stack production --path monkeytown:api.greenImage ${P}`,
        `up --stack production --yes --non-interactive --policy-pack policy --policy-pack-config policy/config/production.json --message rollback to webImage=web:1, api blue (blue=${A} green=${P})`,
      ]);
    } finally {
      await server.close();
    }
    expect(
      (await runScript("scripts/rollback.sh", ["colors", "production", "w", "red", A, P])).code,
    ).toBe(2);
  });

  it("rollback.sh to on blue-green: never sets apiImage; switches when the idle colour runs the image", async () => {
    const fake = fakeTools();
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript("scripts/rollback.sh", ["to", "production", "web:1", P], {
        ...fake.env,
        ...FAST,
        FAKE_URL: server.url,
        FAKE_OUTPUTS: outputs("blue", R, P),
      });
      expect(r.code, r.stderr).toBe(0);
      const made = calls(fake.log);
      expect(made.some((c) => c.includes("monkeytown:apiImage"))).toBe(false);
      expect(made.slice(-2)).toEqual([
        "config set --stack production --path monkeytown:api.activeColor green",
        `up --stack production --yes --non-interactive --policy-pack policy --policy-pack-config policy/config/production.json --message rollback to webImage=web:1, api traffic to green (${P})`,
      ]);

      // An image on neither colour is staged on the idle one and smoke-tested before the switch.
      const other = fakeTools();
      const staged = await runScript("scripts/rollback.sh", ["to", "production", "web:1", A], {
        ...other.env,
        ...FAST,
        SMOKE_PORT: String(await freePort()),
        FAKE_URL: server.url,
        FAKE_OUTPUTS: outputs("blue", R, P),
      });
      expect(staged.code, staged.stderr).toBe(0);
      const log = fs.readFileSync(other.log, "utf8");
      const order = [
        `config set --stack production --path monkeytown:api.greenImage ${A}`,
        `--message rollback to webImage=web:1, ${A} on green`,
        "kubectl -n monkeytown port-forward svc/api-preview",
        "config set --stack production --path monkeytown:api.activeColor green",
      ].map((needle) => log.indexOf(needle));
      expect(
        order.every((i) => i >= 0),
        log,
      ).toBe(true);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    } finally {
      await server.close();
    }
  });
});

/** actionlint from PATH or from the cache scripts/ci/install-actionlint.sh installs into. */
function findTool(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? "").split(path.delimiter),
    path.join(
      process.env.MONKEYTOWN_TOOLS ?? path.join(os.homedir(), ".cache", "monkeytown-tools"),
      "bin",
    ),
  ];
  return dirs.map((d) => path.join(d, name)).find((p) => fs.existsSync(p));
}

describe("linters", () => {
  const actionlint = findTool("actionlint");
  const shellcheck = findTool("shellcheck");
  const scripts = [
    "scripts/ci/install-actionlint.sh",
    "scripts/preview-all.sh",
    "test/fixtures/engine-output/record.sh",
    "scripts/health-check.sh",
    "scripts/rollback.sh",
    "scripts/blue-green.sh",
    ".github/scripts/require-env.sh",
  ];

  it("actionlint (with shellcheck on every run: script) finds nothing in the workflows", async (ctx) => {
    if (!actionlint) {
      console.log(
        "actionlint is not installed: run scripts/ci/install-actionlint.sh (CI does) to lint the workflows",
      );
      ctx.skip();
      return;
    }
    const r = await new Promise<RunResult>((resolve) =>
      execFile(
        actionlint,
        ["-no-color"],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            PATH: `${path.dirname(shellcheck ?? actionlint)}:${process.env.PATH}`,
          },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("the scripts parse and shellcheck finds nothing in them", async (ctx) => {
    for (const script of scripts) {
      const r = await new Promise<RunResult>((resolve) =>
        execFile("bash", ["-n", path.join(ROOT, script)], (error, stdout, stderr) =>
          resolve({ code: error ? 1 : 0, stdout, stderr }),
        ),
      );
      expect(r.code, `${script}: ${r.stderr}`).toBe(0);
    }
    if (!shellcheck) {
      console.log(
        "shellcheck is not installed: run scripts/ci/install-actionlint.sh (CI does) to check the scripts",
      );
      ctx.skip();
      return;
    }
    const r = await new Promise<RunResult>((resolve) =>
      execFile(
        shellcheck,
        scripts.map((s) => path.join(ROOT, s)),
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(r.stdout + r.stderr).toBe("");
  });
});

describe("docs/runbook.md", () => {
  const runbook = fs.readFileSync(path.join(ROOT, "docs", "runbook.md"), "utf8");

  it("names only scripts, workflows and policy configs that exist", () => {
    const paths = new Set(
      [
        ...runbook.matchAll(
          /(?:scripts\/[\w./-]+\.sh|\.github\/workflows\/[\w-]+\.yml|policy\/config\/(?:dev|staging|production)\.json)/g,
        ),
      ].map((m) => m[0]),
    );
    expect(paths.size).toBeGreaterThanOrEqual(8);
    for (const p of paths) expect(fs.existsSync(path.join(ROOT, p)), p).toBe(true);
  });

  it("covers every procedure the delivery issue asks for", () => {
    for (const heading of [
      "## Previewing",
      "## Deploying",
      "### To the previous images",
      "### To a previous stack state",
      "## Blue-green switch",
      "### P1: critical, system down",
      "### P2: high, degraded service",
      "### P3: warning, degraded experience",
      "## Rotating a secret",
      "## Adding an environment",
      "### Health check fails after a deploy",
      "### A rollout is stuck",
      "### A policy violation blocks a pull request",
      "### The stack is locked",
    ]) {
      expect(runbook, heading).toContain(`\n${heading}\n`);
    }
  });

  it("lists the required checks exactly as branch protection names them", () => {
    for (const context of REQUIRED_CHECK_CONTEXTS) expect(runbook).toContain(`\`${context}\``);
  });
});
