/**
 * Read a `Pulumi.<stack>.yaml` the way the engine hands it to the program: a flat map of
 * `namespace:key` to string, objects as JSON. Used by the stack tests, the benchmarks and the
 * policy check of every stack, so they all run the real stack files.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

export function readStackConfig(stack: string): Record<string, string> {
  const file = path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
  const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  return flattenConfig(doc.config ?? {});
}

export function flattenConfig(config: Record<string, unknown>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value !== null && typeof value === "object" && "secure" in value) {
      throw new Error(`${key} is an encrypted secret; tests supply secrets through secretKeys`);
    }
    flat[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return flat;
}

/** Values an operator sets before the first deploy of staging or production (README, stack files). */
export const OPERATOR_CONFIG: Record<string, Record<string, string>> = {
  dev: {},
  // Staging and production share one zone (monkeytown.app), as they do at Cloudflare.
  staging: { zoneId: "0123456789abcdef0123456789abcdef" },
  production: { zoneId: "0123456789abcdef0123456789abcdef", productionReviewerTeamIds: "[4242]" },
};

/** Test secrets: recognisable strings that must never appear in plaintext in registered inputs. */
export const TEST_SECRETS: Record<string, string> = {
  "monkeytown:jwtSecret": "jwt-SENTINEL-0123456789abcdefghijklmnop",
  "monkeytown:registryToken": "ghp_SENTINELregistrytoken0123456789",
  "monkeytown:alertWebhookUrl": "https://hooks.slack.com/services/SENTINEL/WEBHOOK",
  "monkeytown:smtpPassword": "smtp-SENTINEL-password",
  "monkeytown:cloudflareApiToken": "cf-SENTINEL-token-0123456789abcdef",
  "monkeytown:githubToken": "ghp_SENTINELgithubtoken0123456789abcd",
};

/** The full config (plain + operator + secrets) a stack runs with in tests. */
export function stackTestConfig(stack: string): {
  config: Record<string, string>;
  secretKeys: string[];
} {
  const config = readStackConfig(stack);
  const op = OPERATOR_CONFIG[stack] ?? {};
  if (op.zoneId) {
    const edge = JSON.parse(config["monkeytown:edge"]) as Record<string, unknown>;
    config["monkeytown:edge"] = JSON.stringify({ ...edge, zoneId: op.zoneId });
  }
  if (op.productionReviewerTeamIds) {
    const gh = JSON.parse(config["monkeytown:github"]) as Record<string, unknown>;
    config["monkeytown:github"] = JSON.stringify({
      ...gh,
      productionReviewerTeamIds: JSON.parse(op.productionReviewerTeamIds),
    });
  }
  const secretKeys: string[] = [];
  if (stack !== "dev") {
    Object.assign(config, TEST_SECRETS);
    secretKeys.push(...Object.keys(TEST_SECRETS));
  }
  return { config, secretKeys };
}
