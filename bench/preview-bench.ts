/**
 * `npm run bench:preview`: wall time of `pulumi preview` of the dev stack against the floor (an
 * empty program with the same runtime, Kubernetes provider in render mode and backend:
 * bench/floor/), each with and without the policy pack, on the real engine. Prints the median of
 * several runs (after one warm-up per variant; rounds interleave the variants so that load from
 * other processes hits them alike), side by side, and checks the targets:
 *   - dev's preview <= 1.5 x the floor's;
 *   - the policy pack adds <= 0.3 s to the floor's preview and <= 20 % to dev's (issue 13);
 * and then the pack's in-process cost per resource over 10,000 resources (bench/policy-cost.ts,
 * target < 0.2 ms), so that a start-up gain is never paid for per resource.
 *
 * Both TypeScript modes of the Node.js SDK are measured: `typecheck` (ts-node type-checks the
 * program at start-up: the SDK's default) and `transpile` (PULUMI_NODEJS_TRANSPILE_ONLY=true, what
 * scripts/up-dev.sh and scripts/preview.sh use; `npm run typecheck` does the type checking). ts-node
 * caches compiled files by content, so a warm run compiles nothing; `cold` variants give each run an
 * empty ts-node cache (TS_NODE_CACHE_DIRECTORY), as after a fresh clone or an edit of every file.
 *
 * The pack runs from a snapshot taken at the start (policy/ copied into the sandbox, node_modules
 * linked, precompiled there), so that a rule edited while the benchmark runs cannot send it back to
 * its TypeScript sources halfway through.
 *
 * Environment: BENCH_RUNS (default 5), BENCH_MODES (default "transpile typecheck"),
 * BENCH_BASELINE_PACK (a second pack directory, e.g. an older checkout's policy/ with its
 * node_modules installed: measured alongside as "floor+base" and "dev+base").
 * Needs the toolchain (scripts/pulumi-toolchain.sh); uses a temporary backend and PULUMI_HOME.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PER_RESOURCE_TARGET_MS, measurePolicyCost } from "./policy-cost";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? "5");
const MODES = (process.env.BENCH_MODES ?? "transpile typecheck")
  .split(/\s+/)
  .filter((m) => m !== "") as Mode[];
const BASELINE_PACK = process.env.BENCH_BASELINE_PACK;
const DEV_PASSPHRASE = "monkeytown-dev";
/** Issue 13's targets for what the policy pack adds. */
const PACK_ADDS_TO_FLOOR_MAX_S = 0.3;
const PACK_ADDS_TO_DEV_MAX = 0.2;
const DEV_OVER_FLOOR_MAX = 1.5;
type Mode = "transpile" | "typecheck";

interface Variant {
  readonly name: string;
  readonly cwd: string;
  readonly stack: string;
  /** The policy pack directory, if any. */
  readonly pack?: string;
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
    fail(
      "the Pulumi toolchain is not ready (`bash scripts/pulumi-toolchain.sh --check` failed): run `npm run toolchain` first",
    );
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

/** policy/ as it is now, precompiled, in the sandbox (see the header). */
function snapshotPack(): string {
  const src = path.join(ROOT, "policy");
  const dst = path.join(sandbox, "policy");
  fs.cpSync(src, dst, {
    recursive: true,
    filter: (from) => !["node_modules", "bin"].includes(path.relative(src, from)),
  });
  fs.symlinkSync(path.join(src, "node_modules"), path.join(dst, "node_modules"));
  const tsc = path.join(src, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: dst,
    encoding: "utf8",
  });
  if (r.status !== 0) fail(`building the policy pack failed:\n${r.stdout}${r.stderr}`);
  return dst;
}

function pulumi(
  cwd: string,
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): { ms: number; out: string; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync("pulumi", args, {
    cwd,
    env: { ...env, ...extraEnv },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, out: `${r.stdout}${r.stderr}`, status: r.status };
}

function preview(v: Variant): number {
  const args = ["preview", "--non-interactive", "--stack", v.stack];
  if (v.pack)
    args.push(
      "--policy-pack",
      v.pack,
      "--policy-pack-config",
      path.join(ROOT, "policy", "config", "dev.json"),
    );
  const extra: NodeJS.ProcessEnv = {
    PULUMI_NODEJS_TRANSPILE_ONLY: v.mode === "transpile" ? "true" : "false",
  };
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
const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(0)} %`;
const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function main(): Promise<void> {
  try {
    const floorDir = path.join(ROOT, "bench", "floor");
    for (const [cwd, stack] of [
      [floorDir, "floor"],
      [ROOT, "dev"],
    ]) {
      const r = pulumi(cwd, [
        "stack",
        "select",
        "--create",
        stack,
        "--secrets-provider",
        "passphrase",
        "--non-interactive",
      ]);
      if (r.status !== 0) fail(`stack ${stack}: ${r.out}`);
    }

    const pack = snapshotPack();
    if (
      BASELINE_PACK !== undefined &&
      !fs.existsSync(path.join(BASELINE_PACK, "PulumiPolicy.yaml"))
    ) {
      fail(`BENCH_BASELINE_PACK=${BASELINE_PACK} is not a policy pack (no PulumiPolicy.yaml)`);
    }
    const packs: [string, string | undefined][] = [
      ["", undefined],
      ["+pack", pack],
      ...(BASELINE_PACK !== undefined
        ? [["+base", path.resolve(BASELINE_PACK)] as [string, string]]
        : []),
    ];
    const variants: Variant[] = MODES.flatMap((mode) =>
      [false, true].flatMap((cold) => {
        const tag = `${mode}${cold ? " cold" : ""}`;
        return [
          ...packs.map(([suffix, p]) => ({
            name: `floor${suffix} ${tag}`,
            cwd: floorDir,
            stack: "floor",
            pack: p,
            mode,
            cold,
          })),
          ...packs.map(([suffix, p]) => ({
            name: `dev${suffix} ${tag}`,
            cwd: ROOT,
            stack: "dev",
            pack: p,
            mode,
            cold,
          })),
        ];
      }),
    );
    console.log(
      `bench:preview: ${os.cpus().length} CPUs, load ${loadavg()}; ${RUNS} runs per variant after 1 warm-up, ` +
        "rounds interleaved; medians (the machine is shared: min and max show the noise)",
    );
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
      console.log(
        `${v.name.padEnd(29)} ${sec(median(t)).padStart(8)} ${sec(Math.min(...t)).padStart(8)} ${sec(Math.max(...t)).padStart(8)}`,
      );
    }

    const tags = MODES.flatMap((m) => [m, `${m} cold`]);
    console.log(
      `\nside by side (medians; targets: the pack adds <= ${PACK_ADDS_TO_FLOOR_MAX_S} s to the floor and <= ${PACK_ADDS_TO_DEV_MAX * 100} % to dev, dev / floor <= ${DEV_OVER_FLOOR_MAX})`,
    );
    console.log(
      "mode             floor  floor+pack  pack adds     dev  dev+pack  pack adds   dev/floor",
    );
    for (const tag of tags) {
      const floor = med.get(`floor ${tag}`)!;
      const floorPack = med.get(`floor+pack ${tag}`)!;
      const dev = med.get(`dev ${tag}`)!;
      const devPack = med.get(`dev+pack ${tag}`)!;
      console.log(
        `${tag.padEnd(14)} ${sec(floor).padStart(7)} ${sec(floorPack).padStart(11)} ${sec(floorPack - floor).padStart(10)} ` +
          `${sec(dev).padStart(7)} ${sec(devPack).padStart(9)} ${pct(devPack / dev - 1).padStart(10)} ${(dev / floor).toFixed(2).padStart(11)}`,
      );
    }
    console.log("");
    for (const tag of tags) {
      const floor = med.get(`floor ${tag}`)!;
      const dev = med.get(`dev ${tag}`)!;
      const toFloor = med.get(`floor+pack ${tag}`)! - floor;
      const toDev = med.get(`dev+pack ${tag}`)! / dev - 1;
      const ratio = dev / floor;
      console.log(
        `${tag}: the pack adds ${sec(toFloor)} to the floor (target <= ${PACK_ADDS_TO_FLOOR_MAX_S} s: ${verdict(toFloor <= PACK_ADDS_TO_FLOOR_MAX_S * 1000)}), ` +
          `${pct(toDev)} to dev (target <= ${PACK_ADDS_TO_DEV_MAX * 100} %: ${verdict(toDev <= PACK_ADDS_TO_DEV_MAX)}); ` +
          `dev / floor = ${ratio.toFixed(2)} (target <= ${DEV_OVER_FLOOR_MAX}: ${verdict(ratio <= DEV_OVER_FLOOR_MAX)})`,
      );
      if (BASELINE_PACK !== undefined) {
        const baseToFloor = med.get(`floor+base ${tag}`)! - floor;
        const baseToDev = med.get(`dev+base ${tag}`)! / dev - 1;
        console.log(
          `${" ".repeat(tag.length)}  baseline pack: adds ${sec(baseToFloor)} to the floor, ${pct(baseToDev)} to dev`,
        );
      }
    }

    const cost = await measurePolicyCost();
    console.log(
      `\npolicy pack in process: ${cost.perResourceMs.toFixed(4)} ms per resource (${cost.policies} policies, ` +
        `${cost.resources} resources of ${cost.types} types, median of ${cost.rounds} rounds; ` +
        `target < ${PER_RESOURCE_TARGET_MS} ms: ${verdict(cost.perResourceMs < PER_RESOURCE_TARGET_MS)})`,
    );
    console.log(`load at the end: ${loadavg()}`);
  } finally {
    fs.rmSync(sandbox, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
