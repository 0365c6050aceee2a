/**
 * scripts/health-check.sh, run for real against local servers: /health and /ready of each URL, and
 * the stack's time budget (its `recovery` output) even when the endpoints never answer.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { RecoveryPlan } from "../config/recovery";
import { FAST, ROOT, healthServer, runScript, scratchDir } from "../test/delivery";

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

/**
 * A fake `pulumi` on PATH answering `stack output webUrl|apiUrl|recovery` (the health check's three
 * reads) and failing anything else; with `logCalls`, each call is appended to `log` with its cwd.
 */
function fakePulumi(o: {
  webUrl: string;
  apiUrl: string;
  healthCheck: Partial<RecoveryPlan["healthCheck"]>;
  logCalls?: boolean;
}): { dir: string; log: string; env: NodeJS.ProcessEnv } {
  const dir = scratchDir("fake-pulumi-");
  const log = path.join(dir, "calls.log");
  fs.writeFileSync(path.join(dir, "recovery.json"), JSON.stringify({ healthCheck: o.healthCheck }));
  fs.writeFileSync(
    path.join(dir, "pulumi"),
    [
      "#!/bin/sh",
      ...(o.logCalls ? [`echo "$(pwd -P): $*" >> "${log}"`] : []),
      'case "$1 $2 $3" in',
      `  "stack output webUrl") echo "${o.webUrl}" ;;`,
      `  "stack output apiUrl") echo "${o.apiUrl}" ;;`,
      `  "stack output recovery") cat "${dir}/recovery.json" ;;`,
      "  *) exit 1 ;;",
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return { dir, log, env: { PATH: `${dir}:${process.env.PATH}` } };
}

describe("scripts/health-check.sh with HEALTH_URLS (the local cluster's Service addresses)", () => {
  /**
   * A Pulumi project directory and a fake pulumi whose webUrl and apiUrl outputs name an address
   * nothing answers on (as the local cluster's public hostnames), with a recovery output; it logs its
   * calls and the directory it ran in.
   */
  function fakeStack(): { project: string; log: string; env: NodeJS.ProcessEnv } {
    const project = scratchDir("other-project-");
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), `name: monkeytown\nmain: ${ROOT}\n`);
    const fake = fakePulumi({
      webUrl: "http://127.0.0.1:9",
      apiUrl: "http://127.0.0.1:9/api/v1",
      healthCheck: {
        healthCheckBudgetSeconds: 7,
        healthCheckIntervalSeconds: 1,
        healthCheckTimeoutSeconds: 2,
      },
      logCalls: true,
    });
    return { project, log: fake.log, env: fake.env };
  }

  it("checks HEALTH_URLS instead of the stack's webUrl and apiUrl, on the stack's budget, in MONKEYTOWN_PROJECT_DIR", async () => {
    const fake = fakeStack();
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript("scripts/health-check.sh", ["staging"], {
        ...fake.env,
        MONKEYTOWN_PROJECT_DIR: fake.project,
        HEALTH_URLS: ` ${server.url}  ${server.url}/api/v1 `,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        "health-check: budget 7s, every 1s, 2s per request (the stack's recovery plan)",
      );
      for (const url of [server.url, `${server.url}/api/v1`]) {
        expect(r.stdout).toContain(`ok   ${url}/health -> 200`);
        expect(r.stdout).toContain(`ok   ${url}/ready -> 200`);
      }
      expect(r.stdout).toContain("all 4 endpoints answered 200");
      expect(fs.readFileSync(fake.log, "utf8")).toBe(
        `${fake.project}: stack output recovery --json --stack staging\n`,
      );
    } finally {
      await server.close();
    }
  });

  it("--url wins over HEALTH_URLS; HEALTH_URLS without a URL and a project without Pulumi.yaml are refused", async () => {
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript("scripts/health-check.sh", ["--url", server.url], {
        ...FAST,
        HEALTH_URLS: "http://127.0.0.1:9",
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toContain("127.0.0.1:9/");
    } finally {
      await server.close();
    }
    const fake = fakeStack();
    const blank = await runScript("scripts/health-check.sh", ["staging"], {
      ...fake.env,
      MONKEYTOWN_PROJECT_DIR: fake.project,
      HEALTH_URLS: "   ",
    });
    expect(blank.code).toBe(2);
    expect(blank.stderr).toContain("HEALTH_URLS holds no URL");
    const empty = scratchDir("no-project-");
    const noProject = await runScript("scripts/health-check.sh", ["staging"], {
      ...fake.env,
      MONKEYTOWN_PROJECT_DIR: empty,
    });
    expect(noProject.code).toBe(2);
    expect(noProject.stderr).toContain(`MONKEYTOWN_PROJECT_DIR '${empty}' holds no Pulumi.yaml`);
    expect(fs.existsSync(fake.log)).toBe(false);
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
    // The output's shape is the program's (typed): a renamed field fails to compile here.
    const healthCheck: RecoveryPlan["healthCheck"] = {
      healthCheckBudgetSeconds: 2,
      healthCheckIntervalSeconds: 1,
      healthCheckTimeoutSeconds: 1,
      updateSeconds: 20,
      rolloutSeconds: 7,
      worstCaseSeconds: 29,
    };
    const fake = fakePulumi({ webUrl: server.url, apiUrl: `${server.url}/api/v1`, healthCheck });
    try {
      const started = Date.now();
      const r = await runScript("scripts/health-check.sh", ["staging"], fake.env);
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
      fs.rmSync(fake.dir, { recursive: true, force: true });
    }
  });
});
