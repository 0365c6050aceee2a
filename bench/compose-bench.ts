/**
 * How long the mocked composition takes: each stack file through the real program, and the growth
 * with 10, 50 and 100 API services. Prints its figures; it is a benchmark, not a test.
 *
 *   npm run bench:compose
 *
 * Each measurement runs in a fresh child process (Pulumi's mock runtime is process-global), after
 * one warm-up run in that process, and reports the median of the repetitions.
 */
import { execFileSync } from "child_process";
import * as path from "path";

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const root = path.resolve(__dirname, "..");

interface Sample {
  readonly ms: number;
  readonly resources: number;
}

/** Runs inside the child: one warm-up then REPEAT timed compositions. */
async function child(kind: string, arg: string): Promise<void> {
  const { installMocks } = await import("../test/harness");
  const { stackTestConfig } = await import("../test/stack-config");
  const samples: Sample[] = [];
  for (let i = 0; i <= REPEAT; i++) {
    const stack = kind === "stack" ? arg : "dev";
    const { config, secretKeys } = stackTestConfig(stack);
    const h = await installMocks({ stack, config, secretKeys });
    h.resources.length = 0;
    const start = process.hrtime.bigint();
    if (kind === "stack") {
      const { program } = await import("../stacks/program");
      await program();
    } else {
      const { ApiService } = await import("../components/api");
      for (let n = 0; n < Number(arg); n++) {
        new ApiService(`api-${n}`, {
          namespace: "bench",
          image: "ghcr.io/monkeytown/monkeytown-api:0.1.0",
          autoscaling: { minReplicas: 2, maxReplicas: 10 },
          env: { LOG_LEVEL: "info" },
          secretEnv: { name: "monkeytown-app", keys: ["JWT_SECRET"] },
        });
      }
    }
    await h.settle();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i > 0) samples.push({ ms, resources: h.resources.length });
  }
  process.stdout.write(JSON.stringify(samples));
}

function measure(kind: string, arg: string): { median: number; resources: number } {
  const out = execFileSync(
    path.join(root, "node_modules/.bin/vite-node"),
    [path.join(__dirname, "compose-bench.ts"), "--", "--child", kind, arg],
    { cwd: root, encoding: "utf8", env: { ...process.env, BENCH_REPEAT: String(REPEAT) } },
  );
  const samples = JSON.parse(out.slice(out.indexOf("["))) as Sample[];
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], resources: samples[0].resources };
}

function main(): void {
  const childAt = process.argv.indexOf("--child");
  if (childAt !== -1) {
    void child(process.argv[childAt + 1], process.argv[childAt + 2]);
    return;
  }
  console.log(
    `Mocked composition, median of ${REPEAT} runs after a warm-up, one process per row\n`,
  );
  console.log("stack         resources   median ms");
  for (const stack of ["dev", "staging", "production"]) {
    const r = measure("stack", stack);
    console.log(
      `${stack.padEnd(13)} ${String(r.resources).padStart(9)}   ${r.median.toFixed(1).padStart(9)}`,
    );
  }
  console.log("\nAPI services  resources   median ms   ms per service");
  const rows: { n: number; ms: number }[] = [];
  for (const n of [10, 50, 100]) {
    const r = measure("services", String(n));
    rows.push({ n, ms: r.median });
    console.log(
      `${String(n).padEnd(13)} ${String(r.resources).padStart(9)}   ${r.median.toFixed(1).padStart(9)}   ${(r.median / n).toFixed(2).padStart(14)}`,
    );
  }
  const perService = rows.map((r) => r.ms / r.n);
  const spread = Math.max(...perService) / Math.min(...perService);
  console.log(
    `\nGrowth: per-service cost varies by a factor of ${spread.toFixed(2)} from 10 to 100 services (1.00 = perfectly linear).`,
  );
}

main();
