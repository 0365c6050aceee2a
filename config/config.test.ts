/**
 * Bad configuration: each case gives the expected message (key, stack file, fix), and the program
 * registers nothing. Good configuration: defaults and the secret rules.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { appSettingsSchema, formatProblems, parseStackConfig, validateSecretValues } from "./index";
import { installMocks } from "../test/harness";
import { PROJECT_ROOT, readStackConfig, stackTestConfig } from "../test/stack-config";

/** dev's plain config with some keys changed (key without namespace → raw string or object). */
function devWith(changes: Record<string, unknown>): Record<string, string> {
  const plain: Record<string, string> = {};
  for (const [k, v] of Object.entries(readStackConfig("dev")))
    plain[k.replace(/^monkeytown:/, "")] = v;
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete plain[k];
    else plain[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return plain;
}

const devObject = (key: string) =>
  JSON.parse(readStackConfig("dev")[`monkeytown:${key}`]) as Record<string, unknown>;

/** A stack's plain config as tests run it (operator values included), with some keys changed. */
function stackWith(stack: string, changes: Record<string, unknown>): Record<string, string> {
  const plain: Record<string, string> = {};
  for (const [k, v] of Object.entries(stackTestConfig(stack).config)) {
    if (!/Secret|Token|Url$|Password/.test(k)) plain[k.replace(/^monkeytown:/, "")] = v;
  }
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete plain[k];
    else plain[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return plain;
}
const stackObject = (stack: string, key: string) =>
  JSON.parse(stackTestConfig(stack).config[`monkeytown:${key}`]) as Record<string, unknown>;
const stagingEdge = (extra: Record<string, unknown>) =>
  stackWith("staging", { edge: { ...stackObject("staging", "edge"), ...extra } });
const productionEdge = (extra: Record<string, unknown>) =>
  stackWith("production", { edge: { ...stackObject("production", "edge"), ...extra } });

interface BadCase {
  readonly name: string;
  readonly plain: Record<string, string>;
  readonly secretKeys?: string[];
  /** Expected key in the message. */
  readonly key: string;
  /** Expected words of the message and fix. */
  readonly says: RegExp;
  /** The stack the config is for. @default "dev" */
  readonly stack?: string;
}

const BAD: readonly BadCase[] = [
  {
    name: "wrong type (string replicas)",
    plain: devWith({ web: { ...devObject("web"), replicas: "three" } }),
    key: "monkeytown:web.replicas",
    says: /expected a number, got a string.*set it to a number/,
  },
  {
    name: "unknown nested key (typo)",
    plain: devWith({ web: { ...devObject("web"), replica: 2 } }),
    key: "monkeytown:web.replica",
    says: /not a known configuration key.*remove or rename/,
  },
  {
    name: "unknown top-level key",
    plain: devWith({ databse: "x" }),
    key: "monkeytown:databse",
    says: /not a known configuration key.*known keys: environment/,
  },
  {
    name: "min > max autoscaling",
    plain: devWith({ api: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } }),
    key: "monkeytown:api.autoscaling.minReplicas",
    says: /minReplicas is greater than maxReplicas: raise maxReplicas or lower minReplicas/,
  },
  {
    name: "bad domain",
    plain: devWith({ web: { ...devObject("web"), host: "Not A Domain" } }),
    key: "monkeytown:web.host",
    says: /lower-case DNS name/,
  },
  {
    name: "enum value out of range",
    plain: devWith({ api: { strategy: "canary" } }),
    key: "monkeytown:api.strategy",
    says: /use one of: "rolling", "blue-green"/,
  },
  {
    name: "latest image tag",
    plain: devWith({ webImage: "ghcr.io/monkeytown/monkeytown-web:latest" }),
    key: "monkeytown:webImage",
    says: /mutable tag latest/,
  },
  {
    name: "missing required section",
    plain: devWith({ environment: undefined }),
    key: "monkeytown:environment",
    says: /is required but not set.*add `monkeytown:environment`/,
  },
  {
    name: "privileged port",
    plain: devWith({ web: { ...devObject("web"), port: 80 } }),
    key: "monkeytown:web.port",
    says: /raise it to at least 1024/,
  },
  {
    name: "unparseable CPU quantity",
    plain: devWith({ web: { ...devObject("web"), resources: { limits: { cpu: "lots" } } } }),
    key: "monkeytown:web.resources.limits.cpu",
    says: /CPU quantity/,
  },
  {
    name: "CPU limit below its request (the other fields from the seed profile)",
    plain: devWith({ web: { ...devObject("web"), resources: { limits: { cpu: "50m" } } } }),
    key: "monkeytown:web.resources.limits.cpu",
    says: /^\(50m\) is below requests\.cpu \(100m\)\. Fix: raise the limit to at least 100m or lower the request$/,
  },
  {
    name: "memory limit below its request, across units",
    plain: devWith({
      api: { resources: { requests: { memory: "1Gi" }, limits: { memory: "1000Mi" } } },
    }),
    key: "monkeytown:api.resources.limits.memory",
    says: /\(1000Mi\) is below requests\.memory \(1Gi\)\. Fix: raise the limit to at least 1Gi/,
  },
  {
    name: "secret stored in plaintext",
    plain: devWith({ jwtSecret: "not-secret-at-all-but-long-enough-000" }),
    key: "monkeytown:jwtSecret",
    says: /is a secret but is stored in plaintext.*pulumi config set --secret monkeytown:jwtSecret/,
  },
  {
    name: "alert thresholds inverted",
    plain: devWith({ alerts: { thresholds: { cpuPercent: { warning: 95, critical: 90 } } } }),
    key: "monkeytown:alerts.thresholds.cpuPercent.warning",
    says: /not below .*lower warning or raise critical/,
  },
  {
    name: "edge enabled without its zone",
    plain: devWith({
      edge: { enabled: true, domain: "dev.monkeytown.app", origin: "o.monkeytown.app" },
    }),
    key: "monkeytown:edge.zoneId",
    says: /is required when edge.enabled is true/,
  },
  {
    name: "edge switched on with a string, not a boolean",
    plain: devWith({ edge: { enabled: "yes" } }),
    key: "monkeytown:edge.enabled",
    says: /^expected a boolean, got a string\. Fix: set it to a boolean, e\.g\. `pulumi config set --path monkeytown:edge\.enabled true -s dev`$/,
  },
  {
    name: "github enabled without its repository",
    plain: devWith({ github: { enabled: true, owner: "monkeytown" } }),
    key: "monkeytown:github.repository",
    says: /^is required when github\.enabled is true\. Fix: correct `monkeytown:github\.repository` in the stack file$/,
  },
  {
    name: "staging writes a zone-level ruleset it does not own (the zone is production's)",
    stack: "staging",
    plain: stagingEdge({ waf: false, apiRateLimitPerMinute: 100 }),
    key: "monkeytown:edge.apiRateLimitPerMinute",
    says: /^is a zone-level setting, but this stack does not manage the zone \(edge\.manageZone is false\).*Fix: remove it here; set it in the stack file with edge\.manageZone: true \(production\), whose edge\.zoneHostnames lists this stack's edge\.domain$/,
  },
  {
    name: "staging behind strict SSL with a Let's Encrypt staging certificate (error 526)",
    stack: "staging",
    plain: stackWith("staging", {
      environment: { ...stackObject("staging", "environment"), tls: "staging" },
    }),
    key: "monkeytown:environment.tls",
    says: /is "staging" but edge\.enabled is true: .*strict.*error 526\. Fix: set environment\.tls to "production"/,
  },
  {
    name: "no TLS at the origin behind the edge",
    stack: "staging",
    plain: stackWith("staging", {
      environment: { ...stackObject("staging", "environment"), tls: "none" },
    }),
    key: "monkeytown:environment.tls",
    says: /is "none" but edge\.enabled is true: .*525\/526/,
  },
  {
    name: "the zone owner names no plan",
    stack: "production",
    plain: productionEdge({ plan: undefined }),
    key: "monkeytown:edge.plan",
    says: /is required when edge\.manageZone is true.*Fix: set it to one of free, pro, business, enterprise/,
  },
  {
    name: "managed WAF on the Free plan",
    stack: "production",
    plain: productionEdge({ plan: "free" }),
    key: "monkeytown:edge.waf",
    says: /the Free plan cannot deploy Cloudflare's managed WAF rulesets/,
  },
  {
    name: "Advanced Rate Limiting below Enterprise",
    stack: "production",
    plain: productionEdge({ advancedRateLimiting: true }),
    key: "monkeytown:edge.advancedRateLimiting",
    says: /plan is Pro: Advanced Rate Limiting is an Enterprise add-on/,
  },
  {
    name: "the zone's rules leave out the owner's own site",
    stack: "production",
    plain: productionEdge({ zoneHostnames: ["staging.monkeytown.app"] }),
    key: "monkeytown:edge.zoneHostnames",
    says: /leaves out edge\.domain \("monkeytown\.app"\).*Fix: add "monkeytown\.app"/,
  },
  {
    name: "a user key Cloudflare cannot count by",
    stack: "production",
    plain: productionEdge({ userRateLimitKey: "Authorization" }),
    key: "monkeytown:edge.userRateLimitKey",
    says: /must be "header:<lower-case name>" or "cookie:<name>"/,
  },
  {
    name: "a container recovery target no probe period can meet",
    plain: devWith({ recovery: { containerSeconds: 11 } }),
    key: "monkeytown:recovery.containerSeconds",
    says: /^\(11\) is shorter than any probe period can meet: .* take 8 s\. Fix: raise it to at least 12$/,
  },
  {
    name: "a rollback target the rollback itself does not fit in",
    plain: devWith({ recovery: { rollbackSeconds: 30 } }),
    key: "monkeytown:recovery.rollbackSeconds",
    says: /^\(30\) leaves the deploy health check less than two attempts.*Fix: raise it/,
  },
  {
    name: "secrets rendered to disk",
    plain: devWith({ secrets: { delivery: "kubernetes" } }),
    key: "monkeytown:secrets.delivery",
    says: /cannot be kubernetes in render mode/,
  },
  {
    name: "buildx builder name with a space",
    plain: devWith({ registry: { ...devObject("registry"), builder: "my builder" } }),
    key: "monkeytown:registry.builder",
    says: /must be a buildx builder name/,
  },
  {
    name: "image platform that is not Linux",
    plain: devWith({ registry: { ...devObject("registry"), platforms: ["windows/amd64"] } }),
    key: "monkeytown:registry.platforms.0",
    says: /must be a Linux platform/,
  },
  {
    name: "base image without a tag",
    plain: devWith({
      registry: { ...devObject("registry"), baseImages: { node: "docker.io/library/node" } },
    }),
    key: "monkeytown:registry.baseImages.node",
    says: /must be an image reference with a tag or digest/,
  },
  {
    name: "base image for a Dockerfile that has none",
    plain: devWith({
      registry: { ...devObject("registry"), baseImages: { python: "docker.io/library/python:3" } },
    }),
    key: "monkeytown:registry.baseImages.python",
    says: /not a known configuration key/,
  },
  {
    name: "a rollout timeout too short for any pod to start",
    plain: devWith({ recovery: { rolloutTimeoutSeconds: 10 } }),
    key: "monkeytown:recovery.rolloutTimeoutSeconds",
    says: /expected number to be >=30/,
  },
  {
    name: "a toleration with a value but operator Exists",
    plain: devWith({
      cluster: { tolerations: [{ key: "pool", operator: "Exists", value: "web" }] },
    }),
    key: "monkeytown:cluster.tolerations.0.value",
    says: /must be unset when operator is Exists/,
  },
  {
    name: "a key-less toleration that is not Exists",
    plain: devWith({ cluster: { tolerations: [{ value: "web", effect: "NoSchedule" }] } }),
    key: "monkeytown:cluster.tolerations.0.key",
    says: /is required when operator is Equal/,
  },
  {
    name: "a node selector label Kubernetes refuses",
    plain: devWith({ cluster: { nodeSelector: { "node pool": "web" } } }),
    key: "monkeytown:cluster.nodeSelector.node pool",
    says: /label names are `name` or `prefix\/name`/,
  },
  {
    name: "no image and nothing builds it",
    plain: devWith({ apiImage: undefined }),
    key: "monkeytown:apiImage",
    says: /required when registry.push is false/,
  },
];

describe("parseStackConfig: bad configurations", () => {
  it.each(BAD)("$name", (bad) => {
    const stack = bad.stack ?? "dev";
    const result = parseStackConfig({ plain: bad.plain, secretKeys: bad.secretKeys ?? [] }, stack);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const problem = result.problems.find((p) => p.key === bad.key);
    expect(problem, JSON.stringify(result.problems)).toBeDefined();
    expect(`${problem!.message}. Fix: ${problem!.fix}`).toMatch(bad.says);
    expect(formatProblems(result.problems, stack)).toMatch(
      new RegExp(`^Invalid configuration in Pulumi\\.${stack}\\.yaml`),
    );
  });

  it("reports every problem at once", () => {
    const plain = devWith({
      web: { ...devObject("web"), replicas: "three", host: "Bad Host" },
      api: { strategy: "canary" },
      databse: "x",
    });
    const result = parseStackConfig({ plain, secretKeys: [] }, "dev");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.key).sort()).toEqual([
      "monkeytown:api.strategy",
      "monkeytown:databse",
      "monkeytown:web.host",
      "monkeytown:web.replicas",
    ]);
  });

  it("a switched-on section's missing keys do not hide its other problems", () => {
    const plain = stagingEdge({ zoneId: undefined, origin: undefined, waf: false });
    const result = parseStackConfig({ plain, secretKeys: [] }, "staging");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.key}: ${p.message}`).sort()).toEqual([
      "monkeytown:edge.origin: is required when edge.enabled is true",
      "monkeytown:edge.waf: is a zone-level setting, but this stack does not manage the zone (edge.manageZone is false); Cloudflare keeps one entry-point ruleset per phase and one setting per zone, so a second stack writing it would overwrite the first",
      "monkeytown:edge.zoneId: is required when edge.enabled is true",
    ]);
  });
});

describe("parseStackConfig: the stack files", () => {
  it.each(["dev", "staging", "production"])("%s parses with the defaults applied once", (stack) => {
    const { config } = stackTestConfig(stack);
    const plain: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) {
      if (k.startsWith("monkeytown:") && !/Secret|Token|Url$|Password/.test(k)) {
        plain[k.slice("monkeytown:".length)] = v;
      }
    }
    const result = parseStackConfig({ plain, secretKeys: [] }, stack);
    expect(result.ok, JSON.stringify(!result.ok && result.problems)).toBe(true);
    if (!result.ok) return;
    // Seed resource profiles as defaults.
    expect(result.config.web.resources).toEqual({
      requests: { cpu: "100m", memory: "64Mi" },
      limits: { cpu: "200m", memory: "128Mi" },
    });
    expect(result.config.api.resources.limits).toEqual({ cpu: "1000m", memory: "512Mi" });
    // Zone-level edge settings only in the stack that owns the zone.
    expect(result.config.edge.manageZone).toBe(stack === "production");
  });
});

describe("secret values", () => {
  const parsed = parseStackConfig(
    {
      plain: Object.fromEntries(
        Object.entries(stackTestConfig("staging").config)
          .filter(([k]) => !/Secret|Token|Url$|Password/.test(k))
          .map(([k, v]) => [k.slice("monkeytown:".length), v]),
      ),
      secretKeys: [],
    },
    "staging",
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const config = parsed.config;

  it("a short JWT secret is refused without printing it", () => {
    const short = "tooShort-SENTINEL";
    const problems = validateSecretValues(config, {
      jwtSecret: short,
      registryToken: "x".repeat(24),
      alertWebhookUrl: "https://hooks.slack.com/x",
      cloudflareApiToken: "y".repeat(24),
      githubToken: "z".repeat(24),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ key: "jwtSecret" });
    expect(problems[0].message).toMatch(/at least 32 characters/);
    expect(JSON.stringify(problems)).not.toContain(short);
  });

  it("a missing required secret names the key and the command that sets it", () => {
    const problems = validateSecretValues(config, {});
    expect(problems.map((p) => p.key).sort()).toEqual([
      "alertWebhookUrl",
      "cloudflareApiToken",
      "githubToken",
      "jwtSecret",
      "registryToken",
    ]);
    expect(problems.find((p) => p.key === "jwtSecret")!.fix).toBe(
      "run `pulumi config set --secret monkeytown:jwtSecret <value>`",
    );
  });

  it("an http (not https) webhook is refused", () => {
    const problems = validateSecretValues(config, { alertWebhookUrl: "http://hooks.example/x" });
    expect(problems.find((p) => p.key === "alertWebhookUrl")!.message).toMatch(/https:\/\/ URL/);
  });
});

describe("the program with bad configuration", () => {
  it("throws a RunError naming key, stack file and fix, and registers no resource", async () => {
    const config = readStackConfig("dev");
    config["monkeytown:web"] = JSON.stringify({ ...devObject("web"), replicas: "three" });
    const h = await installMocks({ stack: "dev", config });
    const { program } = await import("../stacks/program");
    const pulumi = await import("@pulumi/pulumi");
    const error = await program().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).toContain(
      'Invalid configuration in Pulumi.dev.yaml (stack "dev"): 1 problem; nothing was created.',
    );
    expect(String((error as Error).message)).toContain(
      "monkeytown:web.replicas: expected a number",
    );
    await h.settle();
    expect(h.resources).toHaveLength(0);
  });

  it("a limit below its request is one more line of the RunError, before any resource", async () => {
    const { config, secretKeys } = stackTestConfig("staging");
    const api = JSON.parse(config["monkeytown:api"]) as Record<string, unknown>;
    config["monkeytown:api"] = JSON.stringify({
      ...api,
      resources: { limits: { cpu: "100m" } },
    });
    config["monkeytown:jwtSecret"] = "short-SENTINEL-secret";
    const h = await installMocks({ stack: "staging", config, secretKeys });
    const { program } = await import("../stacks/program");
    const pulumi = await import("@pulumi/pulumi");
    const error = (await program().then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect(error.message).toContain('Pulumi.staging.yaml (stack "staging"): 2 problems');
    expect(error.message).toContain(
      "  - monkeytown:api.resources.limits.cpu: (100m) is below requests.cpu (200m). Fix: raise the limit to at least 200m or lower the request.",
    );
    expect(error.message).toContain("monkeytown:jwtSecret: must be at least 32 characters long");
    await h.settle();
    expect(h.resources).toHaveLength(0);
  });

  it("a short secret stops staging before any resource, and the value is not in the message", async () => {
    const { config, secretKeys } = stackTestConfig("staging");
    config["monkeytown:jwtSecret"] = "short-SENTINEL-secret";
    const h = await installMocks({ stack: "staging", config, secretKeys });
    const { program } = await import("../stacks/program");
    const error = (await program().then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toMatch(
      /monkeytown:jwtSecret: must be at least 32 characters long \(the value is not shown\)/,
    );
    expect(error.message).not.toContain("short-SENTINEL-secret");
    await h.settle();
    expect(h.resources).toHaveLength(0);
  });
});

describe("plain and secret problems together", () => {
  it("a bad plain value and a short secret are reported in one message", async () => {
    const { config, secretKeys } = stackTestConfig("staging");
    const web = JSON.parse(config["monkeytown:web"]) as Record<string, unknown>;
    config["monkeytown:web"] = JSON.stringify({ ...web, replicas: 0 });
    config["monkeytown:jwtSecret"] = "short-SENTINEL-secret";
    const h = await installMocks({ stack: "staging", config, secretKeys });
    const { program } = await import("../stacks/program");
    const error = (await program().then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toContain('Pulumi.staging.yaml (stack "staging"): 2 problems');
    expect(error.message).toContain("monkeytown:web.replicas: Too small");
    expect(error.message).toContain("monkeytown:jwtSecret: must be at least 32 characters long");
    expect(error.message).not.toContain("short-SENTINEL-secret");
    await h.settle();
    expect(h.resources).toHaveLength(0);
  });

  it("without a valid plain config, only the format of set secrets is checked", () => {
    expect(validateSecretValues(undefined, {})).toEqual([]);
    expect(validateSecretValues(undefined, { sentryDsn: "http://x" }).map((p) => p.key)).toEqual([
      "sentryDsn",
    ]);
  });
});

describe(".env.example", () => {
  it("lists every runtime setting of the app schema, with no values", () => {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, ".env.example"), "utf8");
    const lines = text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
    expect(lines.map((l) => l.split("=")[0]).sort()).toEqual(
      Object.keys(appSettingsSchema.shape).sort(),
    );
    for (const line of lines) expect(line).toMatch(/^[A-Z_]+=$/);
  });
});
