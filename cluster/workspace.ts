/**
 * A stack's shape on a cluster: the real stack file with the stack's override file
 * (`cluster/overrides/<stack>.yaml`) laid over it, in a workspace of its own, so that `pulumi`
 * runs the real program, components and policy config with only what cannot exist here changed.
 *
 * The workspace is `<root>/<stack>/` holding `Pulumi.yaml` (the project file, with `main` pointing
 * back at the repository) and `Pulumi.<stack>.yaml` (the overlaid stack file, plus the throwaway
 * secrets `cluster:deploy` sets). `cluster/deploy.ts` and the cluster tests both use it.
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";

export const REPO_ROOT = path.resolve(__dirname, "..");
/** Stacks that have an override file, i.e. a shape that can run on a cluster. */
export const CLUSTER_STACKS = ["staging", "production"] as const;
export type ClusterStack = (typeof CLUSTER_STACKS)[number];
/** The passphrase of cluster:deploy's own file backend; it protects throwaway values only. */
export const CLUSTER_PASSPHRASE = "monkeytown-local-cluster";

type ConfigMap = Record<string, unknown>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * `base` with `override` laid over it: objects merge key by key, anything else (scalars, arrays)
 * replaces, and `null` removes the key. Neither argument is modified.
 */
export function overlay(base: ConfigMap, override: ConfigMap): ConfigMap {
  const out: ConfigMap = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(out[key]))
      out[key] = overlay(out[key] as ConfigMap, value);
    else out[key] = value;
  }
  return out;
}

/** The `config:` map of a stack or override file. */
export function readConfigMap(file: string): ConfigMap {
  const doc: unknown = parse(fs.readFileSync(file, "utf8"));
  if (!isObject(doc) || !isObject(doc.config)) {
    throw new Error(`${path.relative(REPO_ROOT, file)} has no \`config:\` map`);
  }
  return doc.config;
}

export function stackFile(stack: string): string {
  return path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
}

export function overrideFile(stack: string): string {
  return path.join(REPO_ROOT, "cluster", "overrides", `${stack}.yaml`);
}

/**
 * The image builder of the local cluster's real node, as `cluster/images/builder.sh env` prints it:
 * a registry on loopback standing in for GHCR, a buildx builder (buildkitd on the node's containerd)
 * registered in its own Docker config, and the local base images pushed to that registry.
 */
export interface ImageBuilder {
  /** `127.0.0.1:<port>`: the local registry. */
  readonly registry: string;
  /** The buildx builder's name. */
  readonly builder: string;
  /** The Docker config directory the builder is registered in (DOCKER_CONFIG for docker-build). */
  readonly dockerConfig: string;
  /** The local base images, by digest in the local registry. */
  readonly baseImages: { readonly nginx: string; readonly node: string };
}

/** Parses `cluster/images/builder.sh env`; throws naming what is missing. */
export function parseImageBuilder(text: string): ImageBuilder {
  const env = Object.fromEntries(
    text
      .split("\n")
      .map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  const missing = [
    "REGISTRY",
    "BUILDX_BUILDER",
    "DOCKER_CONFIG",
    "NGINX_IMAGE",
    "NODE_IMAGE",
  ].filter((k) => !env[k]);
  if (missing.length > 0) {
    throw new Error(`the image builder's settings lack ${missing.join(", ")}`);
  }
  if (!/^127\.0\.0\.1:\d+$/.test(env.REGISTRY)) {
    throw new Error(`the image builder's registry (${env.REGISTRY}) is not on loopback`);
  }
  for (const k of ["NGINX_IMAGE", "NODE_IMAGE"]) {
    if (!env[k].startsWith(`${env.REGISTRY}/`) || !/@sha256:[0-9a-f]{64}$/.test(env[k])) {
      throw new Error(`${k} (${env[k]}) is not an image in ${env.REGISTRY} pinned by digest`);
    }
  }
  return {
    registry: env.REGISTRY,
    builder: env.BUILDX_BUILDER,
    dockerConfig: env.DOCKER_CONFIG,
    baseImages: { nginx: env.NGINX_IMAGE, node: env.NODE_IMAGE },
  };
}

/**
 * The local cluster's real node (cluster/real-node.sh): its name, and the label and taint that keep
 * every pod off it but those that ask for it (the kwok nodes run nothing).
 */
export const REAL_NODE = {
  name: "monkeytown-real",
  label: { "monkeytown.dev/real-node": "true" },
  toleration: {
    key: "monkeytown.dev/real-node",
    operator: "Equal",
    value: "true",
    effect: "NoSchedule",
  },
} as const;

/**
 * What a deploy with the real node (`cluster:deploy -- <stack> --real-node`) lays over the override
 * file: the images are built from this repository's Dockerfiles by the program's own Registry
 * component (docker-build) with the node's builder, on the local base images, and pushed to the
 * local registry in place of GHCR, then deployed by digest; the web and API pods select the real
 * node and tolerate its taint (`monkeytown:cluster.nodeSelector`/`.tolerations`, the keys a user
 * points at a node pool with). Nothing else changes.
 */
export function realNodeOverrides(builder: ImageBuilder): ConfigMap {
  return {
    "monkeytown:cluster": {
      nodeSelector: { ...REAL_NODE.label },
      tolerations: [{ ...REAL_NODE.toleration }],
    },
    "monkeytown:registry": {
      push: true,
      server: builder.registry,
      builder: builder.builder,
      baseImages: { ...builder.baseImages },
    },
    // Built, not referenced.
    "monkeytown:webImage": null,
    "monkeytown:apiImage": null,
  };
}

/** The stack's configuration as it runs on a cluster: stack file + override file (+ the real node's). */
export function clusterConfig(stack: ClusterStack, builder?: ImageBuilder): ConfigMap {
  const shaped = overlay(readConfigMap(stackFile(stack)), readConfigMap(overrideFile(stack)));
  return builder ? overlay(shaped, realNodeOverrides(builder)) : shaped;
}

/**
 * The stack's policy config (`policy/config/<stack>.json`) for a deploy with the real node: the
 * same rules and levels, with the local registry added to `image-pinned`'s allowed prefixes (it
 * stands in for GHCR; digests stay required where the stack requires them). Unchanged otherwise.
 */
export function realNodePolicyConfig(
  policyConfig: Record<string, unknown>,
  builder: ImageBuilder,
): Record<string, unknown> {
  const rule = policyConfig["image-pinned"];
  if (!isObject(rule) || !Array.isArray(rule.allowedImagePrefixes)) return policyConfig;
  return {
    ...policyConfig,
    "image-pinned": {
      ...rule,
      allowedImagePrefixes: [...(rule.allowedImagePrefixes as string[]), `${builder.registry}/`],
    },
  };
}

/**
 * Throwaway secret values for the secret keys the stack needs on a cluster (never real ones):
 * a random JWT secret and a webhook URL on a reserved domain that nothing resolves; with the real
 * node's builder, a registry token (the local registry asks for none).
 */
export function throwawaySecrets(builder?: ImageBuilder): Record<string, string> {
  return {
    "monkeytown:jwtSecret": randomBytes(32).toString("base64url"),
    "monkeytown:alertWebhookUrl": `https://hooks.invalid/${randomBytes(12).toString("hex")}`,
    ...(builder ? { "monkeytown:registryToken": randomBytes(24).toString("base64url") } : {}),
  };
}

export interface ClusterWorkspace {
  readonly stack: ClusterStack;
  /** Directory holding Pulumi.yaml and Pulumi.<stack>.yaml. */
  readonly dir: string;
  /** The overlaid stack file. */
  readonly stackFile: string;
  /** Secret keys the overlaid file does not hold yet (set them with `pulumi config set --secret`). */
  readonly missingSecrets: Record<string, string>;
}

/**
 * Writes (or refreshes) the workspace of `stack` under `root`. The overlaid stack file is
 * regenerated from the real files every time; the encryption salt and the secure values that an
 * earlier run set are kept, so that a second `up` sees the same secrets and changes nothing.
 */
export function prepareWorkspace(
  stack: ClusterStack,
  root: string,
  builder?: ImageBuilder,
): ClusterWorkspace {
  const dir = path.join(root, stack);
  fs.mkdirSync(dir, { recursive: true });
  const project = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as ConfigMap;
  // `main` is the program's directory relative to this project file: the repository itself.
  project.main = path.relative(dir, REPO_ROOT) || ".";
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    `# Generated by cluster/workspace.ts from Pulumi.yaml: do not edit.\n${stringify(project)}`,
  );

  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  const previous: ConfigMap = fs.existsSync(file)
    ? ((parse(fs.readFileSync(file, "utf8")) as ConfigMap) ?? {})
    : {};
  const previousConfig = isObject(previous.config) ? previous.config : {};
  const kept: ConfigMap = {};
  for (const [key, value] of Object.entries(previousConfig)) {
    if (isObject(value) && typeof value.secure === "string") kept[key] = value;
  }
  const doc: ConfigMap = {
    ...(typeof previous.encryptionsalt === "string"
      ? { encryptionsalt: previous.encryptionsalt }
      : {}),
    config: { ...clusterConfig(stack, builder), ...kept },
  };
  fs.writeFileSync(
    file,
    `# Generated by cluster/workspace.ts: Pulumi.${stack}.yaml with cluster/overrides/${stack}.yaml laid over it` +
      `${builder ? ", then the real node's image builder (realNodeOverrides)" : ""}.\n` +
      `# Do not edit: change the real stack file or the override file.\n${stringify(doc)}`,
  );
  const missingSecrets = Object.fromEntries(
    Object.entries(throwawaySecrets(builder)).filter(([key]) => !(key in kept)),
  );
  return { stack, dir, stackFile: file, missingSecrets };
}

/**
 * A short key naming the cluster a kubeconfig's current context points at (server and CA), so
 * that each cluster gets its own backend state: a new local cluster starts from empty state.
 */
export function clusterKey(kubeconfigText: string): string {
  const kc = parse(kubeconfigText) as {
    "current-context"?: string;
    contexts?: { name: string; context: { cluster: string } }[];
    clusters?: { name: string; cluster: Record<string, string> }[];
  };
  const ctx = kc.contexts?.find((c) => c.name === kc["current-context"]);
  const cluster = kc.clusters?.find((c) => c.name === ctx?.context.cluster)?.cluster;
  if (!cluster?.server) throw new Error("the kubeconfig has no current context with a server");
  const id = `${cluster.server}\n${cluster["certificate-authority-data"] ?? cluster["certificate-authority"] ?? ""}`;
  return `${kc["current-context"]}-${createHash("sha256").update(id).digest("hex").slice(0, 10)}`.replace(
    /[^A-Za-z0-9_.-]/g,
    "_",
  );
}

/**
 * The blue-green record step of the deploy flow (scripts/blue-green.sh `pin`, in this workspace):
 * the config values that keep every colour at what runs, from the stack outputs `apiActiveColor` and
 * `apiColorImages`. Empty when the stack runs no colours or was never deployed. Without them, an
 * update after the first one would be refused by the preflight (an unpinned serving colour).
 */
export function pinnedColours(outputs: Record<string, unknown>): Record<string, string> {
  const active = outputs.apiActiveColor;
  const images = outputs.apiColorImages as { blue?: unknown; green?: unknown } | undefined;
  if ((active !== "blue" && active !== "green") || !images) return {};
  const pins: Record<string, string> = { "monkeytown:api.activeColor": active };
  for (const colour of ["blue", "green"] as const) {
    const image = images[colour];
    if (typeof image === "string" && image !== "") pins[`monkeytown:api.${colour}Image`] = image;
  }
  return pins;
}
