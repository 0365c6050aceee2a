/**
 * Production's blue-green release flow through the real stack file, under mocks: the config keys
 * the deploy flow sets (api.activeColor, api.blueImage, api.greenImage), what one `pulumi up` with a
 * new image moves, the stack outputs that record each colour's image, and the bad combinations that
 * stop the program before any resource (config errors, and the preflight's check of what already
 * runs on the cluster).
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../config";
import { installMocks, valueOf, type Harness } from "../test/harness";
import { stackTestConfig } from "../test/stack-config";
import { completeClusterLookup, type ApiAnswer, type ClusterLookup } from "./preflight";
import type { StackOutputs } from "./program";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const V1 = "ghcr.io/monkeytown/monkeytown-api@sha256:" + "1".repeat(64);
const V2 = "ghcr.io/monkeytown/monkeytown-api@sha256:" + "2".repeat(64);
const V3 = "ghcr.io/monkeytown/monkeytown-api@sha256:" + "3".repeat(64);

/** production's test config with api fields and top-level keys changed. */
function production(api: Record<string, unknown>, top: Record<string, string> = {}) {
  const { config, secretKeys } = stackTestConfig("production");
  const current = JSON.parse(config["monkeytown:api"]) as Record<string, unknown>;
  config["monkeytown:api"] = JSON.stringify({ ...current, ...api });
  for (const [k, v] of Object.entries(top)) config[`monkeytown:${k}`] = v;
  return { config, secretKeys };
}

async function run(
  api: Record<string, unknown>,
  top: Record<string, string> = {},
  clusterLookup: ClusterLookup = completeClusterLookup,
): Promise<{ h: Harness; outputs?: StackOutputs; error?: Error }> {
  const h = await installMocks({ stack: "production", ...production(api, top), clusterLookup });
  const { program } = await import("./program");
  let outputs: StackOutputs | undefined;
  let error: Error | undefined;
  try {
    outputs = await program();
  } catch (e) {
    error = e as Error;
  }
  await h.settle();
  return { h, outputs, error };
}

const imageOf = (h: Harness, color: string): string =>
  h.one(DEPLOYMENT, `api-${color}`).inputs.spec.template.spec.containers[0].image;

describe("production blue-green: what an update moves", () => {
  it("a new release with the serving colour pinned moves only the idle colour", async () => {
    const first = await run({ activeColor: "blue", blueImage: V1 }, { apiImage: V2 });
    expect(first.error).toBeUndefined();
    expect(imageOf(first.h, "blue")).toBe(V1);
    expect(imageOf(first.h, "green")).toBe(V2);
    const next = await run({ activeColor: "blue", blueImage: V1 }, { apiImage: V3 });
    expect(imageOf(next.h, "blue")).toBe(V1);
    expect(imageOf(next.h, "green")).toBe(V3);
  });

  it("the stack records each colour's image and the serving one", async () => {
    const { outputs } = await run({ activeColor: "green", blueImage: V1, greenImage: V2 });
    expect(outputs!.apiActiveColor).toBe("green");
    expect(await valueOf(outputs!.apiColorImages!.blue)).toBe(V1);
    expect(await valueOf(outputs!.apiColorImages!.green)).toBe(V2);
    expect(await valueOf(outputs!.images.api)).toBe(V2);
  });

  it("a rolling stack records no colours", async () => {
    const h = await installMocks({ stack: "staging", ...stackTestConfig("staging") });
    const { program } = await import("./program");
    const outputs = await program();
    await h.settle();
    expect(outputs).not.toHaveProperty("apiColorImages");
    expect(outputs).not.toHaveProperty("apiActiveColor");
  });
});

describe("bad combinations stop the program before any resource", () => {
  function plainOf(config: Record<string, string>): Record<string, string> {
    return Object.fromEntries(
      Object.entries(config)
        .filter(([k]) => !/Secret|Token|Url$|Password/.test(k))
        .map(([k, v]) => [k.slice("monkeytown:".length), v]),
    );
  }

  it("activeColor at an unpinned colour while the other is pinned: the key, the stack and the fix", async () => {
    const { config } = production({ activeColor: "green", blueImage: V1 });
    const result = parseStackConfig({ plain: plainOf(config), secretKeys: [] }, "production");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0].key).toBe("monkeytown:api.greenImage");
    expect(result.problems[0].message).toMatch(
      /^is unset, but api.activeColor points at green while api.blueImage is pinned/,
    );
    expect(result.problems[0].fix).toContain("`scripts/blue-green.sh pin production`");
    expect(result.problems[0].fix).toContain(
      "`pulumi config set --path monkeytown:api.greenImage <the image green runs> -s production`",
    );

    const { error, h } = await run({ activeColor: "green", blueImage: V1 });
    expect(error?.message).toContain(
      'Invalid configuration in Pulumi.production.yaml (stack "production"): 1 problem; nothing was created.',
    );
    expect(error?.message).toContain("monkeytown:api.greenImage: is unset");
    expect(h.resources).toHaveLength(0);
  });

  it("colour images on a rolling stack are refused", () => {
    const { config } = stackTestConfig("staging");
    const api = JSON.parse(config["monkeytown:api"]) as Record<string, unknown>;
    config["monkeytown:api"] = JSON.stringify({ ...api, blueImage: V1 });
    const result = parseStackConfig({ plain: plainOf(config), secretKeys: [] }, "staging");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      {
        key: "monkeytown:api.blueImage",
        message: "is set but api.strategy is rolling: only blue-green runs a Deployment per colour",
        fix: "remove it (`pulumi config rm --path monkeytown:api.blueImage -s staging`), or set api.strategy to blue-green",
      },
    ]);
  });

  /** A cluster with every prerequisite, where the given colour Deployments already run. */
  function deployed(images: Partial<Record<"blue" | "green", string>>): ClusterLookup {
    return (apiPath) => {
      const m = /\/namespaces\/monkeytown\/deployments\/api-(blue|green)$/.exec(apiPath);
      if (!m) return completeClusterLookup(apiPath);
      const image = images[m[1] as "blue" | "green"];
      const answer: ApiAnswer = image
        ? {
            status: "found",
            body: { spec: { template: { spec: { containers: [{ name: "api", image }] } } } },
          }
        : { status: "absent" };
      return Promise.resolve(answer);
    };
  }

  it("after the first deploy, an unpinned serving colour is refused with the image it runs", async () => {
    const { error, h } = await run({ activeColor: "blue" }, {}, deployed({ blue: V1, green: V2 }));
    expect(error?.message.split("\n")[0]).toBe(
      'Cluster preflight for stack "production" (Pulumi.production.yaml, the current kube context): 1 problem; nothing was created.',
    );
    expect(error?.message).toContain(
      `  - monkeytown:api.blueImage: is unset, but the API is already deployed (api-blue runs ${V1}; api-green runs ${V2}) and api.activeColor is blue`,
    );
    expect(error?.message).toContain(
      `Fix: pin the colours to what runs with \`scripts/blue-green.sh pin production\` (the deploy workflow does this on every run), or \`pulumi config set --path monkeytown:api.blueImage ${V1} -s production\`.`,
    );
    expect(h.resources).toHaveLength(0);
  });

  it("activeColor at a colour never deployed: the fix points back at the one that runs", async () => {
    const { error } = await run({ activeColor: "green" }, {}, deployed({ blue: V1 }));
    expect(error?.message).toContain(
      "`pulumi config set --path monkeytown:api.activeColor blue -s production` and `pulumi config set --path monkeytown:api.blueImage " +
        V1 +
        " -s production`",
    );
  });

  it("passes once the serving colour is pinned, and before the first deploy", async () => {
    expect(
      (await run({ activeColor: "blue", blueImage: V1 }, {}, deployed({ blue: V1, green: V2 })))
        .error,
    ).toBeUndefined();
    expect((await run({ activeColor: "blue" }, {}, deployed({}))).error).toBeUndefined();
  });
});
