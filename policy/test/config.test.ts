import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { policies, policyNames } from "../policies";
import {
  SUPPORTED_SCHEMA_KEYWORDS,
  evaluatePolicies,
  loadStackConfig,
  resolveConfig,
} from "../testing";
import { hardenedContainer, hardenedPodSpec, messagesOf, withSc, workload } from "./helpers";

const STACKS = ["dev", "staging", "production"];

describe("the pack", () => {
  it("has unique kebab-case policy names", () => {
    expect(new Set(policyNames).size).toBe(policyNames.length);
    for (const n of policyNames) expect(n).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it("gives every tunable a default and a description, using only schema keywords the config check understands", () => {
    for (const p of policies) {
      for (const [key, schema] of Object.entries(p.configSchema?.properties ?? {})) {
        if (typeof schema !== "object") throw new Error(`${p.name}.${key} schema is a boolean`);
        expect(schema.default, `${p.name}.${key}`).toBeDefined();
        expect(schema.description, `${p.name}.${key}`).toBeTruthy();
        for (const kw of Object.keys(schema))
          expect(SUPPORTED_SCHEMA_KEYWORDS.has(kw), `${p.name}.${key}: ${kw}`).toBe(true);
      }
      expect(p.configSchema?.properties ?? {}).not.toHaveProperty("enforcementLevel");
    }
  });

  it("has the default enforcement levels the issue asks for", () => {
    const levels = Object.fromEntries(
      [...resolveConfig({}).entries()].map(([k, v]) => [k, v.enforcementLevel]),
    );
    for (const n of ["non-root", "resource-limits", "no-plaintext-secrets"])
      expect(levels[n]).toBe("mandatory");
    for (const n of [
      "read-only-root-filesystem",
      "no-privilege-escalation",
      "no-privileged",
      "drop-all-capabilities",
      "no-host-access",
      "seccomp-runtime-default",
      "disallow-proc-mount",
      "restrict-sysctls",
      "restrict-selinux",
      "restrict-apparmor",
      "disallow-host-process",
      "restrict-volume-types",
      "image-pinned",
      "probes-configured",
      "no-load-balancer",
      "min-replicas",
    ]) {
      expect(levels[n], n).toBe("advisory");
    }
  });
});

describe("config resolution", () => {
  it("starts from the schema defaults", () => {
    expect(resolveConfig({}).get("resource-limits")?.properties).toEqual({
      requireCpuLimit: true,
      maxCpuLimit: "4",
      maxMemoryLimit: "8Gi",
    });
  });

  it("overrides single properties and keeps the other defaults", () => {
    const r = resolveConfig({ "resource-limits": { maxMemoryLimit: "1Gi" } }).get(
      "resource-limits",
    );
    expect(r).toEqual({
      enforcementLevel: "mandatory",
      properties: { requireCpuLimit: true, maxCpuLimit: "4", maxMemoryLimit: "1Gi" },
    });
  });

  it('applies "all" first and per-policy levels on top', () => {
    const r = resolveConfig({ all: "mandatory", "image-pinned": "advisory" });
    expect(r.get("no-privileged")?.enforcementLevel).toBe("mandatory");
    expect(r.get("image-pinned")?.enforcementLevel).toBe("advisory");
  });

  it("rejects unknown policies, unknown settings and wrong types, all at once", () => {
    expect(() =>
      resolveConfig({
        "non-rooot": "mandatory",
        "resource-limits": { maxCpu: "2", requireCpuLimit: "yes" },
        "image-pinned": { enforcementLevel: "strict" as never },
      }),
    ).toThrow(
      /no policy named "non-rooot"[\s\S]*resource-limits.maxCpu is not a setting[\s\S]*resource-limits.requireCpuLimit must be boolean[\s\S]*image-pinned.enforcementLevel "strict"/,
    );
  });
});

describe("enforcement levels in evaluation", () => {
  const privileged = workload(
    "Deployment",
    hardenedPodSpec({ containers: [withSc(hardenedContainer(), { privileged: true })] }),
  );

  it.each([
    [{}, ["advisory"]],
    [{ "no-privileged": "mandatory" }, ["mandatory"]],
    [{ "no-privileged": "disabled" }, []],
    [{ all: "disabled" }, []],
  ] as const)("%j reports no-privileged as %j", async (config, levels) => {
    const v = (await evaluatePolicies([privileged], config)).filter(
      (x) => x.policyName === "no-privileged",
    );
    expect(v.map((x) => x.enforcementLevel)).toEqual(levels);
  });
});

describe.each(STACKS)("policy/config/%s.json", (stack) => {
  it("is valid against the pack's schema and names every policy", () => {
    const config = loadStackConfig(stack);
    expect(() => resolveConfig(config)).not.toThrow();
    expect(Object.keys(config).sort()).toEqual([...policyNames].sort());
  });
});

describe("per-stack strictness", () => {
  const byStack = Object.fromEntries(STACKS.map((s) => [s, resolveConfig(loadStackConfig(s))]));
  const rank = { disabled: 0, advisory: 1, remediate: 2, mandatory: 2 } as const;

  it("production is at least as strict as staging, and staging as dev, for every policy", () => {
    for (const name of policyNames) {
      const [d, s, p] = STACKS.map((st) => rank[byStack[st].get(name)!.enforcementLevel]);
      expect(s, name).toBeGreaterThanOrEqual(d);
      expect(p, name).toBeGreaterThanOrEqual(s);
    }
  });

  it("production requires image digests, as a mandatory rule, where dev accepts tags", async () => {
    const tagged = workload(
      "Deployment",
      hardenedPodSpec({
        containers: [{ ...hardenedContainer(), image: "ghcr.io/monkeytown/web:1.4.2" }],
      }),
    );
    expect(await messagesOf("image-pinned", [tagged], loadStackConfig("dev"))).toEqual([]);
    const prod = (await evaluatePolicies([tagged], loadStackConfig("production"))).filter(
      (v) => v.policyName === "image-pinned",
    );
    expect(prod).toEqual([
      expect.objectContaining({
        enforcementLevel: "mandatory",
        message: expect.stringMatching(/not pinned by digest/),
      }),
    ]);
  });

  it("no rule reads the stack name: the pack source never calls getStack", () => {
    const dir = path.join(__dirname, "..");
    const files = [
      "index.ts",
      ...fs.readdirSync(path.join(dir, "policies")).map((f) => `policies/${f}`),
      ...fs.readdirSync(path.join(dir, "lib")).map((f) => `lib/${f}`),
    ];
    for (const f of files)
      expect(fs.readFileSync(path.join(dir, f), "utf8"), f).not.toMatch(
        /getStack\s*\(|PULUMI_STACK/,
      );
  });
});
