/**
 * The override files and the workspace cluster:deploy runs in: what runs on a cluster is the real
 * stack file with the override file laid over it, and nothing else.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, parseAllDocuments } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../config";
import { clusterRequirements } from "../stacks/preflight";
import { flattenConfig } from "../test/stack-config";
import {
  CLUSTER_STACKS,
  REPO_ROOT,
  clusterConfig,
  clusterKey,
  overlay,
  overrideFile,
  parseImageBuilder,
  pinnedColours,
  prepareWorkspace,
  readConfigMap,
  realNodePolicyConfig,
  stackFile,
} from "./workspace";

/** Every leaf of a nested map as `path -> value` (arrays are leaves). */
function leaves(value: unknown, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      for (const [p, leaf] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(p, leaf);
    }
  } else {
    out.set(prefix, value);
  }
  return out;
}

describe("overlay", () => {
  it("merges objects key by key, replaces scalars and arrays, removes keys set to null", () => {
    const base = { a: { b: 1, c: [1, 2], d: "x" }, e: true, f: { g: 1 } };
    expect(overlay(base, { a: { b: 2, c: [3] }, f: null })).toEqual({
      a: { b: 2, c: [3], d: "x" },
      e: true,
    });
    expect(base).toEqual({ a: { b: 1, c: [1, 2], d: "x" }, e: true, f: { g: 1 } });
  });
});

describe.each(CLUSTER_STACKS)("%s on a cluster", (stack) => {
  const real = leaves(readConfigMap(stackFile(stack)));
  const override = leaves(readConfigMap(overrideFile(stack)));
  const shaped = leaves(clusterConfig(stack));

  it("every key the override file does not name is the stack file's own", () => {
    const changed = [...new Set([...real.keys(), ...shaped.keys()])].filter(
      (k) => JSON.stringify(real.get(k)) !== JSON.stringify(shaped.get(k)),
    );
    // The keys that differ are exactly the override file's leaves (a null leaf removes the key).
    expect(changed.sort()).toEqual([...override.keys()].sort());
    for (const [k, v] of override) expect(shaped.get(k)).toEqual(v === null ? undefined : v);
  });

  it("overrides only what cannot exist here: Cloudflare, GitHub, image builds", () => {
    expect([...override.keys()].sort()).toEqual([
      "monkeytown:apiImage",
      "monkeytown:edge.enabled",
      "monkeytown:github.enabled",
      "monkeytown:registry.push",
      "monkeytown:secrets.githubEnvironment",
      "monkeytown:webImage",
    ]);
    for (const image of ["monkeytown:webImage", "monkeytown:apiImage"]) {
      expect(override.get(image)).toMatch(
        /^ghcr\.io\/monkeytown\/monkeytown-(web|api)@sha256:[0-9a-f]{64}$/,
      );
    }
  });

  it("is a valid configuration that needs no unbuildable provider", () => {
    const parsed = parseStackConfig(
      {
        plain: Object.fromEntries(
          Object.entries(flattenConfig(clusterConfig(stack))).map(([k, v]) => [
            k.replace(/^monkeytown:/, ""),
            v,
          ]),
        ),
        secretKeys: ["jwtSecret", "alertWebhookUrl"],
      },
      stack,
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems, null, 2));
    expect(parsed.config.kubernetes.mode).toBe("cluster");
    expect(parsed.config.edge.enabled).toBe(false);
    expect(parsed.config.github.enabled).toBe(false);
    expect(parsed.config.registry.push).toBe(false);
  });

  it("the local cluster has what the stack's preflight asks for", () => {
    const objects = parseAllDocuments(
      fs.readFileSync(path.join(REPO_ROOT, "cluster", "manifests", "prerequisites.yaml"), "utf8"),
    ).map((d) => d.toJSON() as { kind: string; metadata: { name: string } });
    const names = (kind: string) =>
      objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    const plain = Object.fromEntries(
      Object.entries(flattenConfig(clusterConfig(stack))).map(([k, v]) => [
        k.replace(/^monkeytown:/, ""),
        v,
      ]),
    );
    const parsed = parseStackConfig({ plain, secretKeys: ["jwtSecret", "alertWebhookUrl"] }, stack);
    if (!parsed.ok) throw new Error("invalid");
    const kindOf: Record<string, string> = {
      namespaces: "Namespace",
      ingressclasses: "IngressClass",
      clusterissuers: "ClusterIssuer",
    };
    const objectChecks = clusterRequirements(parsed.config, stack).filter(
      (r) => r.check.kind === "object",
    );
    expect(objectChecks.map((r) => r.path)).toContain(
      `/apis/cert-manager.io/v1/clusterissuers/letsencrypt-${parsed.config.environment.tls}`,
    );
    for (const r of objectChecks) {
      const [, plural, name] = /\/([a-z]+)\/([^/]+)$/.exec(r.path)!;
      expect(names(kindOf[plural]), r.path).toContain(name);
    }
  });
});

describe("prepareWorkspace", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "monkeytown-workspace-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("writes the project file pointing at the repository and the overlaid stack file", () => {
    const ws = prepareWorkspace("production", root);
    const project = parse(fs.readFileSync(path.join(ws.dir, "Pulumi.yaml"), "utf8")) as {
      name: string;
      main: string;
    };
    expect(project.name).toBe("monkeytown");
    expect(path.resolve(ws.dir, project.main)).toBe(REPO_ROOT);
    const doc = parse(fs.readFileSync(ws.stackFile, "utf8")) as { config: unknown };
    expect(doc.config).toEqual(clusterConfig("production"));
    expect(Object.keys(ws.missingSecrets).sort()).toEqual([
      "monkeytown:alertWebhookUrl",
      "monkeytown:jwtSecret",
    ]);
  });

  it("keeps the salt and the secure values an earlier run set", () => {
    const first = prepareWorkspace("staging", root);
    const doc = parse(fs.readFileSync(first.stackFile, "utf8")) as Record<string, unknown>;
    const config = doc.config as Record<string, unknown>;
    config["monkeytown:jwtSecret"] = { secure: "v1:abc" };
    fs.writeFileSync(first.stackFile, JSON.stringify({ encryptionsalt: "v1:salt", config }));
    const again = prepareWorkspace("staging", root);
    const redone = parse(fs.readFileSync(again.stackFile, "utf8")) as Record<string, unknown>;
    expect(redone.encryptionsalt).toBe("v1:salt");
    expect((redone.config as Record<string, unknown>)["monkeytown:jwtSecret"]).toEqual({
      secure: "v1:abc",
    });
    expect(Object.keys(again.missingSecrets)).toEqual(["monkeytown:alertWebhookUrl"]);
  });
});

describe("pinnedColours", () => {
  it("keeps both colours at what runs, from the stack outputs", () => {
    expect(
      pinnedColours({
        apiActiveColor: "green",
        apiColorImages: { blue: "ghcr.io/o/api@sha256:aa", green: "ghcr.io/o/api@sha256:bb" },
      }),
    ).toEqual({
      "monkeytown:api.activeColor": "green",
      "monkeytown:api.blueImage": "ghcr.io/o/api@sha256:aa",
      "monkeytown:api.greenImage": "ghcr.io/o/api@sha256:bb",
    });
  });
  it("pins nothing for a rolling or never-deployed stack", () => {
    expect(pinnedColours({})).toEqual({});
    expect(pinnedColours({ apiActiveColor: "blue" })).toEqual({});
  });
});

describe("clusterKey", () => {
  const kubeconfig = (server: string, ca: string) => `
apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}", certificate-authority-data: "${ca}" } }]
contexts: [{ name: ctx, context: { cluster: c, user: u } }]
current-context: ctx
`;
  it("differs per server and per CA, and is stable", () => {
    const a = clusterKey(kubeconfig("https://127.0.0.1:16443", "AAA"));
    expect(a).toBe(clusterKey(kubeconfig("https://127.0.0.1:16443", "AAA")));
    expect(a).not.toBe(clusterKey(kubeconfig("https://127.0.0.1:16443", "BBB")));
    expect(a).not.toBe(clusterKey(kubeconfig("https://127.0.0.1:6443", "AAA")));
    expect(a).toMatch(/^ctx-[0-9a-f]{10}$/);
  });
});

/** What `cluster/images/builder.sh env` prints for a running builder. */
const BUILDER_ENV = [
  "DOCKER_CONFIG=/root/.local/state/monkeytown-cluster/real-node/builder/docker",
  "BUILDX_BUILDER=monkeytown-local",
  "REGISTRY=127.0.0.1:20500",
  `NGINX_IMAGE=127.0.0.1:20500/monkeytown-base/nginx@sha256:${"a".repeat(64)}`,
  `NODE_IMAGE=127.0.0.1:20500/monkeytown-base/node@sha256:${"b".repeat(64)}`,
  "",
].join("\n");

describe("parseImageBuilder", () => {
  it("reads the registry, the builder, its Docker config and the base images", () => {
    expect(parseImageBuilder(BUILDER_ENV)).toEqual({
      registry: "127.0.0.1:20500",
      builder: "monkeytown-local",
      dockerConfig: "/root/.local/state/monkeytown-cluster/real-node/builder/docker",
      baseImages: {
        nginx: `127.0.0.1:20500/monkeytown-base/nginx@sha256:${"a".repeat(64)}`,
        node: `127.0.0.1:20500/monkeytown-base/node@sha256:${"b".repeat(64)}`,
      },
    });
  });

  it("refuses settings that lack a key, a registry off loopback, or a base image not pinned by digest", () => {
    expect(() => parseImageBuilder(BUILDER_ENV.replace(/^NODE_IMAGE=.*$/m, ""))).toThrow(
      "the image builder's settings lack NODE_IMAGE",
    );
    expect(() =>
      parseImageBuilder(BUILDER_ENV.replaceAll("127.0.0.1:20500", "registry.example:5000")),
    ).toThrow("not on loopback");
    expect(() => parseImageBuilder(BUILDER_ENV.replace(/nginx@sha256:a+/, "nginx:1.22"))).toThrow(
      "NGINX_IMAGE (127.0.0.1:20500/monkeytown-base/nginx:1.22) is not an image in 127.0.0.1:20500 pinned by digest",
    );
  });
});

describe.each(CLUSTER_STACKS)("%s on the real node (cluster:deploy --real-node)", (stack) => {
  const builder = parseImageBuilder(BUILDER_ENV);
  const shaped = leaves(clusterConfig(stack));
  const onNode = leaves(clusterConfig(stack, builder));

  it("builds and pushes the images to the local registry with the node's builder, on the local bases, and runs the pods on the real node; nothing else changes", () => {
    const changed = [...new Set([...shaped.keys(), ...onNode.keys()])].filter(
      (k) => JSON.stringify(shaped.get(k)) !== JSON.stringify(onNode.get(k)),
    );
    expect(changed.sort()).toEqual([
      "monkeytown:apiImage",
      "monkeytown:cluster.nodeSelector.monkeytown.dev/real-node",
      "monkeytown:cluster.tolerations",
      "monkeytown:registry.baseImages.nginx",
      "monkeytown:registry.baseImages.node",
      "monkeytown:registry.builder",
      "monkeytown:registry.push",
      "monkeytown:registry.server",
      "monkeytown:webImage",
    ]);
    expect(onNode.get("monkeytown:registry.push")).toBe(true);
    expect(onNode.get("monkeytown:registry.server")).toBe("127.0.0.1:20500");
    expect(onNode.get("monkeytown:registry.builder")).toBe("monkeytown-local");
    expect(onNode.has("monkeytown:webImage")).toBe(false);
    expect(onNode.has("monkeytown:apiImage")).toBe(false);
  });

  it("is a valid configuration, given the throwaway registry token", () => {
    const plain = Object.fromEntries(
      Object.entries(flattenConfig(clusterConfig(stack, builder))).map(([k, v]) => [
        k.replace(/^monkeytown:/, ""),
        v,
      ]),
    );
    const parsed = parseStackConfig(
      { plain, secretKeys: ["jwtSecret", "alertWebhookUrl", "registryToken"] },
      stack,
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems, null, 2));
    expect(parsed.config.registry).toMatchObject({
      push: true,
      server: "127.0.0.1:20500",
      builder: "monkeytown-local",
      baseImages: builder.baseImages,
    });
    expect(parsed.config.webImage).toBeUndefined();
    expect(parsed.config.apiImage).toBeUndefined();
    expect(parsed.config.cluster.nodeSelector).toEqual({ "monkeytown.dev/real-node": "true" });
    expect(parsed.config.cluster.tolerations).toEqual([
      { key: "monkeytown.dev/real-node", operator: "Equal", value: "true", effect: "NoSchedule" },
    ]);
  });

  it("the policy config only adds the local registry to image-pinned's allowed prefixes", () => {
    const own = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, "policy", "config", `${stack}.json`), "utf8"),
    ) as Record<string, unknown>;
    const local = realNodePolicyConfig(own, builder);
    const prefixes = (own["image-pinned"] as { allowedImagePrefixes?: string[] })
      .allowedImagePrefixes;
    const { "image-pinned": rule, ...rest } = local;
    const { "image-pinned": ownRule, ...ownRest } = own;
    expect(rest).toEqual(ownRest);
    expect(rule).toEqual(
      prefixes === undefined
        ? ownRule
        : { ...(ownRule as object), allowedImagePrefixes: [...prefixes, "127.0.0.1:20500/"] },
    );
  });
});

describe("realNodePolicyConfig", () => {
  it("keeps production's digest requirement and GHCR, and allows the local registry", () => {
    const own = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, "policy", "config", "production.json"), "utf8"),
    ) as Record<string, unknown>;
    expect(realNodePolicyConfig(own, parseImageBuilder(BUILDER_ENV))["image-pinned"]).toEqual({
      enforcementLevel: "mandatory",
      requireDigest: true,
      allowedImagePrefixes: ["ghcr.io/", "127.0.0.1:20500/"],
    });
  });
});

describe("prepareWorkspace with the real node's builder", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "monkeytown-workspace-node-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("writes the overlaid stack file with the builder's keys and asks for a throwaway registry token", () => {
    const builder = parseImageBuilder(BUILDER_ENV);
    const ws = prepareWorkspace("production", root, builder);
    const doc = parse(fs.readFileSync(ws.stackFile, "utf8")) as { config: unknown };
    expect(doc.config).toEqual(clusterConfig("production", builder));
    expect(Object.keys(ws.missingSecrets).sort()).toEqual([
      "monkeytown:alertWebhookUrl",
      "monkeytown:jwtSecret",
      "monkeytown:registryToken",
    ]);
  });
});
