/**
 * `npm run bench:zero-downtime`: the seed's zero-downtime and recovery promises (architecture seed
 * §4, §9.1), measured on real pods of our own images under constant load (bench/load.ts), on the
 * local cluster's real node:
 *
 *   1. production: the web Deployment rolls to a new image (a new commit's build);
 *   2. staging: the API Deployment rolls to a new image (staging's API rolls; production's is
 *      blue-green);
 *   3. production: the deploy flow of deploy-stack.yml with a new commit: the idle colour gets the
 *      release, is smoke-tested through api-preview, the traffic switches (scripts/blue-green.sh);
 *   4. production: a bad web image (one that never becomes ready) is deployed through the same
 *      flow; the update fails when the rollout deadline passes, and the flow's automated rollback
 *      (scripts/rollback.sh colors) restores what ran; the time from the failed deploy to healthy
 *      again is set against the seed's 1 minute;
 *   5. a container crashes (SIGKILL) or hangs (SIGSTOP: it stops answering its liveness probe),
 *      web and API: the time until that pod serves again, against the seed's 30 s.
 *
 * Load: new connections at a constant rate to the stacks' Services (kube-proxy's ClusterIPs) from
 * this host, counted, time-limited, and stopped by itself; pods are probed by their IPs on the
 * node's bridge. Nothing else is addressed. Every `pulumi up` and script runs as the deploy
 * workflow runs them, with the policy pack and the stack's policy config (the local registry
 * allowed), in a sandbox (workspace, state, PULUMI_HOME) removed at the end with both stacks.
 *
 * Needs the toolchain and the cluster's binaries; starts the cluster with its real node when none
 * is up (`npm run cluster:up -- --real-node`) and stops it again at the end. Knobs:
 * BENCH_RATE (requests per second, default 20), BENCH_ROLLOUT_TIMEOUT (the stacks'
 * recovery.rolloutTimeoutSeconds here, default 60: scenario 4 waits that long for the deadline).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { checkTargets, formatLoad, startLoad, type LoadReport, type LoadTarget } from "./load";
import { ensureDockerBuildPlugin, ensureImageBuilder } from "../cluster/image-builder";
import { clusterBinDir, localKubeconfig, realNodeContainerPid } from "../cluster/local";
import {
  CLUSTER_PASSPHRASE,
  REAL_NODE,
  REPO_ROOT,
  prepareWorkspace,
  realNodePolicyConfig,
  type ClusterStack,
  type ImageBuilder,
} from "../cluster/workspace";

const RATE = Number(process.env.BENCH_RATE ?? "20");
const ROLLOUT_TIMEOUT = Number(process.env.BENCH_ROLLOUT_TIMEOUT ?? "60");
/** The local cluster's Service and pod ranges (cluster/lib.sh): the only addresses used. */
const OWNED_RANGES = ["10.96.0.0/12", "10.244.0.0/16"];
/** Seed targets, seconds (§9.1). */
const TARGETS = { rollbackSeconds: 60, containerSeconds: 30 } as const;

function say(message: string): void {
  console.error(`bench:zero-downtime: ${message}`);
}

function fail(message: string): never {
  console.error(`bench:zero-downtime: ERROR: ${message}`);
  process.exit(1);
}

const now = () => performance.now() / 1000;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command without blocking the load generator's event loop. */
function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const t0 = now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr, seconds: now() - t0 }));
  });
}

function must(r: Run, what: string): Run {
  if (r.status !== 0) fail(`${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** `key=value` lines (the scripts' $GITHUB_OUTPUT format). */
function lines(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .map((l) => /^([A-Za-z]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

/** The cluster: the running local one with a Ready real node, or one this run starts (and stops). */
function ensureCluster(kubectl: string): { started: boolean } {
  const kubeconfig = localKubeconfig();
  const nodeReady = () => {
    if (!fs.existsSync(kubeconfig)) return false;
    const r = spawnSync(
      kubectl,
      [
        "--kubeconfig",
        kubeconfig,
        "get",
        "node",
        REAL_NODE.name,
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    return r.status === 0 && r.stdout.trim() === "True";
  };
  if (nodeReady()) return { started: false };
  say("no local cluster with a Ready real node: starting one (cluster/up.sh --real-node)");
  const up = spawnSync("bash", [path.join(REPO_ROOT, "cluster", "up.sh"), "--real-node"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (up.status !== 0 || !nodeReady())
    fail("the cluster with its real node did not start (see above)");
  return { started: true };
}

/** One stack in the sandbox, driven with the pulumi CLI and the repository's scripts. */
class BenchStack {
  readonly dir: string;
  readonly policyConfig: string;
  urls: { web: string; api: string; preview?: string } = { web: "", api: "" };

  constructor(
    readonly name: ClusterStack,
    readonly sandbox: string,
    readonly builder: ImageBuilder,
    readonly baseEnv: NodeJS.ProcessEnv,
  ) {
    this.dir = prepareWorkspace(name, path.join(sandbox, "ws"), builder).dir;
    this.policyConfig = path.join(sandbox, `policy-config.${name}.json`);
    const own = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, "policy", "config", `${name}.json`), "utf8"),
    ) as Record<string, unknown>;
    fs.writeFileSync(
      this.policyConfig,
      JSON.stringify(realNodePolicyConfig(own, builder), null, 2),
    );
  }

  env(): NodeJS.ProcessEnv {
    return {
      ...this.baseEnv,
      MONKEYTOWN_PROJECT_DIR: this.dir,
      MONKEYTOWN_POLICY_CONFIG: this.policyConfig,
      ...(this.urls.web ? { HEALTH_URLS: `${this.urls.web} ${this.urls.api}` } : {}),
    };
  }

  pulumi(args: readonly string[]): Promise<Run> {
    return run(
      "pulumi",
      [...args, "--stack", this.name, "--cwd", this.dir, "--non-interactive"],
      this.env(),
    );
  }

  script(name: string, args: readonly string[]): Promise<Run> {
    return run("bash", [path.join(REPO_ROOT, "scripts", name), ...args], this.env());
  }

  async setConfig(key: string, value: string): Promise<void> {
    must(await this.pulumi(["config", "set", "--path", key, value]), `config set ${key}`);
  }

  up(message: string): Promise<Run> {
    return this.pulumi([
      "up",
      "--yes",
      "--skip-preview",
      "--policy-pack",
      path.join(REPO_ROOT, "policy"),
      "--policy-pack-config",
      this.policyConfig,
      "--message",
      message,
    ]);
  }

  async create(secrets: Record<string, string>): Promise<void> {
    must(
      await this.pulumi(["stack", "select", "--create", "--secrets-provider", "passphrase"]),
      `create stack ${this.name}`,
    );
    for (const [key, value] of Object.entries(secrets)) {
      const r = spawnSync(
        "pulumi",
        ["config", "set", "--secret", key, "--stack", this.name, "--cwd", this.dir],
        {
          env: this.env(),
          input: value,
          encoding: "utf8",
        },
      );
      if (r.status !== 0) fail(`config set --secret ${key}: ${r.stderr}`);
    }
    await this.setConfig("monkeytown:recovery.rolloutTimeoutSeconds", String(ROLLOUT_TIMEOUT));
  }

  async outputs(): Promise<Record<string, unknown>> {
    const r = must(await this.pulumi(["stack", "output", "--json"]), "stack output");
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  async images(): Promise<{ web: string; api: string }> {
    return (await this.outputs()).images as { web: string; api: string };
  }
}

/** kubectl against the cluster, JSON out. */
function kubeJson(kubectl: string, args: readonly string[]): { items: KubePod[] } & KubePod {
  const r = spawnSync(kubectl, ["--kubeconfig", localKubeconfig(), ...args, "-o", "json"], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { items: KubePod[] } & KubePod;
}

interface KubePod {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    clusterIP?: string;
    ports?: { port: number }[];
    nodeName?: string;
    selector?: Record<string, string>;
  };
  status: {
    podIP?: string;
    phase?: string;
    containerStatuses?: { containerID: string; restartCount: number; ready: boolean }[];
  };
}

function serviceUrl(kubectl: string, namespace: string, name: string): string {
  const svc = kubeJson(kubectl, ["get", "service", name, "-n", namespace]);
  return `http://${svc.spec.clusterIP}:${svc.spec.ports![0].port}`;
}

/** GET url; resolves with the status, or 0 on any error or after timeoutMs. */
function probe(url: string, timeoutMs = 500): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve(0));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

interface Row {
  scenario: string;
  report: LoadReport;
  /** Seconds of the change itself (the update, the flow). */
  changeSeconds: number;
  /** Recovery figure and its target, when the scenario has one. */
  recovery?: { label: string; seconds: number; target: number };
  note?: string;
}

/** Runs `change` under load on `targets`; traffic goes on `tailSeconds` after it (old pods leaving). */
async function underLoad(
  targets: LoadTarget[],
  change: () => Promise<void>,
  tailSeconds = 10,
): Promise<{ report: LoadReport; changeSeconds: number }> {
  const load = startLoad({
    targets,
    ratePerSecond: RATE,
    maxRequests: RATE * 900,
    maxSeconds: 900,
    allowedRanges: OWNED_RANGES,
  });
  // A few seconds of steady traffic first, as a baseline.
  await new Promise((r) => setTimeout(r, 3_000));
  const t0 = now();
  await change();
  const changeSeconds = now() - t0;
  await new Promise((r) => setTimeout(r, tailSeconds * 1000));
  return { report: await load.stop(), changeSeconds };
}

const webTargets = (s: BenchStack): LoadTarget[] => [
  { name: `${s.name} web`, url: `${s.urls.web}/`, expectBody: 'id="root"' },
];
const apiTargets = (s: BenchStack): LoadTarget[] => [
  { name: `${s.name} api`, url: `${s.urls.api}/api/v1/status`, expectBody: '"ok"' },
];

/** deploy-stack.yml's flow: record, stage (blue-green), up, smoke, switch, health check; rollback on failure. */
async function deployFlow(
  s: BenchStack,
  message: string,
): Promise<{ ok: boolean; failedAt?: number; healthyAt?: number; steps: string[] }> {
  const steps: string[] = [];
  const before = lines(
    must(await s.script("rollback.sh", ["deployed", s.name]), "rollback.sh deployed").stdout,
  );
  const stage = lines(
    must(await s.script("blue-green.sh", ["stage", s.name]), "blue-green.sh stage").stdout,
  );
  let failed: string | undefined;
  const up = await s.up(message);
  steps.push(`up ${up.seconds.toFixed(1)} s`);
  if (up.status !== 0) failed = "up";
  if (!failed && stage.idleColor) {
    const smoke = await s.script("blue-green.sh", ["smoke", s.name]);
    steps.push(`smoke ${smoke.seconds.toFixed(1)} s`);
    if (smoke.status !== 0) failed = "smoke";
    if (!failed) {
      const sw = await s.script("blue-green.sh", ["switch", s.name, stage.idleImage ?? ""]);
      steps.push(`switch ${sw.seconds.toFixed(1)} s`);
      if (sw.status !== 0) failed = "switch";
    }
  }
  if (!failed) {
    const health = await s.script("health-check.sh", [s.name]);
    steps.push(`health ${health.seconds.toFixed(1)} s`);
    if (health.status !== 0) failed = "health";
  }
  if (!failed) return { ok: true, steps };
  const failedAt = now();
  steps.push(`failed at ${failed}`);
  const back = before.activeColor
    ? await s.script("rollback.sh", [
        "colors",
        s.name,
        before.webImage,
        before.activeColor,
        before.blueImage,
        before.greenImage,
      ])
    : await s.script("rollback.sh", ["to", s.name, before.webImage, before.apiImage]);
  must(back, "the automated rollback");
  steps.push(`rollback ${back.seconds.toFixed(1)} s`);
  return { ok: false, failedAt, healthyAt: now(), steps };
}

/** Every process in the cgroup of host process `pid` (the container's), from /proc and /sys/fs/cgroup. */
function containerProcesses(pid: number): number[] {
  const cgroups = fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n");
  // The unified hierarchy where it is mounted ("0::/path"), else cgroup v1's pids hierarchy
  // ("N:pids:/path"; a hybrid host lists a "0::" line too, for a hierarchy not at /sys/fs/cgroup).
  const unified = fs.existsSync("/sys/fs/cgroup/cgroup.controllers");
  const line = unified
    ? cgroups.find((l) => l.startsWith("0::"))
    : cgroups.find((l) => l.split(":")[1]?.split(",").includes("pids"));
  if (!line) fail(`cannot find the cgroup of process ${pid}`);
  const file = unified
    ? path.join("/sys/fs/cgroup", line.slice(3), "cgroup.procs")
    : path.join("/sys/fs/cgroup/pids", line.split(":")[2], "cgroup.procs");
  const pids = fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map(Number)
    .filter((n) => n > 0);
  if (!pids.includes(pid)) fail(`${file} does not hold the container's process ${pid}`);
  return pids;
}

/** Scenario 5: kill or freeze one pod's container from the host; seconds until that pod serves again. */
async function containerFault(
  kubectl: string,
  namespace: string,
  component: "web" | "api",
  signal: "SIGKILL" | "SIGSTOP",
  faulted: Set<string>,
): Promise<{ seconds: number; pod: string }> {
  // Pods behind the tier's Service (blue-green: the serving colour's).
  const selector = kubeJson(kubectl, ["get", "service", component, "-n", namespace]).spec.selector!;
  const pods = kubeJson(kubectl, ["get", "pods", "-n", namespace]).items.filter(
    (p) =>
      Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v) &&
      p.status.phase === "Running" &&
      p.status.containerStatuses?.[0]?.ready,
  );
  if (pods.length === 0) fail(`no ready ${component} pod behind its Service`);
  // A pod not faulted before: a second restart within 10 minutes waits out the kubelet's back-off
  // (10 s, then doubling), which is not what the seed's 30 s is about.
  const pod = pods.find((p) => !faulted.has(p.metadata.name));
  if (!pod) fail(`every ready ${component} pod has had a fault in this run`);
  faulted.add(pod.metadata.name);
  const port = component === "web" ? 8080 : 3000;
  const url = `http://${pod.status.podIP}:${port}/ready`;
  checkTargets([{ name: pod.metadata.name, url }], OWNED_RANGES);
  if ((await probe(url)) !== 200) fail(`${pod.metadata.name} does not serve before the fault`);
  const pid = realNodeContainerPid(pod.status.containerStatuses![0].containerID);
  // A crash kills the container's init (the kernel takes the rest of its PID namespace with it); a
  // hang freezes every process of it (nginx's workers too, or they would go on serving).
  const pids = signal === "SIGKILL" ? [pid] : containerProcesses(pid);
  const t0 = now();
  for (const p of pids) process.kill(p, signal);
  // The old process is gone (killed) or frozen: the first 200 comes from the restarted container.
  for (;;) {
    if (now() - t0 > 180) fail(`${pod.metadata.name} did not serve again within 180 s`);
    await new Promise((r) => setTimeout(r, 200));
    if ((await probe(url)) === 200) return { seconds: now() - t0, pod: pod.metadata.name };
  }
}

function table(rows: Row[]): string {
  const head = ["scenario", "requests", "failed", "p99 ms", "change s", "recovery", "target"];
  const body = rows.map((r) => [
    r.scenario,
    r.report.sent.toLocaleString("en"),
    String(r.report.failed),
    r.report.latencyMs.p99.toFixed(1),
    r.changeSeconds.toFixed(1),
    r.recovery ? `${r.recovery.label} ${r.recovery.seconds.toFixed(1)} s` : "–",
    r.recovery ? `${r.recovery.target} s` : "0 failed",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  return [fmt(head), fmt(widths.map((w) => "-".repeat(w))), ...body.map(fmt)].join("\n");
}

async function main(): Promise<void> {
  const bin = clusterBinDir();
  if (!bin) fail("the cluster's binaries are not built: `npm run cluster:up -- --real-node` first");
  const kubectl = path.join(bin, "kubectl");
  const toolchain = spawnSync("bash", [path.join(REPO_ROOT, "scripts", "pulumi-toolchain.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const pathLine = /^export PATH=(.*)$/m.exec(toolchain.stdout ?? "");
  if (toolchain.status !== 0 || !pathLine)
    fail("the Pulumi toolchain is not available (`npm run toolchain`)");
  const toolPath = spawnSync("bash", ["-c", `printf %s ${pathLine[1]}`], {
    encoding: "utf8",
  }).stdout;

  const { started } = ensureCluster(kubectl);
  for (const ns of ["monkeytown", "monkeytown-staging"]) {
    if (
      spawnSync(kubectl, ["--kubeconfig", localKubeconfig(), "get", "namespace", ns]).status === 0
    ) {
      fail(
        `namespace ${ns} exists: remove the stack there first (\`npm run cluster:deploy -- <stack> unprotect\`, then \`destroy\`)`,
      );
    }
  }
  const builder = ensureImageBuilder(say);
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "monkeytown-zero-downtime-"));
  const home = path.join(sandbox, "home");
  fs.mkdirSync(path.join(sandbox, "state"), { recursive: true });
  fs.mkdirSync(home, { recursive: true });
  ensureDockerBuildPlugin(home);
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [bin, toolPath].join(path.delimiter),
    KUBECONFIG: localKubeconfig(),
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${path.join(sandbox, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: CLUSTER_PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    DOCKER_CONFIG: builder.dockerConfig,
  };
  const production = new BenchStack("production", sandbox, builder, baseEnv);
  const staging = new BenchStack("staging", sandbox, builder, baseEnv);
  const rows: Row[] = [];
  const cleanup = async () => {
    for (const s of [production, staging]) {
      await s.pulumi(["state", "unprotect", "--all", "--yes"]);
      const d = await s.pulumi(["destroy", "--yes", "--skip-preview"]);
      if (d.status !== 0) say(`destroy of ${s.name} failed: ${d.stderr.slice(-2000)}`);
    }
    fs.rmSync(sandbox, { recursive: true, force: true });
    if (started)
      spawnSync("bash", [path.join(REPO_ROOT, "cluster", "down.sh")], { stdio: "inherit" });
  };

  try {
    for (const s of [production, staging]) {
      const secrets = prepareWorkspace(s.name, path.join(sandbox, "ws"), builder).missingSecrets;
      await s.create(secrets);
      const up = must(await s.up("bench: first deploy"), `first deploy of ${s.name}`);
      say(`${s.name} deployed in ${up.seconds.toFixed(1)} s`);
      const ns = s.name === "production" ? "monkeytown" : "monkeytown-staging";
      s.urls = { web: serviceUrl(kubectl, ns, "web"), api: serviceUrl(kubectl, ns, "api") };
    }

    // 1. production's web tier rolls to a new commit's image (the API colours stay pinned).
    {
      const before = await production.images();
      const { report, changeSeconds } = await underLoad(webTargets(production), async () => {
        must(await production.script("blue-green.sh", ["pin", "production"]), "pin");
        await production.setConfig("monkeytown:registry.tag", "bench-web-2");
        must(await production.up("bench: web rolls"), "scenario 1 up");
      });
      const after = await production.images();
      if (after.web === before.web) fail("scenario 1: the web image did not change");
      rows.push({ scenario: "1. web rolling update (production, 2 pods)", report, changeSeconds });
    }

    // 2. staging's API (rolling) and web roll to a new commit's images.
    {
      const before = await staging.images();
      const { report, changeSeconds } = await underLoad(
        [...apiTargets(staging), ...webTargets(staging)],
        async () => {
          await staging.setConfig("monkeytown:registry.tag", "bench-api-2");
          must(await staging.up("bench: api rolls"), "scenario 2 up");
        },
      );
      const after = await staging.images();
      if (after.api === before.api) fail("scenario 2: the API image did not change");
      rows.push({ scenario: "2. API rolling update (staging, 1 pod)", report, changeSeconds });
    }

    // 3. production's deploy flow with a new commit: stage on the idle colour, smoke, switch.
    {
      const before = (await production.outputs()).apiActiveColor;
      let steps: string[] = [];
      const { report, changeSeconds } = await underLoad(
        [...apiTargets(production), ...webTargets(production)],
        async () => {
          await production.setConfig("monkeytown:registry.tag", "bench-bg-3");
          const flow = await deployFlow(production, "bench: blue-green release");
          steps = flow.steps;
          if (!flow.ok) fail(`scenario 3: the deploy flow failed (${steps.join(", ")})`);
        },
      );
      const after = (await production.outputs()).apiActiveColor;
      if (after === before)
        fail(`scenario 3: the traffic did not switch (${before} before and after)`);
      rows.push({
        scenario: `3. blue-green release (${before} -> ${after})`,
        report,
        changeSeconds,
        note: steps.join(", "),
      });
    }

    // 4. a bad web image (the API's image: nothing listens on the web port, never ready).
    {
      const good = await production.images();
      let flow: Awaited<ReturnType<typeof deployFlow>> | undefined;
      const { report, changeSeconds } = await underLoad(
        [...webTargets(production), ...apiTargets(production)],
        async () => {
          await production.setConfig("monkeytown:webImage", good.api);
          flow = await deployFlow(production, "bench: a bad web image");
        },
      );
      if (!flow || flow.ok) fail("scenario 4: the bad image deployed successfully");
      const restored = await production.images();
      if (restored.web !== good.web) fail(`scenario 4: the rollback left web at ${restored.web}`);
      rows.push({
        scenario: `4. bad web image, automated rollback (deadline ${ROLLOUT_TIMEOUT} s)`,
        report,
        changeSeconds,
        recovery: {
          label: "rollback",
          seconds: flow.healthyAt! - flow.failedAt!,
          target: TARGETS.rollbackSeconds,
        },
        note: flow.steps.join(", "),
      });
    }

    // 5. container crash and hang, web and API, each on another pod.
    const faulted = new Set<string>();
    for (const [component, signal, label] of [
      ["api", "SIGKILL", "crash"],
      ["web", "SIGKILL", "crash"],
      ["api", "SIGSTOP", "hang"],
      ["web", "SIGSTOP", "hang"],
    ] as const) {
      let fault = { seconds: 0, pod: "" };
      const { report, changeSeconds } = await underLoad(
        component === "web" ? webTargets(production) : apiTargets(production),
        async () => {
          fault = await containerFault(kubectl, "monkeytown", component, signal, faulted);
        },
      );
      rows.push({
        scenario: `5. ${component} container ${label} (${signal}, ${fault.pod})`,
        report,
        changeSeconds,
        recovery: {
          label: "serves again",
          seconds: fault.seconds,
          target: TARGETS.containerSeconds,
        },
      });
    }
  } finally {
    say("removing both stacks and the sandbox");
    await cleanup();
    // What was measured, also when a later scenario failed.
    if (rows.length > 0) {
      console.log(
        `\nZero downtime and recovery on the real node, ${RATE} requests/s, new connection each:\n`,
      );
      console.log(table(rows));
      console.log("");
      for (const r of rows) {
        console.log(`${r.scenario}: ${formatLoad(r.report)}${r.note ? `; ${r.note}` : ""}`);
      }
    }
  }
}

main().catch((e: Error) => fail(e.stack ?? e.message));
