/**
 * scripts/blue-green.sh and the blue-green modes of scripts/rollback.sh against a fake `pulumi` and
 * `kubectl`: state, stage, switch and smoke of a release, and the rollbacks that put back the colours
 * that ran before.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FAST, ROOT, healthServer, runScript, scratchDir } from "../test/delivery";

describe("scripts/blue-green.sh and the blue-green rollbacks (against a fake pulumi and kubectl)", () => {
  const A = "ghcr.io/monkeytown/monkeytown-api@sha256:" + "a".repeat(64);
  const P = "ghcr.io/monkeytown/monkeytown-api@sha256:" + "b".repeat(64);
  const R = "ghcr.io/monkeytown/monkeytown-api@sha256:" + "c".repeat(64);
  /** The policy pack and production's policy config, from the repository whatever the cwd. */
  const POLICY = `--policy-pack ${ROOT}/policy --policy-pack-config ${ROOT}/policy/config/production.json`;

  /** Stack outputs of a blue-green stack (production's shape). */
  const outputs = (active: string, blue: string, green: string, extra: object = {}) =>
    JSON.stringify({
      namespace: "monkeytown",
      apiActiveColor: active,
      apiColorImages: { blue, green },
      images: { web: "web:1", api: active === "blue" ? blue : green },
      ...extra,
    });

  /**
   * A pulumi that answers `stack output` from $FAKE_OUTPUTS and logs every call (and, in cwd.log, the
   * directory it ran in), and a kubectl that answers `get deployment` from $FAKE_LIVE_<COLOR> and
   * serves /health and /ready with $FAKE_SMOKE_STATUS on `port-forward`.
   */
  function fakeTools(): { log: string; cwdLog: string; env: NodeJS.ProcessEnv } {
    const dir = scratchDir("fake-bg-");
    const log = path.join(dir, "calls.log");
    const cwdLog = path.join(dir, "cwd.log");
    fs.writeFileSync(
      path.join(dir, "server.js"),
      [
        'const status = Number(process.env.FAKE_SMOKE_STATUS || "200");',
        'require("http").createServer((req, res) => {',
        '  res.writeHead(req.url === "/health" || req.url === "/ready" ? status : 404);',
        "  res.end(JSON.stringify({ status }));",
        '}).listen(Number(process.argv[2]), "127.0.0.1");',
      ].join("\n"),
    );
    fs.writeFileSync(
      path.join(dir, "pulumi"),
      [
        "#!/bin/sh",
        `echo "$*" >> "${log}"`,
        `pwd -P >> "${cwdLog}"`,
        'case "$1 $2 $3" in',
        '  "stack output --json") echo "${FAKE_OUTPUTS:-{\\}}" ;;',
        '  "stack output images") node -e \'const o = JSON.parse(process.env.FAKE_OUTPUTS || "{}"); if (!o.images) process.exit(1); console.log(JSON.stringify(o.images))\' ;;',
        '  "stack output webUrl") echo "$FAKE_URL" ;;',
        '  "stack output apiUrl") echo "$FAKE_URL/api/v1" ;;',
        '  "stack history "*) echo "[]" ;;',
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(dir, "kubectl"),
      [
        "#!/bin/sh",
        `echo "kubectl $*" >> "${log}"`,
        'case "$3" in',
        `  port-forward) exec node "${dir}/server.js" "\${5%%:*}" ;;`,
        '  get) case "$5" in api-blue) printf %s "$FAKE_LIVE_BLUE" ;; api-green) printf %s "$FAKE_LIVE_GREEN" ;; esac ;;',
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return { log, cwdLog, env: { PATH: `${dir}:${process.env.PATH}` } };
  }
  const calls = (log: string) =>
    fs
      .readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .filter((c) => !c.startsWith("stack output"));

  async function freePort(): Promise<number> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  /** The directories the fake pulumi ran in, one per call. */
  const dirs = (cwdLog: string) => fs.readFileSync(cwdLog, "utf8").trim().split("\n");

  /**
   * A Pulumi project outside the repository, as cluster/workspace.ts writes one (its Pulumi.yaml
   * points back at the program), with a policy config of its own.
   */
  function otherProject(): { dir: string; policyConfig: string } {
    const dir = scratchDir("other-project-");
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      `name: monkeytown\nruntime: nodejs\nmain: ${ROOT}\n`,
    );
    const policyConfig = path.join(dir, "policy-config.json");
    fs.writeFileSync(policyConfig, "{}\n");
    return { dir, policyConfig };
  }

  it("MONKEYTOWN_PROJECT_DIR: pulumi runs in that project, with the repository's policy pack and MONKEYTOWN_POLICY_CONFIG", async () => {
    const fake = fakeTools();
    const project = otherProject();
    const r = await runScript("scripts/blue-green.sh", ["switch", "production", P], {
      ...fake.env,
      MONKEYTOWN_PROJECT_DIR: project.dir,
      MONKEYTOWN_POLICY_CONFIG: project.policyConfig,
      FAKE_OUTPUTS: outputs("blue", A, R),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(calls(fake.log).at(-1)).toBe(
      `up --stack production --yes --non-interactive --policy-pack ${ROOT}/policy --policy-pack-config ${project.policyConfig} --message switch api traffic to green (${R})`,
    );
    const all = fs.readFileSync(fake.log, "utf8").trim().split("\n");
    expect(dirs(fake.cwdLog)).toEqual(all.map(() => project.dir));
  });

  it("refuses a project directory without Pulumi.yaml and a missing policy config before changing anything", async () => {
    const fake = fakeTools();
    const empty = scratchDir("no-project-");
    const r = await runScript("scripts/blue-green.sh", ["switch", "production", P], {
      ...fake.env,
      MONKEYTOWN_PROJECT_DIR: empty,
      FAKE_OUTPUTS: outputs("blue", A, R),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`MONKEYTOWN_PROJECT_DIR '${empty}' holds no Pulumi.yaml`);
    expect(fs.existsSync(fake.log)).toBe(false);

    const missing = path.join(otherProject().dir, "missing.json");
    const noConfig = await runScript("scripts/blue-green.sh", ["switch", "production", P], {
      ...fake.env,
      MONKEYTOWN_POLICY_CONFIG: missing,
      FAKE_OUTPUTS: outputs("blue", A, R),
    });
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain(`MONKEYTOWN_POLICY_CONFIG '${missing}' is not a file`);
    expect(calls(fake.log)).toEqual([]);
  });

  it("state: what runs, from the stack outputs; nothing for a rolling or new stack", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["state", "production"], {
      ...fake.env,
      FAKE_OUTPUTS: outputs("blue", A, P),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `activeColor=blue\nidleColor=green\nactiveImage=${A}\nidleImage=${P}\nblueImage=${A}\ngreenImage=${P}\n`,
    );
    for (const none of ["", JSON.stringify({ namespace: "monkeytown-staging", images: {} })]) {
      const empty = await runScript("scripts/blue-green.sh", ["state", "staging"], {
        ...fake.env,
        FAKE_OUTPUTS: none,
      });
      expect(empty.code, empty.stderr).toBe(0);
      expect(empty.stdout).toBe("");
    }
  });

  it("state: a stack deployed before apiColorImages existed is read from the cluster", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["state", "production"], {
      ...fake.env,
      FAKE_OUTPUTS: JSON.stringify({ namespace: "monkeytown", apiActiveColor: "green" }),
      FAKE_LIVE_BLUE: P,
      FAKE_LIVE_GREEN: A,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `activeColor=green\nidleColor=blue\nactiveImage=${A}\nidleImage=${P}`,
    );
    expect(fs.readFileSync(fake.log, "utf8")).toContain(
      `kubectl -n monkeytown get deployment api-blue -o jsonpath={.spec.template.spec.containers[?(@.name=="api")].image}`,
    );
  });

  it("stage: pins both colours to what runs, then frees only the idle colour's key", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["stage", "production"], {
      ...fake.env,
      FAKE_OUTPUTS: outputs("blue", A, P),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(calls(fake.log)).toEqual([
      "config set --stack production --path monkeytown:api.activeColor blue",
      `config set --stack production --path monkeytown:api.blueImage ${A}`,
      `config set --stack production --path monkeytown:api.greenImage ${P}`,
      "config rm --stack production --path monkeytown:api.greenImage",
    ]);
    // What ran before staging, for $GITHUB_OUTPUT (the switch keeps idleImage as the rollback).
    expect(r.stdout).toContain(`idleColor=green\nactiveImage=${A}\nidleImage=${P}`);

    const given = fakeTools();
    await runScript("scripts/blue-green.sh", ["stage", "production", R], {
      ...given.env,
      FAKE_OUTPUTS: outputs("green", P, A),
    });
    expect(calls(given.log).at(-1)).toBe(
      `config set --stack production --path monkeytown:api.blueImage ${R}`,
    );
  });

  it("stage: a rolling or never-deployed stack is left as it is", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["stage", "staging"], fake.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(calls(fake.log)).toEqual([]);
  });

  it("switch: traffic to the idle colour (with the policy pack); the old colour stays pinned", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["switch", "production", P], {
      ...fake.env,
      FAKE_OUTPUTS: outputs("blue", A, R),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(calls(fake.log)).toEqual([
      "config set --stack production --path monkeytown:api.activeColor blue",
      `config set --stack production --path monkeytown:api.blueImage ${A}`,
      `config set --stack production --path monkeytown:api.greenImage ${R}`,
      "config set --stack production --path monkeytown:api.activeColor green",
      `up --stack production --yes --non-interactive ${POLICY} --message switch api traffic to green (${R})`,
    ]);
    // Without MONKEYTOWN_PROJECT_DIR, the repository's own project and stack files.
    expect(new Set(dirs(fake.cwdLog))).toEqual(new Set([fs.realpathSync(ROOT)]));
  });

  it("switch: a re-deploy of what serves switches nothing and gives the idle colour its release back", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/blue-green.sh", ["switch", "production", P], {
      ...fake.env,
      FAKE_OUTPUTS: outputs("blue", A, A),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("nothing to switch");
    const made = calls(fake.log);
    expect(made).not.toContain(
      "config set --stack production --path monkeytown:api.activeColor green",
    );
    expect(made.slice(-2)).toEqual([
      `config set --stack production --path monkeytown:api.greenImage ${P}`,
      `up --stack production --yes --non-interactive ${POLICY} --message keep ${P} on green as the rollback target`,
    ]);
  });

  it("smoke: /health and /ready of the idle colour through a port-forward to api-preview", async () => {
    const port = await freePort();
    const fake = fakeTools();
    const ok = await runScript("scripts/blue-green.sh", ["smoke", "production"], {
      ...fake.env,
      ...FAST,
      SMOKE_PORT: String(port),
      FAKE_OUTPUTS: outputs("blue", A, R),
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`ok   http://127.0.0.1:${port}/ready -> 200`);
    expect(fs.readFileSync(fake.log, "utf8")).toContain(
      `kubectl -n monkeytown port-forward svc/api-preview ${port}:80`,
    );
    const bad = await runScript("scripts/blue-green.sh", ["smoke", "production"], {
      ...fakeTools().env,
      ...FAST,
      SMOKE_PORT: String(await freePort()),
      FAKE_OUTPUTS: outputs("blue", A, R),
      FAKE_SMOKE_STATUS: "503",
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/FAIL http:\/\/127\.0\.0\.1:\d+\/health -> 503/);
  });

  it("smoke in another project: the outputs come from there, the check is the port-forward's whatever HEALTH_URLS says", async () => {
    const port = await freePort();
    const fake = fakeTools();
    const project = otherProject();
    const r = await runScript("scripts/blue-green.sh", ["smoke", "production"], {
      ...fake.env,
      ...FAST,
      MONKEYTOWN_PROJECT_DIR: project.dir,
      HEALTH_URLS: "http://127.0.0.1:9",
      SMOKE_PORT: String(port),
      FAKE_OUTPUTS: outputs("blue", A, R),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ok   http://127.0.0.1:${port}/ready -> 200`);
    expect(r.stdout).not.toContain("127.0.0.1:9/");
    expect(fs.readFileSync(fake.log, "utf8")).toContain(
      `kubectl -n monkeytown port-forward svc/api-preview ${port}:80`,
    );
    expect(new Set(dirs(fake.cwdLog))).toEqual(new Set([project.dir]));
  });

  it("rollback.sh deployed: the images and, for blue-green, the colours", async () => {
    const fake = fakeTools();
    const r = await runScript("scripts/rollback.sh", ["deployed", "production"], {
      ...fake.env,
      FAKE_OUTPUTS: outputs("blue", A, P),
    });
    expect(r.stdout).toBe(
      `webImage=web:1\napiImage=${A}\nactiveColor=blue\nidleColor=green\nactiveImage=${A}\nidleImage=${P}\nblueImage=${A}\ngreenImage=${P}\n`,
    );
  });

  it("rollback.sh switch-back: the traffic returns to the colour that served before, then health", async () => {
    const fake = fakeTools();
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript("scripts/rollback.sh", ["switch-back", "production"], {
        ...fake.env,
        ...FAST,
        FAKE_URL: server.url,
        FAKE_OUTPUTS: outputs("green", A, R),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(calls(fake.log).slice(-2)).toEqual([
        "config set --stack production --path monkeytown:api.activeColor blue",
        `up --stack production --yes --non-interactive ${POLICY} --message switch api traffic to blue (${A})`,
      ]);
      expect(r.stdout).toContain(`ok   ${server.url}/api/v1/health -> 200`);
    } finally {
      await server.close();
    }
  });

  it("rollback.sh switch-back in another project: every pulumi call there, its policy config, HEALTH_URLS checked", async () => {
    const fake = fakeTools();
    const project = otherProject();
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      // No FAKE_URL: the stack's webUrl and apiUrl outputs are empty, as unreachable as the local
      // cluster's public hostnames; HEALTH_URLS names what answers.
      const r = await runScript("scripts/rollback.sh", ["switch-back", "production"], {
        ...fake.env,
        ...FAST,
        MONKEYTOWN_PROJECT_DIR: project.dir,
        MONKEYTOWN_POLICY_CONFIG: project.policyConfig,
        HEALTH_URLS: `${server.url} ${server.url}/api/v1`,
        FAKE_OUTPUTS: outputs("green", A, R),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(calls(fake.log).at(-1)).toBe(
        `up --stack production --yes --non-interactive --policy-pack ${ROOT}/policy --policy-pack-config ${project.policyConfig} --message switch api traffic to blue (${A})`,
      );
      expect(r.stdout).toContain(`ok   ${server.url}/api/v1/ready -> 200`);
      const log = fs.readFileSync(fake.log, "utf8");
      expect(log).toContain("stack output recovery --json --stack production");
      expect(log).not.toContain("stack output webUrl");
      expect(dirs(fake.cwdLog)).toEqual(
        log
          .trim()
          .split("\n")
          .map(() => project.dir),
      );
    } finally {
      await server.close();
    }
  });

  it("rollback.sh colors: exactly what ran before, in one update", async () => {
    const fake = fakeTools();
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript(
        "scripts/rollback.sh",
        ["colors", "production", "web:1", "blue", A, P],
        { ...fake.env, ...FAST, FAKE_URL: server.url },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(calls(fake.log)).toEqual([
        "config set --stack production monkeytown:webImage web:1",
        "config set --stack production --path monkeytown:api.activeColor blue",
        `config set --stack production --path monkeytown:api.blueImage ${A}`,
        `config set --stack production --path monkeytown:api.greenImage ${P}`,
        `up --stack production --yes --non-interactive ${POLICY} --message rollback to webImage=web:1, api blue (blue=${A} green=${P})`,
      ]);
    } finally {
      await server.close();
    }
    expect(
      (await runScript("scripts/rollback.sh", ["colors", "production", "w", "red", A, P])).code,
    ).toBe(2);
  });

  it("rollback.sh to on blue-green: never sets apiImage; switches when the idle colour runs the image", async () => {
    const fake = fakeTools();
    const server = await healthServer({ health: 200, ready: 200 });
    try {
      const r = await runScript("scripts/rollback.sh", ["to", "production", "web:1", P], {
        ...fake.env,
        ...FAST,
        FAKE_URL: server.url,
        FAKE_OUTPUTS: outputs("blue", R, P),
      });
      expect(r.code, r.stderr).toBe(0);
      const made = calls(fake.log);
      expect(made.some((c) => c.includes("monkeytown:apiImage"))).toBe(false);
      expect(made.slice(-2)).toEqual([
        "config set --stack production --path monkeytown:api.activeColor green",
        `up --stack production --yes --non-interactive ${POLICY} --message rollback to webImage=web:1, api traffic to green (${P})`,
      ]);

      // An image on neither colour is staged on the idle one and smoke-tested before the switch.
      const other = fakeTools();
      const staged = await runScript("scripts/rollback.sh", ["to", "production", "web:1", A], {
        ...other.env,
        ...FAST,
        SMOKE_PORT: String(await freePort()),
        FAKE_URL: server.url,
        FAKE_OUTPUTS: outputs("blue", R, P),
      });
      expect(staged.code, staged.stderr).toBe(0);
      const log = fs.readFileSync(other.log, "utf8");
      const order = [
        `config set --stack production --path monkeytown:api.greenImage ${A}`,
        `--message rollback to webImage=web:1, ${A} on green`,
        "kubectl -n monkeytown port-forward svc/api-preview",
        "config set --stack production --path monkeytown:api.activeColor green",
      ].map((needle) => log.indexOf(needle));
      expect(
        order.every((i) => i >= 0),
        log,
      ).toBe(true);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    } finally {
      await server.close();
    }
  });
});
