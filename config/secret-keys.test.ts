/**
 * The config loader tells secret keys from plain ones through an SDK internal (`isConfigSecret`,
 * behind `isSecretConfigKey` in ./index.ts). These tests pin what it relies on, so an SDK upgrade
 * that removes or changes it fails here rather than leaving secrets read through plain getters.
 */
import { execFileSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks } from "../test/harness";

describe("the SDK's isConfigSecret, as the config loader uses it", () => {
  it("is still exported by @pulumi/pulumi/runtime/config", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as Record<string, unknown>;
    expect(typeof runtimeConfig.isConfigSecret).toBe("function");
  });

  it("answers from the secret keys the language host passes in PULUMI_CONFIG_SECRET_KEYS", () => {
    // A fresh Node process, its config given exactly as the language host gives it: the runtime
    // reads both variables when it first builds its store.
    const script = `
      const c = require("@pulumi/pulumi/runtime/config");
      console.log(JSON.stringify(["monkeytown:jwtSecret", "monkeytown:web", "monkeytown:absent"]
        .map((k) => c.isConfigSecret(k))));`;
    const out = execFileSync(process.execPath, ["-e", script], {
      cwd: __dirname,
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "",
        PULUMI_CONFIG: JSON.stringify({
          "monkeytown:config:jwtSecret": "v1:ciphertext",
          "monkeytown:config:web": '{"replicas":2}',
        }),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(["monkeytown:jwtSecret"]),
      },
    });
    expect(JSON.parse(out)).toEqual([true, false, false]);
  });
});

describe("isSecretConfigKey", () => {
  let isSecretConfigKey: (fullKey: string) => boolean;

  beforeAll(async () => {
    await installMocks({
      stack: "dev",
      config: { "monkeytown:jwtSecret": "sentinel", "monkeytown:web": '{"replicas":2}' },
      secretKeys: ["monkeytown:jwtSecret"],
    });
    ({ isSecretConfigKey } = await import("./index"));
  });

  it("is true for a key set as a secret, false for a plain or absent one", () => {
    expect(isSecretConfigKey("monkeytown:jwtSecret")).toBe(true);
    expect(isSecretConfigKey("monkeytown:web")).toBe(false);
    expect(isSecretConfigKey("monkeytown:smtpPassword")).toBe(false);
  });

  it("follows the runtime's config as it changes", () => {
    pulumi.runtime.setAllConfig({ "monkeytown:web": '{"replicas":2}' }, ["monkeytown:web"]);
    expect(isSecretConfigKey("monkeytown:web")).toBe(true);
    expect(isSecretConfigKey("monkeytown:jwtSecret")).toBe(false);
  });
});
