/**
 * `npm run bench:cluster`: the live-cluster figures, in one run, side by side:
 *   - cluster start with cached binaries (`cluster/down.sh`, then `cluster/up.sh`, timed);
 *   - `pulumi up` of production's shape (cluster/overrides/production.yaml over the real stack file,
 *     production's policy config) on a new stack, against the floor (bench/floor: only a Kubernetes
 *     provider) on the same cluster;
 *   - a second `up` (no changes) of each;
 *   - `destroy` of each (production's resources unprotected first).
 * Rounds interleave production and the floor so that load from other processes hits them alike;
 * medians are printed with the ratio. BENCH_RUNS (default 3) rounds.
 *
 * Needs the toolchain and the cluster's binaries (`npm run toolchain`, `npm run cluster:up`). A
 * running local cluster is restarted for the start-up figure and left running.
 */
import { spawnSync, type SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  CLUSTER_PASSPHRASE,
  REPO_ROOT,
  pinnedColours,
  prepareWorkspace,
} from "../cluster/workspace";
import { clusterBinDir, localKubeconfig } from "../cluster/local";

const RUNS = Number(process.env.BENCH_RUNS ?? "3");

function fail(message: string): never {
  console.error(`bench:cluster: ${message}`);
  process.exit(1);
}

function timed<T>(f: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = f();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

function check(r: SpawnSyncReturns<string>, what: string): void {
  if (r.status !== 0)
    fail(`${what} failed:\n${(r.stdout ?? "").slice(-3000)}\n${(r.stderr ?? "").slice(-3000)}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (s: number) => `${s.toFixed(1)} s`;

// ---- toolchain and cluster -----------------------------------------------------------------
if (
  spawnSync("bash", [path.join(REPO_ROOT, "scripts", "pulumi-toolchain.sh"), "--check"]).status !==
  0
) {
  fail("the Pulumi toolchain is not ready: run `npm run toolchain` first");
}
if (spawnSync("bash", [path.join(REPO_ROOT, "cluster", "build.sh"), "--check"]).status !== 0) {
  fail("the cluster's binaries are not built: run `npm run cluster:up` once first");
}
const toolPath = spawnSync(
  "bash",
  [
    "-c",
    'eval "$(bash "$0")" && printf "%s" "$PATH"',
    path.join(REPO_ROOT, "scripts", "pulumi-toolchain.sh"),
  ],
  { encoding: "utf8", env: { ...process.env, PULUMI_TOOLCHAIN_QUIET: "1" } },
).stdout;

const starts: number[] = [];
for (let i = 0; i < 2; i++) {
  check(
    spawnSync("bash", [path.join(REPO_ROOT, "cluster", "down.sh")], { encoding: "utf8" }),
    "cluster:down",
  );
  const [r, s] = timed(() =>
    spawnSync("bash", [path.join(REPO_ROOT, "cluster", "up.sh"), "--print-env"], {
      encoding: "utf8",
    }),
  );
  check(r, "cluster:up");
  starts.push(s);
}

// ---- the two programs ----------------------------------------------------------------------
const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "monkeytown-bench-cluster-"));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: [clusterBinDir(), toolPath].filter(Boolean).join(path.delimiter),
  KUBECONFIG: localKubeconfig(),
  PULUMI_HOME: path.join(sandbox, "home"),
  PULUMI_BACKEND_URL: `file://${path.join(sandbox, "state")}`,
  PULUMI_CONFIG_PASSPHRASE: CLUSTER_PASSPHRASE,
  PULUMI_SKIP_UPDATE_CHECK: "true",
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  PULUMI_NODEJS_TRANSPILE_ONLY: "true",
};
fs.mkdirSync(path.join(sandbox, "state"), { recursive: true });

function pulumi(args: string[], cwd: string, input?: string): SpawnSyncReturns<string> {
  return spawnSync("pulumi", [...args, "--non-interactive"], {
    cwd,
    env,
    encoding: "utf8",
    input,
    maxBuffer: 64 * 1024 * 1024,
  });
}

interface Program {
  readonly name: string;
  readonly cwd: string;
  readonly stack: string;
  readonly extra: string[];
  readonly setup: (stack: string) => void;
}

const production: Program = {
  name: "production's shape",
  cwd: prepareWorkspace("production", path.join(sandbox, "ws")).dir,
  stack: "production",
  extra: [
    "--policy-pack",
    path.join(REPO_ROOT, "policy"),
    "--policy-pack-config",
    path.join(REPO_ROOT, "policy", "config", "production.json"),
  ],
  setup: (stack) => {
    const { missingSecrets } = prepareWorkspace("production", path.join(sandbox, "ws"));
    for (const [key, value] of Object.entries(missingSecrets)) {
      check(
        pulumi(["config", "set", "--secret", key, "--stack", stack], production.cwd, value),
        `config set ${key}`,
      );
    }
  },
};
const floorConfig = path.join(sandbox, "Pulumi.floor.yaml");
const floor: Program = {
  name: "floor (a provider only)",
  cwd: path.join(REPO_ROOT, "bench", "floor"),
  stack: "cluster-floor",
  extra: ["--config-file", floorConfig],
  setup: () => fs.writeFileSync(floorConfig, "config: {}\n"),
};

const figures: Record<string, Record<"up" | "again" | "destroy", number[]>> = {};
for (const p of [production, floor]) figures[p.name] = { up: [], again: [], destroy: [] };

for (let round = 0; round < RUNS; round++) {
  for (const p of [production, floor]) {
    const stack = `${p.stack}`;
    check(
      pulumi(["stack", "init", stack, "--secrets-provider", "passphrase"], p.cwd),
      `stack init ${stack}`,
    );
    p.setup(stack);
    const [up, tUp] = timed(() => pulumi(["up", "--yes", "--stack", stack, ...p.extra], p.cwd));
    check(up, `${p.name}: up`);
    // The deploy flow's record step (as cluster:deploy does): keep each blue-green colour at what runs.
    const outputs = pulumi(
      [
        "stack",
        "output",
        "--json",
        "--stack",
        stack,
        ...p.extra.filter((a, i, all) => a === "--config-file" || all[i - 1] === "--config-file"),
      ],
      p.cwd,
    );
    if (outputs.status === 0 && outputs.stdout.trim() !== "") {
      for (const [key, value] of Object.entries(pinnedColours(JSON.parse(outputs.stdout)))) {
        check(
          pulumi(["config", "set", "--path", key, value, "--stack", stack], p.cwd),
          `pin ${key}`,
        );
      }
    }
    const [again, tAgain] = timed(() =>
      pulumi(["up", "--yes", "--expect-no-changes", "--stack", stack, ...p.extra], p.cwd),
    );
    check(again, `${p.name}: second up`);
    check(pulumi(["state", "unprotect", "--all", "--yes", "--stack", stack], p.cwd), "unprotect");
    const destroyExtra = p.extra.filter(
      (a, i, all) => a === "--config-file" || all[i - 1] === "--config-file",
    );
    const [destroy, tDestroy] = timed(() =>
      pulumi(["destroy", "--yes", "--stack", stack, ...destroyExtra], p.cwd),
    );
    check(destroy, `${p.name}: destroy`);
    check(pulumi(["stack", "rm", "--yes", "--stack", stack, ...destroyExtra], p.cwd), "stack rm");
    figures[p.name].up.push(tUp);
    figures[p.name].again.push(tAgain);
    figures[p.name].destroy.push(tDestroy);
    console.error(
      `bench:cluster: round ${round + 1}/${RUNS} ${p.name}: up ${fmt(tUp)}, again ${fmt(tAgain)}, destroy ${fmt(tDestroy)}`,
    );
  }
}
fs.rmSync(sandbox, { recursive: true, force: true });

const prod = figures[production.name];
const fl = figures[floor.name];
console.log(
  `\nLive cluster (kwok nodes), ${RUNS} rounds, medians; machine: ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
);
console.log(`| what | production's shape | floor | ratio |`);
console.log(`|---|---|---|---|`);
for (const [label, key] of [
  ["first `up`", "up"],
  ["second `up` (no changes)", "again"],
  ["`destroy`", "destroy"],
] as const) {
  console.log(
    `| ${label} | ${fmt(median(prod[key]))} | ${fmt(median(fl[key]))} | ${(median(prod[key]) / median(fl[key])).toFixed(2)} × |`,
  );
}
console.log(`| cluster start, binaries cached (2 runs) | ${starts.map(fmt).join(", ")} | – | – |`);
