import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { installMocks } from "../../test/harness";
import { secretOutput, validateSecretsArgs } from "./index";

const JWT = "SENTINEL-jwt-0123456789abcdefghijklmnop";

describe("Secrets", () => {
  it("kubernetes delivery: one Secret whose data stays a Pulumi secret", async () => {
    const h = await installMocks();
    const { Secrets } = await import("./index");
    const s = new Secrets("app", {
      namespace: "ns",
      secretName: "monkeytown-app",
      delivery: "kubernetes",
      entries: { JWT_SECRET: secretOutput(pulumi.output(JWT)) },
    });
    await h.settle();
    const secret = h.one("kubernetes:core/v1:Secret", "app-secret");
    expect(secret.inputs.metadata.name).toBe("monkeytown-app");
    expect(secret.inputs.stringData).toEqual({ JWT_SECRET: JWT });
    expect(h.dump()).not.toContain(JWT);
    expect(s.ref.keys).toEqual(["JWT_SECRET"]);
  });

  it("external delivery: nothing in the cluster, workloads still get the reference", async () => {
    const h = await installMocks();
    const { Secrets } = await import("./index");
    const s = new Secrets("app", {
      namespace: "ns",
      secretName: "monkeytown-app",
      delivery: "external",
      entries: { JWT_SECRET: undefined },
    });
    await h.settle();
    expect(h.byType("kubernetes:core/v1:Secret")).toHaveLength(0);
    expect(s.ref).toEqual({ name: "monkeytown-app", keys: ["JWT_SECRET"] });
  });

  it("delivers every set value to each GitHub Actions environment, as a secret", async () => {
    const h = await installMocks();
    const { Secrets } = await import("./index");
    new Secrets("app", {
      namespace: "ns",
      secretName: "monkeytown-app",
      delivery: "kubernetes",
      entries: {
        JWT_SECRET: secretOutput(pulumi.output(JWT)),
        SENTRY_DSN: secretOutput(pulumi.output("https://SENTINEL@sentry.io/1")),
      },
      githubEnvironments: [{ repository: "monkeytown", environment: "staging" }],
    });
    await h.settle();
    const gh = h.byType("github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret");
    expect(gh.map((g) => [g.name, g.inputs.environment, g.inputs.secretName])).toEqual([
      ["app-gh-staging-jwt_secret", "staging", "JWT_SECRET"],
      ["app-gh-staging-sentry_dsn", "staging", "SENTRY_DSN"],
    ]);
    expect(h.dump()).not.toContain("SENTINEL");
  });

  it("refuses a kubernetes delivery with a missing value, and bad names", () => {
    expect(
      validateSecretsArgs({
        namespace: "ns",
        secretName: "Bad_Name",
        delivery: "kubernetes",
        entries: { JWT_SECRET: undefined, "lower-case": undefined },
      }),
    ).toEqual([
      '`entries.JWT_SECRET` has no value but `delivery` is "kubernetes": set its secret config or use delivery "external".',
      '`entries` key "lower-case" must be UPPER_SNAKE_CASE.',
      '`entries.lower-case` has no value but `delivery` is "kubernetes": set its secret config or use delivery "external".',
      '`secretName` ("Bad_Name") must be a lower-case RFC 1123 name.',
    ]);
  });

  it("secretOutput marks a plain Output as secret", async () => {
    await installMocks();
    expect(await pulumi.isSecret(secretOutput(pulumi.output("x")))).toBe(true);
  });
});
