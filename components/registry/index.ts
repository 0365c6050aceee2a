import * as dockerbuild from "@pulumi/docker-build";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { checkArgs, PKG } from "../args";
import { standardLabels } from "../k8s";
import type { SecretOutput } from "../secrets";

/** A platform docker-build can build for (`linux/amd64`, `linux/arm64`, ...). */
export type ImagePlatform = dockerbuild.Platform;

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
    /** Build arguments (base images and the like); never secrets, they stay in the image history. */
    readonly args?: Readonly<Record<string, string>>;
  };
}

export interface RegistryArgs {
  /** Registry host (with its port, if any). @default "ghcr.io" */
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
  /**
   * Name of an existing buildx builder to build with (docker-container, kubernetes or remote
   * driver), e.g. a local buildkitd registered with `docker buildx create --driver remote`.
   * @default docker-build's own builder
   */
  readonly builder?: string;
  /**
   * Keep built images in the builder's image store too (BuildKit's `store`; with a containerd
   * worker that is containerd's image store, the one a kubelet on that containerd runs from).
   * @default BuildKit's own (store)
   */
  readonly store?: boolean;
  /** Also load built images into the local Docker engine (`--load`). @default false */
  readonly load?: boolean;
  /** Platforms to build for. @default ["linux/amd64"] */
  readonly platforms?: readonly ImagePlatform[];
  /**
   * Build images during previews as well (nothing is pushed then), so a broken Dockerfile fails
   * the preview; off, a preview needs no builder. @default true (docker-build's own)
   */
  readonly buildOnPreview?: boolean;
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

/** A buildx builder name: letters, digits, `_`, `.` and `-`. */
const BUILDER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** A registry manifest digest, as docker-build reports it. */
const DIGEST = /^sha256:[0-9a-f]{64}$/;

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
  if (args.builder !== undefined && !BUILDER_NAME.test(args.builder)) {
    problems.push(
      `\`builder\` ("${args.builder}") is not a buildx builder name: letters, digits, _ . - (see \`docker buildx ls\`).`,
    );
  }
  if (args.platforms !== undefined && args.platforms.length === 0) {
    problems.push("`platforms` is empty: name at least one, e.g. linux/amd64, or leave it unset.");
  }
  return problems;
}

/**
 * The reference a workload deploys for a built image: `<repository>@<digest>`, exactly what was
 * pushed. An update whose build reports no digest (nothing was exported) fails here, naming the
 * image; a preview, where docker-build pushes nothing, gets an unknown reference instead.
 */
export function pinnedRef(
  repository: string,
  digest: string | undefined,
  dryRun: boolean,
): string | typeof pulumi.unknown {
  if (digest !== undefined && DIGEST.test(digest)) return `${repository}@${digest}`;
  if (dryRun) return pulumi.unknown;
  throw new Error(
    `docker-build reported no digest for ${repository} ("${digest ?? ""}"): the image was not pushed, so nothing can be deployed by digest. Check the builder's exports and the registry credentials.`,
  );
}

/**
 * The product's images. Builds each image with docker-build (BuildKit) from this repository's
 * Dockerfiles where asked, tagged with the git commit, and pushes it to the stack's registry
 * (GHCR in staging and production) with the secret token; consumers get `<repository>@<digest>`,
 * so a deployment runs exactly what was built. Referenced images pass through unchanged, and with
 * pushing off nothing is built. The cluster gets the registry credentials as an image pull Secret.
 * Credentials only ever arrive as secret Outputs.
 */
export class Registry extends pulumi.ComponentResource {
  /** Image reference per role: `repo@sha256:...` for built images, the given ref otherwise. */
  public readonly imageRefs: Record<string, pulumi.Output<string>> = {};
  /** The docker-build images, by role (built roles only). */
  public readonly images: Record<string, dockerbuild.Image> = {};
  public readonly pullSecret?: k8s.core.v1.Secret;
  /** Name of the pull Secret, for `imagePullSecrets`. */
  public readonly pullSecretName?: pulumi.Output<string>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before super(): a bad argument registers nothing, not even the component.
    checkArgs(REGISTRY_TYPE, name, validateRegistryArgs(args));
    super(REGISTRY_TYPE, name, {}, opts);
    const server = args.server ?? "ghcr.io";
    const platforms = [...(args.platforms ?? ["linux/amd64"])];

    for (const role of Object.keys(args.images).sort()) {
      const source = args.images[role];
      if (source.ref !== undefined) {
        this.imageRefs[role] = pulumi.output(source.ref);
        continue;
      }
      const build = source.build!;
      const repository = repositoryFor(server, args.owner, role);
      const image = new dockerbuild.Image(
        `${name}-${role}`,
        {
          context: { location: build.context },
          dockerfile: { location: build.dockerfile },
          buildArgs: { ...build.args },
          platforms,
          tags: [`${repository}:${args.tag}`],
          // The registry export: docker-build's `push` shorthand, or the same export written out
          // when `store` is chosen (the shorthand keeps BuildKit's default, which stores).
          ...(args.store === undefined
            ? { push: true }
            : { push: false, exports: [{ registry: { store: args.store } }] }),
          ...(args.load ? { load: true } : {}),
          buildOnPreview: args.buildOnPreview ?? true,
          ...(args.builder !== undefined ? { builder: { name: args.builder } } : {}),
          registries: [{ address: server, username: args.username, password: args.password }],
        },
        { parent: this },
      );
      this.images[role] = image;
      this.imageRefs[role] = image.digest.apply(
        (digest) => pinnedRef(repository, digest, pulumi.runtime.isDryRun()) as string,
      );
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
