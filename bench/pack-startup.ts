/**
 * `npm run bench:pack-startup`: where the policy pack's start-up goes. Starts the pack the way the
 * Node.js language host does (`node @pulumi/pulumi/cmd/run-policy-pack <engine> <pack>` in the
 * pack's directory) with a preload (bench/pack-startup-probe.js) that times every require(), and
 * stops it as soon as it prints the port it serves on: until then the engine can do nothing else.
 * Prints, per category of module, the median wall and CPU time of several runs, then Node.js's own
 * start, the JavaScript that is not module loading (ts-node registration, the inspector the SDK opens,
 * starting the gRPC server) and the total.
 *
 * The pack is a precompiled snapshot of policy/ (as in bench:preview). BENCH_BASELINE_PACK=<dir>
 * profiles a second pack in the same run, interleaved (e.g. an older checkout's policy/ with its
 * node_modules and bin/ built). BENCH_RUNS (default 7).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? "7");
const BASELINE_PACK = process.env.BENCH_BASELINE_PACK;
const PROBE = path.join(__dirname, "pack-startup-probe.js");

interface Share {
  wallMs: number;
  cpuMs: number;
  modules: number;
}
interface Probe {
  nodeStartMs: number;
  toPortWallMs: number;
  toPortCpuMs: number;
  categories: Record<string, Share>;
}
interface Run extends Probe {
  /** From spawn to the port on stdout, seen from this process. */
  spawnToPortMs: number;
}

function fail(message: string): never {
  console.error(`bench:pack-startup: ${message}`);
  process.exit(1);
}

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "monkeytown-pack-startup-"));

/** policy/ as it is now, precompiled, in the sandbox. */
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

function startOnce(packDir: string, n: number): Promise<Run> {
  const out = path.join(sandbox, `probe-${n}.json`);
  const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, ["-r", PROBE, runner, "127.0.0.1:0", "."], {
    cwd: packDir,
    env: {
      ...process.env,
      PACK_STARTUP_FILE: out,
      // What the language host passes after the engine's ConfigureStack.
      PULUMI_NODEJS_STACK: "dev",
      PULUMI_NODEJS_PROJECT: "monkeytown",
      PULUMI_NODEJS_DRY_RUN: "true",
      PULUMI_CONFIG: "{}",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let served = false;
    child.stdout.once("data", () => {
      served = true;
      const spawnToPortMs = Number(process.hrtime.bigint() - t0) / 1e6;
      child.kill();
      child.once("exit", () => {
        const probe = JSON.parse(fs.readFileSync(out, "utf8")) as Probe;
        resolve({ ...probe, spawnToPortMs });
      });
    });
    child.once("exit", (code) => {
      if (!served) reject(new Error(`the pack exited (${code}) before serving: ${stderr}`));
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const ms = (x: number) => `${x.toFixed(0)} ms`;

function report(label: string, runs: Run[]): void {
  const m = (f: (r: Run) => number) => median(runs.map(f));
  console.log(`\n${label} (median of ${runs.length}; wall, CPU)`);
  const names = Object.keys(runs[0].categories);
  let modulesWall = 0;
  let modulesCpu = 0;
  for (const name of names) {
    const wall = m((r) => r.categories[name].wallMs);
    const cpu = m((r) => r.categories[name].cpuMs);
    const modules = m((r) => r.categories[name].modules);
    modulesWall += wall;
    modulesCpu += cpu;
    if (modules === 0) continue;
    console.log(`  ${ms(wall).padStart(8)} ${ms(cpu).padStart(8)}  ${name} (${modules} modules)`);
  }
  const nodeStart = m((r) => r.nodeStartMs);
  const other = m((r) => r.toPortWallMs) - modulesWall;
  const otherCpu = m((r) => r.toPortCpuMs) - modulesCpu;
  console.log(
    `  ${ms(other).padStart(8)} ${ms(otherCpu).padStart(8)}  other JavaScript: ts-node registration, the SDK's inspector hooks, PolicyPack and its gRPC server`,
  );
  console.log(
    `  ${ms(nodeStart).padStart(8)} ${"".padStart(8)}  Node.js start, before any JavaScript`,
  );
  console.log(
    `  ${ms(m((r) => r.spawnToPortMs)).padStart(8)} ${ms(m((r) => r.toPortCpuMs)).padStart(8)}  total, spawn to port (CPU: from the first line of JavaScript)`,
  );
}

async function main(): Promise<void> {
  try {
    const packs: [string, string][] = [["policy pack (policy/, precompiled)", snapshotPack()]];
    if (BASELINE_PACK !== undefined) {
      packs.push([`baseline pack (${BASELINE_PACK})`, path.resolve(BASELINE_PACK)]);
    }
    console.log(
      `bench:pack-startup: ${os.cpus().length} CPUs, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}; ${RUNS} runs after 1 warm-up, interleaved; medians (a shared machine)`,
    );
    const runs = packs.map((): Run[] => []);
    for (let round = -1; round < RUNS; round++) {
      for (let i = 0; i < packs.length; i++) {
        const r = await startOnce(packs[i][1], round * packs.length + i + packs.length);
        if (round >= 0) runs[i].push(r);
      }
    }
    packs.forEach(([label], i) => report(label, runs[i]));
  } finally {
    fs.rmSync(sandbox, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
