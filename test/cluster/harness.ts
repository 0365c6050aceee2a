/**
 * Helpers of the live-cluster tests (test/cluster/*.test.ts): a stack's shape on the cluster the
 * global setup found or started (the same workspace `npm run cluster:deploy` uses: real stack file +
 * override file), driven through the Automation API, and a kubectl that reads back what the API
 * server holds (never Pulumi's state).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { inject } from "vitest";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import {
  CLUSTER_PASSPHRASE,
  REPO_ROOT,
  pinnedColours,
  prepareWorkspace,
  realNodePolicyConfig,
  REAL_NODE,
  type ClusterStack,
  type ImageBuilder,
} from "../../cluster/workspace";
import { toolchain } from "../engine/harness";

export { EventLog } from "../engine/harness";

const provided = inject("cluster");
/** Why the cluster tests are skipped, or undefined when a cluster is there. */
export const skipReason: string | undefined = "skip" in provided ? provided.skip : undefined;
if (skipReason) console.warn(`[cluster tests] skipped: ${skipReason}`);

/**
 * Why the real-node tests are skipped (no cluster, or no Ready real node), or undefined when the
 * cluster has one (`npm run cluster:up -- --real-node`).
 */
export function realNodeSkipReason(): string | undefined {
  if (skipReason) return skipReason;
  const r = kubectlTry(["get", "node", REAL_NODE.name, "-o", "json"]);
  if (r.status !== 0) {
    return `the cluster has no real node (${REAL_NODE.name}): start it with \`npm run cluster:up -- --real-node\` (root and Debian packages, docs/cluster.md)`;
  }
  const node = JSON.parse(r.stdout) as KubeObject;
  const ready = (node.status?.conditions ?? []).find((c: { type: string }) => c.type === "Ready");
  return ready?.status === "True" ? undefined : `the real node ${REAL_NODE.name} is not Ready`;
}

/** Per-operation timeout: an `up` of production's shape waits for every rollout. */
export const CLUSTER_TIMEOUT_MS = 600_000;

function clusterInfo(): { kubeconfig: string; kubectl: string } {
  if ("skip" in provided) throw new Error(`no cluster: ${provided.skip}`);
  return provided;
}

/** kubectl against the test cluster; throws with its stderr when it fails. */
export function kubectl(args: readonly string[], input?: string): string {
  const { kubeconfig, kubectl: bin } = clusterInfo();
  const r = spawnSync(bin, ["--kubeconfig", kubeconfig, ...args], {
    encoding: "utf8",
    input,
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** kubectl that may fail: its status and output. */
export function kubectlTry(
  args: readonly string[],
  input?: string,
): { status: number | null; stdout: string; stderr: string } {
  const { kubeconfig, kubectl: bin } = clusterInfo();
  const r = spawnSync(bin, ["--kubeconfig", kubeconfig, ...args], {
    encoding: "utf8",
    input,
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An object as kubectl returns it; the tests read the fields of many kinds, so spec and status are loose. */
export interface KubeObject {
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read per kind by the tests
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read per kind by the tests
  status?: any;
}

/** `kubectl get <what> -o json` items. */
export function getItems(what: string, namespace?: string): KubeObject[] {
  const ns = namespace ? ["-n", namespace] : [];
  return (JSON.parse(kubectl(["get", what, ...ns, "-o", "json"])) as { items: KubeObject[] }).items;
}

/** Does a label selector (matchLabels and matchExpressions) select these labels? */
export function selects(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | Record<string, string>
    | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (!selector) return false;
  const sel =
    "matchLabels" in selector || "matchExpressions" in selector
      ? (selector as {
          matchLabels?: Record<string, string>;
          matchExpressions?: { key: string; operator: string; values?: string[] }[];
        })
      : { matchLabels: selector as Record<string, string> };
  const ml = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const me = (sel.matchExpressions ?? []).every((e) => {
    const has = e.key in labels;
    switch (e.operator) {
      case "In":
        return has && (e.values ?? []).includes(labels[e.key]);
      case "NotIn":
        return !has || !(e.values ?? []).includes(labels[e.key]);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      default:
        return false;
    }
  });
  return ml && me;
}

/** One stack's shape on the test cluster, in a sandbox of its own (workspace, backend, PULUMI_HOME). */
export class ClusterStackFixture {
  readonly dir: string;
  readonly stackName: ClusterStack;
  stack!: Stack;
  readonly workspaceDir: string;

  /** With the real node's image builder: our images built, pushed locally, run on the real node. */
  readonly builder?: ImageBuilder;

  constructor(stackName: ClusterStack, builder?: ImageBuilder) {
    this.stackName = stackName;
    this.builder = builder;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `monkeytown-cluster-${stackName}-`));
    this.workspaceDir = prepareWorkspace(stackName, path.join(this.dir, "ws"), builder).dir;
  }

  env(): Record<string, string> {
    if (!toolchain.ready) throw new Error("toolchain not ready");
    const { kubeconfig } = clusterInfo();
    fs.mkdirSync(path.join(this.dir, "state"), { recursive: true });
    fs.mkdirSync(path.join(this.dir, "home"), { recursive: true });
    return {
      PATH: path.dirname(clusterInfo().kubectl) + path.delimiter + toolchain.path,
      KUBECONFIG: kubeconfig,
      PULUMI_HOME: path.join(this.dir, "home"),
      PULUMI_BACKEND_URL: `file://${path.join(this.dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: CLUSTER_PASSPHRASE,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_NODEJS_TRANSPILE_ONLY: "true",
      // docker-build finds the node's builder in the Docker config it is registered in.
      ...(this.builder ? { DOCKER_CONFIG: this.builder.dockerConfig } : {}),
    };
  }

  /** Creates the stack and sets the secrets it needs (given values, else throwaway ones). */
  async open(secrets: Record<string, string> = {}): Promise<Stack> {
    if (!toolchain.ready) throw new Error("toolchain not ready");
    const pulumiCommand = await PulumiCommand.get({ root: toolchain.pulumiRoot });
    const ws = await LocalWorkspace.create({
      workDir: this.workspaceDir,
      pulumiHome: path.join(this.dir, "home"),
      envVars: this.env(),
      pulumiCommand,
      secretsProvider: "passphrase",
    });
    this.stack = await Stack.createOrSelect(this.stackName, ws);
    const { missingSecrets } = prepareWorkspace(
      this.stackName,
      path.join(this.dir, "ws"),
      this.builder,
    );
    for (const [key, value] of Object.entries({ ...missingSecrets, ...secrets })) {
      await this.stack.setConfig(key, { value, secret: true });
    }
    return this.stack;
  }

  /**
   * The deploy flow's record step (cluster/workspace.ts `pinnedColours`): every blue-green colour
   * stays at what runs. Run before each update after the first, as cluster:deploy does.
   */
  async pin(): Promise<Record<string, string>> {
    const outputs = Object.fromEntries(
      Object.entries(await this.stack.outputs()).map(([k, v]) => [k, v.value as unknown]),
    );
    const pins = pinnedColours(outputs);
    for (const [key, value] of Object.entries(pins)) {
      await this.stack.setConfig(key, { value }, true);
    }
    return pins;
  }

  /** The pack and the stack's own policy config, mandatory rules enforced. */
  policy(): { policyPacks: string[]; policyPackConfigs: string[] } {
    return {
      policyPacks: [path.join(REPO_ROOT, "policy")],
      policyPackConfigs: [this.policyConfig()],
    };
  }

  /** The stack's policy config file; with the real node's builder, the local registry allowed too. */
  policyConfig(): string {
    const own = path.join(REPO_ROOT, "policy", "config", `${this.stackName}.json`);
    if (!this.builder) return own;
    const file = path.join(this.dir, `policy-config.${this.stackName}.json`);
    const config = JSON.parse(fs.readFileSync(own, "utf8")) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify(realNodePolicyConfig(config, this.builder), null, 2));
    return file;
  }

  /**
   * Runs the pulumi CLI on this stack (for what the Automation API does not expose). Asynchronous on
   * purpose: a worker that blocks its event loop for more than vitest's 60 s RPC timeout (a refreshing
   * preview under load does) fails the run with "Timeout calling onTaskUpdate".
   */
  cli(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        "pulumi",
        [...args, "--stack", this.stackName, "--cwd", this.workspaceDir],
        {
          env: { ...process.env, ...this.env() },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), CLUSTER_TIMEOUT_MS);
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on("close", (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls f every 0.5 s until it returns a value (errors count as not yet). */
export async function until<T>(
  what: string,
  seconds: number,
  f: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${seconds} s${last ? ` (${String(last)})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
