/**
 * Secret configuration: which `monkeytown:*` keys are secrets, when each is required, and the zod
 * schema of the application's runtime settings (in the spirit of the InsightDesk seed's env schema).
 *
 * Nothing here prints a secret: every message names the key and the rule it broke, never the value.
 */
import { z } from "zod";
import type { StackConfig } from "./schema";

/** A secret key, why it exists and when the stack cannot run without it. */
export interface SecretKeySpec {
  /** Config key in the `monkeytown` namespace. */
  readonly key: string;
  /** Runtime variable it becomes in the app's Secret, if it is an app secret. */
  readonly env?: string;
  /** What it is, for messages and the README. */
  readonly description: string;
  /** Whether the parsed (non-secret) config makes this secret mandatory. */
  readonly requiredWhen: (c: StackConfig) => boolean;
  /** Validation of the value; messages must not contain the value. */
  readonly schema: z.ZodType<string>;
}

const httpsUrl = z.url({ protocol: /^https$/, error: "must be an https:// URL" });

export const SECRET_KEYS: readonly SecretKeySpec[] = [
  {
    key: "jwtSecret",
    env: "JWT_SECRET",
    description: "signing key of the API's JSON Web Tokens",
    requiredWhen: (c) => c.secrets.delivery === "kubernetes",
    schema: z.string().min(32, { error: "must be at least 32 characters long" }),
  },
  {
    key: "sentryDsn",
    env: "SENTRY_DSN",
    description: "Sentry DSN for error tracking (optional)",
    requiredWhen: () => false,
    schema: httpsUrl,
  },
  {
    key: "newRelicLicenseKey",
    env: "NEW_RELIC_LICENSE_KEY",
    description: "New Relic license key (optional)",
    requiredWhen: () => false,
    schema: z.string().regex(/^[A-Za-z0-9]{40}$/, { error: "must be 40 letters and digits" }),
  },
  {
    key: "registryToken",
    description: "GHCR token (write:packages to push, read:packages to pull)",
    requiredWhen: (c) => c.registry.push,
    schema: z.string().min(20, { error: "must be at least 20 characters long (a GitHub token)" }),
  },
  {
    key: "alertWebhookUrl",
    description: "Slack or Discord webhook that receives critical alerts",
    requiredWhen: (c) => c.alerts.enabled && c.secrets.delivery === "kubernetes",
    schema: httpsUrl,
  },
  {
    key: "smtpPassword",
    description: "password of the SMTP relay that sends the warning digest",
    requiredWhen: () => false,
    schema: z.string().min(1, { error: "must not be empty" }),
  },
  {
    key: "cloudflareApiToken",
    description: "Cloudflare API token (Zone:DNS, Zone:Settings, Zone:WAF edit)",
    requiredWhen: (c) => c.edge.enabled,
    schema: z.string().min(20, { error: "must be at least 20 characters long" }),
  },
  {
    key: "githubToken",
    description: "GitHub token that manages branch protection, environments and their secrets",
    requiredWhen: (c) => c.github.enabled,
    schema: z.string().min(20, { error: "must be at least 20 characters long" }),
  },
];

export const SECRET_KEY_NAMES: readonly string[] = SECRET_KEYS.map((s) => s.key);

/**
 * The API's runtime settings, as the process sees them in its environment. Non-secret values come
 * from the ConfigMap the ApiService renders, secret ones from the Secrets component's Secret.
 * `.env.example` lists exactly these keys (a test keeps the two in step).
 */
export const appSettingsSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "staging", "production"]),
    PORT: z.coerce.number().int().min(1024).max(65535),
    APP_NAME: z.string().min(1),
    APP_URL: z.url(),
    API_BASE_PATH: z.string().startsWith("/"),
    LOG_LEVEL: z.enum(["error", "warn", "info", "debug"]).default("info"),
    ENABLE_DEBUG: z.enum(["true", "false"]),
    ENABLE_ANALYTICS: z.enum(["true", "false"]),
    JWT_SECRET: z.string().min(32, { error: "must be at least 32 characters long" }),
    JWT_EXPIRES_IN: z
      .string()
      .regex(/^\d+[smhd]$/)
      .default("15m"),
    REFRESH_TOKEN_EXPIRES_IN: z
      .string()
      .regex(/^\d+[smhd]$/)
      .default("7d"),
    SENTRY_DSN: httpsUrl.optional(),
    NEW_RELIC_LICENSE_KEY: z.string().optional(),
  })
  .strict();

export type AppSettings = z.infer<typeof appSettingsSchema>;

/**
 * Check secret values without ever echoing them. `values` holds the resolved secrets that are set
 * (undefined when absent); returns one message per problem, each naming the key and the fix.
 * Without a (valid) `config`, only the format of the secrets that are set is checked.
 */
export function validateSecretValues(
  config: StackConfig | undefined,
  values: Readonly<Record<string, string | undefined>>,
): { key: string; message: string; fix: string }[] {
  const problems: { key: string; message: string; fix: string }[] = [];
  for (const spec of SECRET_KEYS) {
    const value = values[spec.key];
    const setCmd = `pulumi config set --secret monkeytown:${spec.key} <value>`;
    if (value === undefined) {
      if (config !== undefined && spec.requiredWhen(config)) {
        problems.push({
          key: spec.key,
          message: `is required (${spec.description}) but not set`,
          fix: `run \`${setCmd}\``,
        });
      }
      continue;
    }
    const result = spec.schema.safeParse(value);
    if (!result.success) {
      // zod's messages here are our own texts above; the value itself is never included.
      const reason = result.error.issues.map((i) => i.message).join("; ");
      problems.push({
        key: spec.key,
        message: `${reason} (the value is not shown)`,
        fix: `set a valid value with \`${setCmd}\``,
      });
    }
  }
  return problems;
}
