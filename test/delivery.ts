/**
 * What the tests of the delivery workflows and the scripts they call share: the workflows of
 * `.github/workflows/` read as data (test/workflows/), and a runner for the scripts with a local
 * server for their health checks (scripts/*.test.ts). Loaded on first use.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll } from "vitest";
import { parse } from "yaml";

export const ROOT = path.resolve(__dirname, "..");
const WORKFLOWS_DIR = path.join(ROOT, ".github", "workflows");
/** The stacks CI previews, deploys and checks for drift (dev is the local, cluster-less stack). */
export const DEPLOYED_STACKS = ["staging", "production"];
export const PULUMI_ACTION = "pulumi/actions";

export interface Step {
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
export interface Job {
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
export interface Workflow {
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

let loaded: Record<string, LoadedWorkflow> | undefined;
/** Every workflow file, by file name. */
export function workflows(): Record<string, LoadedWorkflow> {
  if (loaded) return loaded;
  const out: Record<string, LoadedWorkflow> = {};
  for (const file of fs.readdirSync(WORKFLOWS_DIR).filter((f) => /\.ya?ml$/.test(f))) {
    const text = fs.readFileSync(path.join(WORKFLOWS_DIR, file), "utf8");
    out[file] = { file, text, wf: parse(text) as Workflow };
  }
  loaded = out;
  return out;
}

export function wf(file: string): Workflow {
  const found = workflows()[file];
  if (!found) throw new Error(`.github/workflows/${file} is missing`);
  return found.wf;
}
export function job(file: string, id: string): Job {
  const j = wf(file).jobs[id];
  if (!j) throw new Error(`${file} has no job '${id}'`);
  return j;
}

export function triggers(w: Workflow): string[] {
  if (typeof w.on === "string") return [w.on];
  return Array.isArray(w.on) ? w.on : Object.keys(w.on);
}

export function allSteps(): { file: string; jobId: string; job: Job; step: Step }[] {
  return Object.values(workflows()).flatMap(({ file, wf: w }) =>
    Object.entries(w.jobs).flatMap(([jobId, j]) =>
      (j.steps ?? []).map((step) => ({ file, jobId, job: j, step })),
    ),
  );
}

export function pulumiSteps(command?: string) {
  return allSteps().filter(
    ({ step }) =>
      step.uses?.startsWith(`${PULUMI_ACTION}@`) &&
      (command === undefined || step.with?.command === command),
  );
}

export function concurrencyGroup(c: Concurrency | undefined): string | undefined {
  return typeof c === "string" ? c : c?.group;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
/** Runs a script without blocking the event loop (the test's HTTP server must keep answering). */
export function runScript(
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
export async function healthServer(codes: {
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

/** Health-check settings that fail fast: two attempts, no wait between them. */
export const FAST = { HEALTH_ATTEMPTS: "2", HEALTH_INTERVAL: "0", HEALTH_TIMEOUT: "5" };

const scratch: string[] = [];
// Registered on the importing file's root suite: its scratch directories go when its tests are done.
afterAll(() => {
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A new directory under the system's temporary directory (its real path) for a test's fakes and
 * fixtures, removed after the test file has run: the scripts' tests leave nothing in /tmp.
 */
export function scratchDir(prefix: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  scratch.push(dir);
  return dir;
}
