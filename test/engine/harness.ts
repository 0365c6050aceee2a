/**
 * Shared helpers of the engine tests (test/engine/*.test.ts): they drive the real Pulumi engine
 * through the Automation API, each test file in its own sandbox (temporary copy of the repository,
 * file backend and PULUMI_HOME), with the environment of the main job (scripts/up-dev.sh).
 *
 * The toolchain is detected synchronously at import time, so that test files can use
 * `it.skipIf(!toolchain.ready)` and print the reason when it is missing.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import {
  POD_SPEC_PATH,
  WORKLOAD_KINDS as POLICY_WORKLOAD_KINDS,
  type WorkloadKind,
} from "../../policy/lib/workload";
import {
  EngineEvent,
  LocalWorkspace,
  OpType,
  PulumiCommand,
  Stack,
} from "@pulumi/pulumi/automation";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** The documented dev-only passphrase (scripts/up-dev.sh, docs/engine.md). */
export const DEV_PASSPHRASE = "monkeytown-dev";
/** Per-test timeout of engine tests: one `up` takes tens of seconds on 2 shared cores. */
export const ENGINE_TIMEOUT_MS = 300_000;

export type ToolchainStatus =
  | {
      readonly ready: true;
      readonly path: string;
      readonly pulumiRoot: string;
      readonly version: string;
    }
  | { readonly ready: false; readonly reason: string };

function detectToolchain(): ToolchainStatus {
  const script = path.join(REPO_ROOT, "scripts", "pulumi-toolchain.sh");
  const check = spawnSync("bash", [script, "--check"], { encoding: "utf8", timeout: 60_000 });
  if (check.status !== 0) {
    return {
      ready: false,
      reason:
        "the Pulumi toolchain is not ready (`bash scripts/pulumi-toolchain.sh --check` failed): run `npm run toolchain` to build it",
    };
  }
  // Ready: the print mode only finds (instant) and prints `export PATH=...`.
  const env = spawnSync("bash", ["-c", 'eval "$(bash "$0")" && printf "%s" "$PATH"', script], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, PULUMI_TOOLCHAIN_QUIET: "1" },
  });
  if (env.status !== 0 || env.stdout === "") {
    return {
      ready: false,
      reason: `scripts/pulumi-toolchain.sh passed --check but failed to print its PATH: ${env.stderr}`,
    };
  }
  const pathValue = env.stdout;
  const which = spawnSync("bash", ["-c", "command -v pulumi"], {
    encoding: "utf8",
    env: { ...process.env, PATH: pathValue },
  });
  const pulumiBin = which.stdout.trim();
  if (which.status !== 0 || pulumiBin === "") {
    return {
      ready: false,
      reason: "scripts/pulumi-toolchain.sh printed a PATH without `pulumi` on it",
    };
  }
  const version = spawnSync(pulumiBin, ["version"], {
    encoding: "utf8",
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
  }).stdout.trim();
  return {
    ready: true,
    path: pathValue,
    pulumiRoot: path.dirname(path.dirname(pulumiBin)),
    version,
  };
}

export const toolchain: ToolchainStatus = detectToolchain();

// Render mode must see no cluster (pulumi-kubernetes#3498), and KUBECONFIG must be unset rather than
// empty (the provider rejects `kubeconfig` together with `renderYamlToDirectory`). Each test file
// runs in its own process (vitest `pool: forks`), and the Automation API passes this process's
// environment to the CLI. A test that needs a cluster passes KUBECONFIG explicitly.
const inheritedKubeconfig = process.env.KUBECONFIG;
delete process.env.KUBECONFIG;
/** KUBECONFIG as this process was started with it. */
export function originalKubeconfig(): string | undefined {
  return inheritedKubeconfig;
}

/** Prints why a test file's engine tests are skipped (vitest shows it in the log). */
export function reportSkip(file: string): void {
  if (!toolchain.ready) console.warn(`[engine tests] ${file}: skipped: ${toolchain.reason}`);
}

/** A temporary directory holding one test file's backend, PULUMI_HOME and working copies. */
export class Sandbox {
  readonly dir: string;
  readonly stateDir: string;
  readonly homeDir: string;

  constructor(label: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `monkeytown-engine-${label}-`));
    this.stateDir = path.join(this.dir, "state");
    this.homeDir = path.join(this.dir, "pulumi-home");
    fs.mkdirSync(this.stateDir);
    fs.mkdirSync(this.homeDir);
  }

  /** The environment of scripts/up-dev.sh, pointed at this sandbox. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    if (!toolchain.ready) throw new Error("toolchain not ready");
    return {
      PATH: toolchain.path,
      PULUMI_HOME: this.homeDir,
      PULUMI_BACKEND_URL: `file://${this.stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: DEV_PASSPHRASE,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_NODEJS_TRANSPILE_ONLY: "true",
      ...extra,
    };
  }

  /**
   * A copy of the repository's working tree (tracked and untracked-but-not-ignored files, as they
   * are on disk) at `<sandbox>/<name>`, with node_modules linked to the repository's.
   */
  copyRepo(name = "repo"): string {
    const dest = path.join(this.dir, name);
    const listed = spawnSync(
      "git",
      ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
      },
    );
    if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
    for (const rel of listed.stdout.split("\0").filter((f) => f !== "")) {
      const src = path.join(REPO_ROOT, rel);
      if (!fs.existsSync(src)) continue; // deleted in the working tree
      fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
      fs.copyFileSync(src, path.join(dest, rel));
    }
    linkNodeModules(dest);
    return dest;
  }

  /** `git clone` of the repository at HEAD into `<sandbox>/<name>`, node_modules linked. */
  cloneRepo(name = "clone"): string {
    const dest = path.join(this.dir, name);
    const clone = spawnSync("git", ["clone", "--quiet", "--no-hardlinks", REPO_ROOT, dest], {
      encoding: "utf8",
    });
    if (clone.status !== 0) throw new Error(`git clone failed: ${clone.stderr}`);
    linkNodeModules(dest);
    return dest;
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** node_modules (root and policy pack) are installed once in the repository and linked. */
function linkNodeModules(dest: string): void {
  for (const rel of ["node_modules", path.join("policy", "node_modules")]) {
    const src = path.join(REPO_ROOT, rel);
    if (!fs.existsSync(src))
      throw new Error(`${src} is missing: run \`bash scripts/ensure-deps.sh\``);
    fs.symlinkSync(src, path.join(dest, rel), "dir");
  }
}

/** Creates or selects `stackName` of the project in `workDir` with the passphrase provider. */
export async function openStack(
  sandbox: Sandbox,
  workDir: string,
  stackName: string,
  extraEnv: Record<string, string> = {},
): Promise<Stack> {
  if (!toolchain.ready) throw new Error("toolchain not ready");
  const pulumiCommand = await PulumiCommand.get({ root: toolchain.pulumiRoot });
  const ws = await LocalWorkspace.create({
    workDir,
    pulumiHome: sandbox.homeDir,
    envVars: sandbox.env(extraEnv),
    pulumiCommand,
    secretsProvider: "passphrase",
  });
  return Stack.createOrSelect(stackName, ws);
}

/** One step the engine reported (resourcePreEvent), as "op urn". */
export interface Step {
  readonly op: OpType;
  readonly urn: string;
  readonly type: string;
}

/** Collects steps and raw events of one engine operation. */
export class EventLog {
  readonly events: EngineEvent[] = [];
  readonly onEvent = (e: EngineEvent): void => {
    this.events.push(e);
  };

  get steps(): Step[] {
    return this.events.flatMap((e) =>
      e.resourcePreEvent
        ? [
            {
              op: e.resourcePreEvent.metadata.op,
              urn: e.resourcePreEvent.metadata.urn,
              type: e.resourcePreEvent.metadata.type,
            },
          ]
        : [],
    );
  }

  /** Steps other than `same`, as "op type name", sorted. */
  changes(): string[] {
    return this.steps
      .filter((s) => s.op !== "same")
      .map((s) => `${s.op} ${s.type} ${s.urn.slice(s.urn.lastIndexOf("::") + 2)}`)
      .sort();
  }
}

/** Every file under `dir` (relative, sorted); [] when `dir` does not exist. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** relative path → sha256 of every file under `dir`. */
export function treeDigest(dir: string): Record<string, string> {
  const digest: Record<string, string> = {};
  for (const rel of listFiles(dir)) {
    digest[rel] = crypto
      .createHash("sha256")
      .update(fs.readFileSync(path.join(dir, rel)))
      .digest("hex");
  }
  return digest;
}

export interface Manifest {
  readonly file: string;
  readonly kind: string;
  readonly name: string;
  readonly doc: Record<string, unknown>;
}

/** Parses every YAML document under `dir`; throws on a YAML error (naming the file). */
export function readManifests(dir: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const rel of listFiles(dir).filter((f) => /\.ya?ml$/.test(f))) {
    const docs = parseAllDocuments(fs.readFileSync(path.join(dir, rel), "utf8"));
    for (const d of docs) {
      if (d.errors.length > 0)
        throw new Error(`${rel}: ${d.errors.map((e) => e.message).join("; ")}`);
      const doc = d.toJS() as Record<string, unknown> | null;
      if (doc === null) continue;
      const metadata = (doc.metadata ?? {}) as { name?: string };
      manifests.push({ file: rel, kind: String(doc.kind), name: String(metadata.name), doc });
    }
  }
  return manifests;
}

/** The pod spec of a workload manifest, or undefined when the kind runs no pods. */
export function podSpecOf(m: Manifest): Record<string, unknown> | undefined {
  if (!WORKLOAD_KINDS.includes(m.kind)) return undefined;
  // Where the pack finds the pod spec of each kind (policy/lib/workload.ts).
  return POD_SPEC_PATH[m.kind as WorkloadKind].reduce<unknown>(
    (o, key) => (o as Record<string, unknown> | undefined)?.[key],
    m.doc,
  ) as Record<string, unknown> | undefined;
}

/** What is wrong with one workload's hardening (non-root, requests and limits, probes); [] if fine. */
export function workloadProblems(m: Manifest): string[] {
  const pod = podSpecOf(m);
  if (pod === undefined) return [`${m.kind} ${m.name}: no pod spec`];
  const problems: string[] = [];
  const podSc = (pod.securityContext ?? {}) as { runAsNonRoot?: boolean; runAsUser?: number };
  type Container = {
    name: string;
    securityContext?: {
      runAsNonRoot?: boolean;
      runAsUser?: number;
      allowPrivilegeEscalation?: boolean;
    };
    resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
    readinessProbe?: unknown;
    livenessProbe?: unknown;
  };
  const containers = (pod.containers ?? []) as Container[];
  const inits = (pod.initContainers ?? []) as Container[];
  if (containers.length === 0) problems.push(`${m.kind} ${m.name}: no containers`);
  for (const [c, isInit] of [
    ...containers.map((c) => [c, false] as const),
    ...inits.map((c) => [c, true] as const),
  ]) {
    const where = `${m.kind} ${m.name}, ${isInit ? "init container" : "container"} ${c.name}`;
    const sc = c.securityContext ?? {};
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const uid = sc.runAsUser ?? podSc.runAsUser;
    if (nonRoot !== true) problems.push(`${where}: runAsNonRoot is not true`);
    if (uid === 0) problems.push(`${where}: runAsUser is 0`);
    if (sc.allowPrivilegeEscalation !== false)
      problems.push(`${where}: allowPrivilegeEscalation is not false`);
    for (const kind of ["requests", "limits"] as const) {
      for (const res of ["cpu", "memory"]) {
        if (c.resources?.[kind]?.[res] === undefined)
          problems.push(`${where}: no resources.${kind}.${res}`);
      }
    }
    if (!isInit) {
      if (c.readinessProbe === undefined) problems.push(`${where}: no readinessProbe`);
      if (c.livenessProbe === undefined) problems.push(`${where}: no livenessProbe`);
    }
  }
  return problems;
}

/** The workload kinds, as the policy pack knows them. */
export const WORKLOAD_KINDS: readonly string[] = POLICY_WORKLOAD_KINDS;

/** Runs `cmd` with the sandbox environment in `cwd`; returns status and output. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    encoding: "utf8",
    env: { ...process.env, ...opts.env },
    timeout: opts.timeoutMs ?? 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The policy-pack arguments of `up`/`preview` for a stack: the pack and its per-stack config. */
export function policyArgsFor(
  workDir: string,
  stack: string,
): { policyPacks: string[]; policyPackConfigs: string[] } {
  return {
    policyPacks: [path.join(workDir, "policy")],
    policyPackConfigs: [path.join(workDir, "policy", "config", `${stack}.json`)],
  };
}
