import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { installMocks, valueOf } from "../../test/harness";
import { secretOutput } from "../secrets";
import { dockerConfigJson, validateRegistryArgs, type RegistryArgs } from "./index";

const TOKEN = "ghp_SENTINEL0123456789abcdefghij";
const BUILD = {
  context: "docker/web",
  dockerfile: "docker/Dockerfile.web",
  args: { NGINX_IMAGE: "nginx:1.27-alpine" },
};

describe("Registry", () => {
  it("passes referenced images through and builds nothing (dev)", async () => {
    const h = await installMocks();
    const { Registry } = await import("./index");
    const r = new Registry("registry", {
      owner: "acme",
      tag: "unused",
      images: { web: { ref: "ghcr.io/acme/monkeytown-web:0.1.0", build: BUILD } },
    });
    await h.settle();
    expect(h.byType("docker:index/image:Image")).toHaveLength(0);
    expect(await valueOf(r.imageRefs.web)).toBe("ghcr.io/acme/monkeytown-web:0.1.0");
  });

  it("builds and pushes tagged with the commit, and hands out the digest", async () => {
    const h = await installMocks();
    const { Registry } = await import("./index");
    const r = new Registry("registry", {
      owner: "acme",
      tag: "0123456789ab",
      push: true,
      username: "bot",
      password: secretOutput(pulumi.output(TOKEN)),
      images: { web: { build: BUILD } },
    });
    await h.settle();
    const image = h.one("docker:index/image:Image", "registry-web").inputs;
    expect(image.imageName).toBe("ghcr.io/acme/monkeytown-web:0123456789ab");
    expect(image.build).toMatchObject({
      context: "docker/web",
      dockerfile: "docker/Dockerfile.web",
      args: { NGINX_IMAGE: "nginx:1.27-alpine" },
    });
    expect(image.registry).toMatchObject({ server: "ghcr.io", username: "bot" });
    expect(await valueOf(r.imageRefs.web)).toMatch(
      /^ghcr\.io\/acme\/monkeytown-web@sha256:[0-9a-f]{64}$/,
    );
    expect(h.dump()).not.toContain(TOKEN);
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
    expect(secret.inputs.type).toBe("kubernetes.io/dockerconfigjson");
    expect(JSON.parse(secret.inputs.stringData[".dockerconfigjson"])).toEqual(
      JSON.parse(dockerConfigJson("ghcr.io", "bot", TOKEN)),
    );
    expect(h.dump()).not.toContain(TOKEN);
    expect(h.dump()).not.toContain(Buffer.from(`bot:${TOKEN}`).toString("base64"));
    expect(await valueOf(r.pullSecretName!)).toBe("registry-pull");
  });

  it("refuses what cannot work, naming the argument and the fix", () => {
    const args: RegistryArgs = {
      owner: "acme",
      tag: "bad tag",
      push: true,
      images: { web: {} },
      pullSecretNamespace: "ns",
    };
    expect(validateRegistryArgs(args)).toEqual([
      "`images.web` has no ref and no build: give a ref, or a build with push enabled.",
      "`push` is on but `username` or `password` is missing: set registry.username and the secret registryToken.",
      "`pullSecretNamespace` is set but `username` or `password` is missing: a pull secret needs both.",
      '`tag` ("bad tag") is not a valid image tag: letters, digits, _ . - (at most 128).',
    ]);
  });
});
