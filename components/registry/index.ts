import * as docker from "@pulumi/docker";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { checkArgs } from "../args";
import { PKG, standardLabels } from "../k8s";
import type { SecretOutput } from "../secrets";

/** How one image is obtained: referenced as it is, or built from a Dockerfile in this repository. */
export interface ImageSource {
  /** An existing image reference (tag or digest); used as is, nothing is built. */
  readonly ref?: string;
  /** Build from this repository (used when `ref` is unset and pushing is on). */
  readonly build?: {
    /** Build context, relative to the project. */
    readonly context: string;
    /** Dockerfile path, relative to the project. */
    readonly dockerfile: string;
    /** Build arguments (base images and the like). */
    readonly args?: Readonly<Record<string, string>>;
  };
}

export interface RegistryArgs {
  /** Registry host. @default "ghcr.io" */
  readonly server?: string;
  /** Owner (user or organisation) the repositories live under. */
  readonly owner: string;
  /** Tag for built images: the git commit, so the same commit gives the same tag. */
  readonly tag: string;
  /** Build and push images whose source has no `ref`. Off in dev. @default false */
  readonly push?: boolean;
  /** Registry user for pushing and pulling. */
  readonly username?: string;
  /** Registry token, from secret config only. */
  readonly password?: SecretOutput;
  /** The images, by role (e.g. `web`, `api`). */
  readonly images: Readonly<Record<string, ImageSource>>;
  /** Create an image pull Secret in this namespace (needs `username` and `password`). */
  readonly pullSecretNamespace?: pulumi.Input<string>;
}

/** Full repository name of a role's image, e.g. `ghcr.io/acme/monkeytown-web`. */
export function repositoryFor(server: string, owner: string, role: string): string {
  return `${server}/${owner}/monkeytown-${role}`;
}

/** The `.dockerconfigjson` document for a registry login. */
export function dockerConfigJson(server: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  return JSON.stringify({ auths: { [server]: { username, password, auth } } });
}

/** The component's type token. */
export const REGISTRY_TYPE = `${PKG}:registry:Registry`;

/** Every problem with the arguments, each naming the argument and the fix. */
export function validateRegistryArgs(args: RegistryArgs): string[] {
  const problems: string[] = [];
  const push = args.push ?? false;
  for (const [role, source] of Object.entries(args.images)) {
    if (source.ref === undefined && (!push || source.build === undefined)) {
      problems.push(
        `\`images.${role}\` has no ref and ${push ? "no build" : "pushing is off"}: give a ref, or a build with push enabled.`,
      );
    }
  }
  if (push && (args.username === undefined || args.password === undefined)) {
    problems.push(
      "`push` is on but `username` or `password` is missing: set registry.username and the secret registryToken.",
    );
  }
  if (
    args.pullSecretNamespace !== undefined &&
    (args.username === undefined || args.password === undefined)
  ) {
    problems.push(
      "`pullSecretNamespace` is set but `username` or `password` is missing: a pull secret needs both.",
    );
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(args.tag)) {
    problems.push(
      `\`tag\` ("${args.tag}") is not a valid image tag: letters, digits, _ . - (at most 128).`,
    );
  }
  return problems;
}

/**
 * GHCR images for the product. Builds and pushes with @pulumi/docker where asked (tag = git
 * commit; consumers get the pushed digest, so a deployment pins exactly what was built), passes
 * referenced images through unchanged, and hands the cluster the registry credentials as an image
 * pull Secret. Credentials only ever arrive as secret Outputs.
 */
export class Registry extends pulumi.ComponentResource {
  /** Image reference per role: `repo@sha256:...` for built images, the given ref otherwise. */
  public readonly imageRefs: Record<string, pulumi.Output<string>> = {};
  public readonly images: Record<string, docker.Image> = {};
  public readonly pullSecret?: k8s.core.v1.Secret;
  /** Name of the pull Secret, for `imagePullSecrets`. */
  public readonly pullSecretName?: pulumi.Output<string>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super(): a bad argument registers nothing, not even the component.
    checkArgs(REGISTRY_TYPE, name, validateRegistryArgs(args));
    super(REGISTRY_TYPE, name, {}, opts);
    const server = args.server ?? "ghcr.io";

    for (const role of Object.keys(args.images).sort()) {
      const source = args.images[role];
      if (source.ref !== undefined) {
        this.imageRefs[role] = pulumi.output(source.ref);
        continue;
      }
      const build = source.build!;
      const image = new docker.Image(
        `${name}-${role}`,
        {
          imageName: `${repositoryFor(server, args.owner, role)}:${args.tag}`,
          build: {
            context: build.context,
            dockerfile: build.dockerfile,
            platform: "linux/amd64",
            args: { ...build.args },
          },
          registry: { server, username: args.username, password: args.password },
        },
        { parent: this },
      );
      this.images[role] = image;
      this.imageRefs[role] = image.repoDigest;
    }

    if (args.pullSecretNamespace !== undefined) {
      const secretName = `${name}-pull`;
      this.pullSecret = new k8s.core.v1.Secret(
        `${name}-pull-secret`,
        {
          metadata: {
            name: secretName,
            namespace: args.pullSecretNamespace,
            labels: standardLabels(secretName, "registry"),
          },
          type: "kubernetes.io/dockerconfigjson",
          stringData: {
            ".dockerconfigjson": pulumi.secret(
              args.password!.apply((p) => dockerConfigJson(server, args.username!, p)),
            ),
          },
        },
        { parent: this, additionalSecretOutputs: ["data", "stringData"] },
      );
      this.pullSecretName = this.pullSecret.metadata.name;
    }

    this.registerOutputs({ imageRefs: this.imageRefs, pullSecretName: this.pullSecretName });
  }
}
