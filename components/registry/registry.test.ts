import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { installMocks, valueOf } from "../../test/harness";
import { secretOutput } from "../secrets";
import { dockerConfigJson, pinnedRef, validateRegistryArgs, type RegistryArgs } from "./index";

const TOKEN = "ghp_SENTINEL0123456789abcdefghij";
/** docker-build's Image type token (@pulumi/docker-build 0.0.22). */
const IMAGE = "docker-build:index:Image";
const WEB_BUILD = {
  context: "docker/web",
  dockerfile: "docker/Dockerfile.web",
  args: { NGINX_IMAGE: "registry.local/base/nginx:1.27", VITE_APP_NAME: "Monkeytown" },
};
const API_BUILD = {
  context: "docker/api",
  dockerfile: "docker/Dockerfile.api",
  args: { NODE_IMAGE: "registry.local/base/node:20" },
};
/** The wire markers the SDK wraps a secret value in. */
const SECRET_MARKER = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

const pushing = (extra: Partial<RegistryArgs> = {}): RegistryArgs => ({
  owner: "acme",
  tag: "0123456789ab",
  push: true,
  username: "bot",
  password: secretOutput(pulumi.output(TOKEN)),
  images: { web: { build: WEB_BUILD }, api: { build: API_BUILD } },
  ...extra,
});

describe("Registry", () => {
  it("with pushing off builds nothing: no docker-build resource, the refs pass through (dev)", async () => {
    const h = await installMocks();
    const { Registry } = await import("./index");
    const r = new Registry("registry", {
      owner: "acme",
      tag: "unused",
      push: false,
      images: {
        web: { ref: "ghcr.io/acme/monkeytown-web:0.1.0", build: WEB_BUILD },
        api: { ref: "ghcr.io/acme/monkeytown-api:0.1.0", build: API_BUILD },
      },
    });
    await h.settle();
    expect(h.resources.filter((x) => x.type.startsWith("docker"))).toEqual([]);
    expect(h.resources.map((x) => x.type)).toEqual(["monkeytown:registry:Registry"]);
    expect(r.images).toEqual({});
    expect(await valueOf(r.imageRefs.web)).toBe("ghcr.io/acme/monkeytown-web:0.1.0");
    expect(await valueOf(r.imageRefs.api)).toBe("ghcr.io/acme/monkeytown-api:0.1.0");
  });

  it("builds each image with docker-build from its Dockerfile, tagged with the commit, and pushes it", async () => {
    const h = await installMocks();
    const { Registry } = await import("./index");
    new Registry("registry", pushing());
    await h.settle();
    expect(h.byType(IMAGE).map((i) => i.name)).toEqual(["registry-api", "registry-web"]);
    const web = h.one(IMAGE, "registry-web");
    expect(web.inputs).toEqual({
      context: { location: "docker/web" },
      dockerfile: { location: "docker/Dockerfile.web" },
      buildArgs: { NGINX_IMAGE: "registry.local/base/nginx:1.27", VITE_APP_NAME: "Monkeytown" },
      platforms: ["linux/amd64"],
      tags: ["ghcr.io/acme/monkeytown-web:0123456789ab"],
      push: true,
      buildOnPreview: true,
      network: "default",
      registries: [{ address: "ghcr.io", username: "bot", password: TOKEN }],
    });
    const api = h.one(IMAGE, "registry-api").inputs;
    expect(api.context).toEqual({ location: "docker/api" });
    expect(api.dockerfile).toEqual({ location: "docker/Dockerfile.api" });
    expect(api.buildArgs).toEqual({ NODE_IMAGE: "registry.local/base/node:20" });
    expect(api.tags).toEqual(["ghcr.io/acme/monkeytown-api:0123456789ab"]);
    // Nothing else is exported, no other builder, nothing loaded into a Docker engine.
    for (const key of ["exports", "builder", "load", "secrets", "cacheTo", "exec"]) {
      expect(web.inputs).not.toHaveProperty(key);
    }
  });

  it("pushes with the registry token as a secret: never in plaintext, nor in the build args", async () => {
    const h = await installMocks();
    const { Registry } = await import("./index");
    new Registry("registry", pushing({ server: "registry.example.com:5000" }));
    await h.settle();
    const web = h.one(IMAGE, "registry-web");
    expect(web.rawInputs.registries).toMatchObject(SECRET_MARKER);
    expect(web.inputs.registries).toEqual([
      { address: "registry.example.com:5000", username: "bot", password: TOKEN },
    ]);
    expect(web.inputs.tags).toEqual(["registry.example.com:5000/acme/monkeytown-web:0123456789ab"]);
    expect(JSON.stringify(web.inputs.buildArgs)).not.toContain(TOKEN);
    expect(h.dump()).not.toContain(TOKEN);
  });

  it("hands each workload its image pinned by the digest docker-build pushed, not by tag", async () => {
    const h = await installMocks();
    const { Registry } = await import("./index");
    const r = new Registry("registry", pushing());
    await h.settle();
    const webDigest = await valueOf(r.images.web.digest);
    const apiDigest = await valueOf(r.images.api.digest);
    expect(webDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(apiDigest).not.toBe(webDigest);
    expect(await valueOf(r.imageRefs.web)).toBe(`ghcr.io/acme/monkeytown-web@${webDigest}`);
    expect(await valueOf(r.imageRefs.api)).toBe(`ghcr.io/acme/monkeytown-api@${apiDigest}`);
  });

  it("in a preview (nothing pushed, no digest) the workloads' image is unknown, never a tag", async () => {
    const h = await installMocks({ preview: true });
    const { Registry } = await import("./index");
    const r = new Registry("registry", pushing());
    new k8s.core.v1.ConfigMap("consumer", { data: { image: r.imageRefs.web } });
    await h.settle();
    const consumer = h.one("kubernetes:core/v1:ConfigMap", "consumer");
    expect(consumer.rawInputs.data).toEqual({ image: { __pulumiUnknown: true } });
  });

  it("pinnedRef: repository@digest; unknown in a preview without one; an update without one fails naming the image", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    expect(pinnedRef("ghcr.io/acme/monkeytown-web", digest, false)).toBe(
      `ghcr.io/acme/monkeytown-web@sha256:${"ab".repeat(32)}`,
    );
    expect(pinnedRef("ghcr.io/acme/monkeytown-web", "", true)).toBe(pulumi.unknown);
    expect(pinnedRef("ghcr.io/acme/monkeytown-web", undefined, true)).toBe(pulumi.unknown);
    expect(() => pinnedRef("ghcr.io/acme/monkeytown-web", "", false)).toThrow(
      /no digest for ghcr\.io\/acme\/monkeytown-web .*not pushed/,
    );
    expect(() => pinnedRef("ghcr.io/acme/monkeytown-web", "sha256:short", false)).toThrow(
      /no digest/,
    );
  });

  it("builds with a named builder (a local buildkitd), stores and loads the image, for the given platforms", async () => {
    const h = await installMocks();
    const { Registry } = await import("./index");
    const r = new Registry(
      "registry",
      pushing({
        builder: "monkeytown-buildkit",
        store: true,
        load: true,
        platforms: ["linux/arm64"],
        buildOnPreview: false,
      }),
    );
    await h.settle();
    const web = h.one(IMAGE, "registry-web").inputs;
    expect(web.builder).toEqual({ name: "monkeytown-buildkit" });
    // The registry export written out, so that `store` reaches BuildKit; no second push.
    expect(web.exports).toEqual([{ registry: { store: true } }]);
    expect(web.push).toBe(false);
    expect(web.load).toBe(true);
    expect(web.platforms).toEqual(["linux/arm64"]);
    expect(web.buildOnPreview).toBe(false);
    expect(await valueOf(r.imageRefs.web)).toMatch(/^ghcr\.io\/acme\/monkeytown-web@sha256:/);

    const h2 = await installMocks();
    const { Registry: Registry2 } = await import("./index");
    new Registry2("registry", pushing({ store: false }));
    await h2.settle();
    expect(h2.one(IMAGE, "registry-web").inputs.exports).toEqual([{ registry: { store: false } }]);
  });

  it("gives the cluster the credentials as an image pull secret, never in plaintext", async () => {
    const h = await installMocks();
    const { Registry } = await import("./index");
    const r = new Registry("registry", {
      owner: "acme",
      tag: "t",
      username: "bot",
      password: secretOutput(pulumi.output(TOKEN)),
      pullSecretNamespace: "ns",
      images: { web: { ref: "ghcr.io/acme/monkeytown-web:1" } },
    });
    await h.settle();
    const secret = h.one("kubernetes:core/v1:Secret", "registry-pull-secret");
    expect(secret.inputs.metadata).toMatchObject({ name: "registry-pull", namespace: "ns" });
    expect(secret.inputs.type).toBe("kubernetes.io/dockerconfigjson");
    expect(JSON.parse(secret.inputs.stringData[".dockerconfigjson"])).toEqual({
      auths: {
        "ghcr.io": {
          username: "bot",
          password: TOKEN,
          auth: Buffer.from(`bot:${TOKEN}`).toString("base64"),
        },
      },
    });
    expect(secret.rawInputs.stringData).toMatchObject(SECRET_MARKER);
    expect(h.dump()).not.toContain(TOKEN);
    expect(h.dump()).not.toContain(Buffer.from(`bot:${TOKEN}`).toString("base64"));
    expect(await valueOf(r.pullSecretName!)).toBe("registry-pull");
  });

  it("dockerConfigJson: one auths entry for the server, with the base64 user:password", () => {
    expect(JSON.parse(dockerConfigJson("127.0.0.1:5000", "u", "p"))).toEqual({
      auths: { "127.0.0.1:5000": { username: "u", password: "p", auth: "dTpw" } },
    });
  });

  it("refuses what cannot work, naming the argument and the fix", () => {
    const args: RegistryArgs = {
      owner: "acme",
      tag: "bad tag",
      push: true,
      images: { web: {} },
      pullSecretNamespace: "ns",
      builder: "no spaces",
      platforms: [],
    };
    expect(validateRegistryArgs(args)).toEqual([
      "`images.web` has no ref and no build: give a ref, or a build with push enabled.",
      "`push` is on but `username` or `password` is missing: set registry.username and the secret registryToken.",
      "`pullSecretNamespace` is set but `username` or `password` is missing: a pull secret needs both.",
      '`tag` ("bad tag") is not a valid image tag: letters, digits, _ . - (at most 128).',
      '`builder` ("no spaces") is not a buildx builder name: letters, digits, _ . - (see `docker buildx ls`).',
      "`platforms` is empty: name at least one, e.g. linux/amd64, or leave it unset.",
    ]);
  });

  it("a bad argument registers nothing, not even the component", async () => {
    const h = await installMocks();
    const { Registry } = await import("./index");
    expect(() => new Registry("registry", pushing({ builder: "bad name" }))).toThrow(
      /Invalid arguments for monkeytown:registry:Registry "registry".*\n.*`builder`/,
    );
    await h.settle();
    expect(h.resources).toEqual([]);
  });
});
