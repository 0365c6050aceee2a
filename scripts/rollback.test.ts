/**
 * scripts/rollback.sh against a fake `pulumi`: what runs now and what ran before, from the stack's
 * outputs and history, and the rollback itself with its health check. Its blue-green modes:
 * scripts/blue-green.test.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FAST, ROOT, healthServer, runScript, scratchDir } from "../test/delivery";

describe("scripts/rollback.sh (against a fake pulumi)", () => {
  const history = [
    {
      version: 4,
      kind: "update",
      result: "failed",
      config: {
        "monkeytown:webImage": { value: "web:4" },
        "monkeytown:apiImage": { value: "api:4" },
      },
    },
    { version: 3, kind: "refresh", result: "succeeded", config: {} },
    {
      version: 2,
      kind: "update",
      result: "succeeded",
      config: {
        "monkeytown:webImage": { value: "web:2" },
        "monkeytown:apiImage": { value: "api:2" },
      },
    },
    {
      version: 1,
      kind: "update",
      result: "succeeded",
      config: {
        "monkeytown:webImage": { value: "web:1" },
        "monkeytown:apiImage": { value: "api:1" },
      },
    },
  ];

  /** A fake pulumi that logs every call, and in cwd.log the directory it ran in. */
  function fakePulumi(entries: readonly object[] = history): {
    bin: string;
    log: string;
    cwdLog: string;
    env: NodeJS.ProcessEnv;
  } {
    const dir = scratchDir("fake-pulumi-");
    const log = path.join(dir, "calls.log");
    const cwdLog = path.join(dir, "cwd.log");
    fs.writeFileSync(path.join(dir, "history.json"), JSON.stringify(entries));
    fs.writeFileSync(
      path.join(dir, "pulumi"),
      [
        "#!/bin/sh",
        `echo "$*" >> "${log}"`,
        `pwd -P >> "${cwdLog}"`,
        'case "$1 $2 $3" in',
        `  "stack history "*) cat "${dir}/history.json" ;;`,
        '  "stack output images") [ -n "$FAKE_IMAGES" ] && echo "$FAKE_IMAGES" || exit 1 ;;',
        '  "stack output webUrl") echo "$FAKE_URL" ;;',
        '  "stack output apiUrl") echo "$FAKE_URL/api/v1" ;;',
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return { bin: dir, log, cwdLog, env: { PATH: `${dir}:${process.env.PATH}` } };
  }

  it("reads what runs now from the images output, else from the last successful update", async () => {
    const fake = fakePulumi();
    const fromHistory = await runScript("scripts/rollback.sh", ["deployed", "staging"], fake.env);
    expect(fromHistory.stdout).toBe("webImage=web:2\napiImage=api:2\n");
    const fromOutput = await runScript("scripts/rollback.sh", ["deployed", "staging"], {
      ...fake.env,
      FAKE_IMAGES: '{"web":"ghcr.io/o/web@sha256:aa","api":"ghcr.io/o/api@sha256:bb"}',
    });
    expect(fromOutput.stdout).toBe(
      "webImage=ghcr.io/o/web@sha256:aa\napiImage=ghcr.io/o/api@sha256:bb\n",
    );
    expect(fs.readFileSync(fake.log, "utf8")).toContain(
      "stack history --stack staging --json --page-size 100",
    );
  });

  it("finds the previous images: the newest successful update that ran something else", async () => {
    const fake = fakePulumi();
    const r = await runScript("scripts/rollback.sh", ["previous", "production"], fake.env);
    expect(r.stdout).toBe("webImage=web:1\napiImage=api:1\n");
  });

  it("orders by start time where the backend reports version 0 for every update (file, S3)", async () => {
    const update = (startTime: string, tag: string) => ({
      version: 0,
      kind: "update",
      result: "succeeded",
      startTime,
      config: {
        "monkeytown:webImage": { value: `web:${tag}` },
        "monkeytown:apiImage": { value: `api:${tag}` },
      },
    });
    const fake = fakePulumi([
      update("2026-05-01T10:00:00.000Z", "old"),
      update("2026-05-03T10:00:00.000Z", "new"),
      update("2026-05-02T10:00:00.000Z", "mid"),
    ]);
    expect((await runScript("scripts/rollback.sh", ["deployed", "staging"], fake.env)).stdout).toBe(
      "webImage=web:new\napiImage=api:new\n",
    );
    expect((await runScript("scripts/rollback.sh", ["previous", "staging"], fake.env)).stdout).toBe(
      "webImage=web:mid\napiImage=api:mid\n",
    );
  });

  it("rolls back: sets both keys, updates with the policy pack, then checks health", async () => {
    const fake = fakePulumi();
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript("scripts/rollback.sh", ["to", "staging", "web:1", "api:1"], {
        ...fake.env,
        ...FAST,
        FAKE_URL: server.url,
      });
      expect(r.code, r.stderr).toBe(0);
      const calls = fs
        .readFileSync(fake.log, "utf8")
        .trim()
        .split("\n")
        .filter((c) => !c.startsWith("stack output --json"));
      expect(calls.slice(0, 3)).toEqual([
        "config set --stack staging monkeytown:webImage web:1",
        "config set --stack staging monkeytown:apiImage api:1",
        `up --stack staging --yes --non-interactive --policy-pack ${ROOT}/policy --policy-pack-config ${ROOT}/policy/config/staging.json --message rollback to webImage=web:1 apiImage=api:1`,
      ]);
      expect(r.stdout).toContain(`ok   ${server.url}/api/v1/ready -> 200`);
      // Without MONKEYTOWN_PROJECT_DIR, the repository's own project and stack files.
      expect(new Set(fs.readFileSync(fake.cwdLog, "utf8").trim().split("\n"))).toEqual(
        new Set([fs.realpathSync(ROOT)]),
      );
    } finally {
      await server.close();
    }
  });

  it("rolls back a stack of another project (MONKEYTOWN_PROJECT_DIR): pulumi runs there, with MONKEYTOWN_POLICY_CONFIG and HEALTH_URLS", async () => {
    const fake = fakePulumi();
    // Nested, so that its path relative to the repository does not also lead there from elsewhere.
    const project = path.join(scratchDir("other-project-"), "cluster", "workspace");
    fs.mkdirSync(project, { recursive: true });
    fs.writeFileSync(
      path.join(project, "Pulumi.yaml"),
      `name: monkeytown\nruntime: nodejs\nmain: ${ROOT}\n`,
    );
    const policyConfig = path.join(project, "policy-config.json");
    fs.writeFileSync(policyConfig, "{}\n");
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      // Both given relative to the caller's directory (the repository root here), as a user would.
      const r = await runScript("scripts/rollback.sh", ["to", "staging", "web:1", "api:1"], {
        ...fake.env,
        ...FAST,
        MONKEYTOWN_PROJECT_DIR: path.relative(ROOT, project),
        MONKEYTOWN_POLICY_CONFIG: path.relative(ROOT, policyConfig),
        HEALTH_URLS: `${server.url}/api/v1`,
        FAKE_URL: "http://127.0.0.1:9",
      });
      expect(r.code, r.stderr).toBe(0);
      const calls = fs.readFileSync(fake.log, "utf8").trim().split("\n");
      expect(calls).toContain(
        `up --stack staging --yes --non-interactive --policy-pack ${ROOT}/policy --policy-pack-config ${policyConfig} --message rollback to webImage=web:1 apiImage=api:1`,
      );
      expect(fs.readFileSync(fake.cwdLog, "utf8").trim().split("\n")).toEqual(
        calls.map(() => project),
      );
      expect(r.stdout).toContain(`ok   ${server.url}/api/v1/ready -> 200`);
      expect(r.stdout).not.toContain("127.0.0.1:9");
    } finally {
      await server.close();
    }
  });

  it("sets nothing when the policy config of the update is missing", async () => {
    const fake = fakePulumi();
    const r = await runScript("scripts/rollback.sh", ["to", "no-such-stack", "web:1", "api:1"], {
      ...fake.env,
      ...FAST,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "no-such-stack has no policy config policy/config/no-such-stack.json: add it, or set MONKEYTOWN_POLICY_CONFIG",
    );
    expect(fs.existsSync(fake.log)).toBe(false);
  });

  it("fails the rollback when the stack is still unhealthy afterwards", async () => {
    const fake = fakePulumi();
    const server = await healthServer({ health: 500, ready: 200 });
    try {
      const r = await runScript("scripts/rollback.sh", ["to", "staging", "web:1", "api:1"], {
        ...fake.env,
        ...FAST,
        FAKE_URL: server.url,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("/health -> 500");
    } finally {
      await server.close();
    }
  });
});
