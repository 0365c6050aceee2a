/**
 * `npm run bench:preview`: wall time of `pulumi preview` of the dev stack against the floor (an
 * empty program with the same runtime, Kubernetes provider in render mode and backend:
 * bench/floor/), each with and without the policy pack, on the real engine. Prints the median of
 * several runs (after one warm-up per variant; rounds interleave the variants so that load from
 * other processes hits them alike) and checks the targets:
 *   dev's preview <= 1.5 x the floor's, and the policy pack adding <= 25 % to dev's preview.
 *
 * Both TypeScript modes of the Node.js SDK are measured: `typecheck` (ts-node type-checks the
 * program at start-up: the SDK's default) and `transpile` (PULUMI_NODEJS_TRANSPILE_ONLY=true, what
 * scripts/up-dev.sh and scripts/preview.sh use; `npm run typecheck` does the type checking). ts-node
 * caches compiled files by content, so a warm run compiles nothing; `cold` variants give each run an
 * empty ts-node cache (TS_NODE_CACHE_DIRECTORY), as after a fresh clone or an edit of every file.
 *
 * Environment: BENCH_RUNS (default 5), BENCH_MODES (default "transpile typecheck").
 * Needs the toolchain (scripts/pulumi-toolchain.sh); uses a temporary backend and PULUMI_HOME.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? "5");
const MODES = (process.env.BENCH_MODES ?? "transpile typecheck").split(/\s+/).filter((m) => m !== "") as Mode[];
const DEV_PASSPHRASE = "monkeytown-dev";
type Mode = "transpile" | "typecheck";

interface Variant {
  readonly name: string;
  readonly cwd: string;
  readonly stack: string;
  readonly policy: boolean;
  readonly mode: Mode;
  /** An empty ts-node cache for every run. */
  readonly cold: boolean;
}

function fail(message: string): never {
  console.error(`bench:preview: ${message}`);
  process.exit(1);
}

function toolchainPath(): string {
  const script = path.join(ROOT, "scripts", "pulumi-toolchain.sh");
  if (spawnSync("bash", [script, "--check"]).status !== 0) {
    fail("the Pulumi toolchain is not ready (`bash scripts/pulumi-toolchain.sh --check` failed): run `npm run toolchain` first");
  }
  const r = spawnSync("bash", ["-c", 'eval "$(bash "$0")" && printf "%s" "$PATH"', script], {
    encoding: "utf8",
    env: { ...process.env, PULUMI_TOOLCHAIN_QUIET: "1" },
  });
  if (r.status !== 0) fail(`scripts/pulumi-toolchain.sh failed: ${r.stderr}`);
  return r.stdout;
}

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "monkeytown-bench-preview-"));
// Render mode: KUBECONFIG must be unset (pulumi-kubernetes#3498; an empty one is rejected too).
const inherited: NodeJS.ProcessEnv = { ...process.env };
delete inherited.KUBECONFIG;
const env: NodeJS.ProcessEnv = {
  ...inherited,
  PATH: toolchainPath(),
  PULUMI_HOME: path.join(sandbox, "home"),
  PULUMI_BACKEND_URL: `file://${path.join(sandbox, "state")}`,
  PULUMI_CONFIG_PASSPHRASE: DEV_PASSPHRASE,
  PULUMI_SKIP_UPDATE_CHECK: "true",
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
};
fs.mkdirSync(path.join(sandbox, "home"));
fs.mkdirSync(path.join(sandbox, "state"));

function pulumi(cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): { ms: number; out: string; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("pulumi", args, { cwd, env: { ...env, ...extraEnv }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, out: `${r.stdout}${r.stderr}`, status: r.status };
}

function preview(v: Variant): number {
  const args = ["preview", "--non-interactive", "--stack", v.stack];
  if (v.policy) args.push("--policy-pack", path.join(ROOT, "policy"), "--policy-pack-config", path.join(ROOT, "policy", "config", "dev.json"));
  const extra: NodeJS.ProcessEnv = { PULUMI_NODEJS_TRANSPILE_ONLY: v.mode === "transpile" ? "true" : "false" };
  if (v.cold) extra.TS_NODE_CACHE_DIRECTORY = fs.mkdtempSync(path.join(sandbox, "ts-node-cache-"));
  const r = pulumi(v.cwd, args, extra);
  if (r.status !== 0) fail(`${v.name}: pulumi ${args.join(" ")} failed:\n${r.out}`);
  return r.ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

try {
  const floorDir = path.join(ROOT, "bench", "floor");
  for (const [cwd, stack] of [
    [floorDir, "floor"],
    [ROOT, "dev"],
  ]) {
    const r = pulumi(cwd, ["stack", "select", "--create", stack, "--secrets-provider", "passphrase", "--non-interactive"]);
    if (r.status !== 0) fail(`stack ${stack}: ${r.out}`);
  }

  const variants: Variant[] = MODES.flatMap((mode) =>
    [false, true].flatMap((cold) => {
      const tag = `${mode}${cold ? " cold" : ""}`;
      return [
        { name: `floor ${tag}`, cwd: floorDir, stack: "floor", policy: false, mode, cold },
        { name: `floor+policy ${tag}`, cwd: floorDir, stack: "floor", policy: true, mode, cold },
        { name: `dev ${tag}`, cwd: ROOT, stack: "dev", policy: false, mode, cold },
        { name: `dev+policy ${tag}`, cwd: ROOT, stack: "dev", policy: true, mode, cold },
      ];
    }),
  );
  console.log(`bench:preview: ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}; ${RUNS} runs per variant after 1 warm-up`);
  for (const v of variants) preview(v); // warm-up: OS caches, ts-node caches, plugin start-up
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const v of variants) times.get(v.name)!.push(preview(v));
  }

  console.log("\nvariant                         median      min      max");
  const med = new Map<string, number>();
  for (const v of variants) {
    const t = times.get(v.name)!;
    med.set(v.name, median(t));
    console.log(`${v.name.padEnd(29)} ${sec(median(t)).padStart(8)} ${sec(Math.min(...t)).padStart(8)} ${sec(Math.max(...t)).padStart(8)}`);
  }
  console.log("");
  for (const tag of MODES.flatMap((m) => [m, `${m} cold`])) {
    const floor = med.get(`floor ${tag}`)!;
    const dev = med.get(`dev ${tag}`)!;
    const devPolicy = med.get(`dev+policy ${tag}`)!;
    const ratio = dev / floor;
    const policyCost = devPolicy / dev - 1;
    console.log(
      `${tag}: dev / floor = ${ratio.toFixed(2)} (target <= 1.5: ${ratio <= 1.5 ? "met" : "MISSED"}); ` +
        `policy pack adds ${(policyCost * 100).toFixed(0)} % to dev, ${sec(devPolicy - dev)} (target <= 25 %: ${policyCost <= 0.25 ? "met" : "MISSED"})`,
    );
  }
} finally {
  fs.rmSync(sandbox, { recursive: true, force: true });
}
