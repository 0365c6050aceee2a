/**
 * scripts/rollback.sh against a fake `pulumi`: what runs now and what ran before, from the stack's
 * outputs and history, and the rollback itself with its health check. Its blue-green modes:
 * scripts/blue-green.test.ts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FAST, healthServer, runScript } from "../test/delivery";

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

  function fakePulumi(entries: readonly object[] = history): {
    bin: string;
    log: string;
    env: NodeJS.ProcessEnv;
  } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-pulumi-"));
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(path.join(dir, "history.json"), JSON.stringify(entries));
    fs.writeFileSync(
      path.join(dir, "pulumi"),
      [
        "#!/bin/sh",
        `echo "$*" >> "${log}"`,
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
    return { bin: dir, log, env: { PATH: `${dir}:${process.env.PATH}` } };
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
        "up --stack staging --yes --non-interactive --policy-pack policy --policy-pack-config policy/config/staging.json --message rollback to webImage=web:1 apiImage=api:1",
      ]);
      expect(r.stdout).toContain(`ok   ${server.url}/api/v1/ready -> 200`);
    } finally {
      await server.close();
    }
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
