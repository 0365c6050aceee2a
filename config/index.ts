/**
 * Turns a stack's raw configuration into typed, validated values, or into one RunError that lists
 * every problem at once, each naming the key, the stack file and the fix. Nothing here registers a
 * resource, so a bad stack file stops the program before anything is created.
 *
 * `parseStackConfig` is pure (tests call it directly). `loadStackConfig` reads the running stack's
 * config: plain keys with plain getters, secret keys only with `requireSecret`.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { secretOutput, type SecretOutput } from "../components/secrets/output";
import { stackConfigSchema, type StackConfig } from "./schema";
import { SECRET_KEYS, SECRET_KEY_NAMES, validateSecretValues } from "./secrets";

export * from "./schema";
export { SECRET_KEYS, appSettingsSchema, validateSecretValues } from "./secrets";
export type { AppSettings, SecretKeySpec } from "./secrets";

export const NAMESPACE = "monkeytown";

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** Full key, e.g. `monkeytown:web.replicas`. */
  readonly key: string;
  /** What is wrong. */
  readonly message: string;
  /** How to fix it. */
  readonly fix: string;
}

/** The stack's configuration as the engine hands it over, before validation. */
export interface RawStackConfig {
  /** Non-secret `monkeytown:*` values, key without namespace → raw string (objects as JSON). */
  readonly plain: Readonly<Record<string, string>>;
  /** `monkeytown:*` keys whose values are secrets (their values are not here). */
  readonly secretKeys: readonly string[];
}

export type ParseResult =
  | { readonly ok: true; readonly config: StackConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

const SCHEMA_KEYS = Object.keys(stackConfigSchema.shape);

function decode(raw: string): unknown {
  // Structured values arrive as JSON; scalars arrive as strings ("2", "true", "ghcr.io/...").
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function keyOf(path: readonly PropertyKey[]): string {
  const [top, ...rest] = path.map(String);
  return `${NAMESPACE}:${[top, ...rest].filter((p) => p !== undefined).join(".")}`;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function fixFor(issue: z.core.$ZodIssue, key: string, stack: string, root: unknown): string {
  const setCmd = (example: string) => `\`pulumi config set --path ${key} ${example} -s ${stack}\``;
  switch (issue.code) {
    case "invalid_type":
      return valueAt(root, issue.path) === undefined
        ? `add \`${key}\` to the stack file`
        : `set it to ${issue.expected === "number" ? "a number" : `a ${issue.expected}`}, e.g. ${setCmd(issue.expected === "boolean" ? "true" : issue.expected === "number" ? "2" : "<value>")}`;
    case "unrecognized_keys":
      return `remove or rename it (check the spelling against the README's config table)`;
    case "invalid_value":
      return `use one of: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return `raise it to at least ${String(issue.minimum)}`;
    case "too_big":
      return `lower it to at most ${String(issue.maximum)}`;
    case "custom":
      // Cross-field rules say how to fix them in `params.fix` (`{stack}` becomes the stack's name).
      return typeof issue.params?.fix === "string"
        ? issue.params.fix.replaceAll("{stack}", stack)
        : `correct \`${key}\` in the stack file`;
    default:
      return `correct \`${key}\` in the stack file`;
  }
}

function messageFor(issue: z.core.$ZodIssue, root: unknown): string {
  if (issue.code === "invalid_type") {
    const input = valueAt(root, issue.path);
    return input === undefined
      ? `is required but not set`
      : `expected ${issue.expected === "number" ? "a number" : `a ${issue.expected}`}, got ${describeType(input)}`;
  }
  return issue.message;
}

/** Validate raw stack config. Pure: no Pulumi calls, every problem reported. */
export function parseStackConfig(raw: RawStackConfig, stack: string): ParseResult {
  const problems: ConfigProblem[] = [];
  const stackFile = `Pulumi.${stack}.yaml`;
  const input: Record<string, unknown> = {};

  for (const [key, value] of Object.entries(raw.plain)) {
    if (SECRET_KEY_NAMES.includes(key)) {
      problems.push({
        key: `${NAMESPACE}:${key}`,
        message: "is a secret but is stored in plaintext",
        fix: `remove it from ${stackFile} and run \`pulumi config set --secret ${NAMESPACE}:${key} <value> -s ${stack}\``,
      });
    } else if (!SCHEMA_KEYS.includes(key)) {
      problems.push({
        key: `${NAMESPACE}:${key}`,
        message: "is not a known configuration key",
        fix: `remove or rename it in ${stackFile}; known keys: ${[...SCHEMA_KEYS, ...SECRET_KEY_NAMES].join(", ")}`,
      });
    } else {
      input[key] = decode(value);
    }
  }
  for (const key of raw.secretKeys) {
    if (!SECRET_KEY_NAMES.includes(key)) {
      problems.push({
        key: `${NAMESPACE}:${key}`,
        message: SCHEMA_KEYS.includes(key)
          ? "is set as a secret but is plain configuration"
          : "is not a known configuration key",
        fix: SCHEMA_KEYS.includes(key)
          ? `set it without --secret in ${stackFile}`
          : `remove it from ${stackFile}`,
      });
    }
  }

  const result = stackConfigSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const extra of issue.keys) {
          const key = keyOf([...issue.path, extra]);
          problems.push({
            key,
            message: "is not a known configuration key",
            fix: fixFor(issue, key, stack, input),
          });
        }
        continue;
      }
      const key = keyOf(issue.path);
      problems.push({
        key,
        message: messageFor(issue, input),
        fix: fixFor(issue, key, stack, input),
      });
    }
  }

  if (problems.length > 0 || !result.success) return { ok: false, problems };
  return { ok: true, config: result.data };
}

/** One readable block: the stack file, then a line per problem with its fix. */
export function formatProblems(problems: readonly ConfigProblem[], stack: string): string {
  const lines = problems.map((p) => `  - ${p.key}: ${p.message}. Fix: ${p.fix}.`);
  return [
    `Invalid configuration in Pulumi.${stack}.yaml (stack "${stack}"): ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was created.`,
    ...lines,
  ].join("\n");
}

/** Secret config of the stack, each value a Pulumi secret Output. */
export type StackSecrets = Readonly<
  Partial<Record<(typeof SECRET_KEYS)[number]["key"], SecretOutput>>
>;

export interface LoadedConfig {
  readonly stack: string;
  readonly config: StackConfig;
  readonly secrets: StackSecrets;
}

/**
 * Whether the engine handed `fullKey` (e.g. `monkeytown:jwtSecret`) over as a secret, i.e. it was set
 * with `pulumi config set --secret`.
 *
 * Why an SDK internal: the loader must know which keys are secret before it reads any value, since
 * `pulumi.Config`'s plain getters return a secret in plaintext without a warning (their guard is
 * commented out in the SDK's config.ts); secrets are read only with `requireSecret`, and a secret
 * key stored in plaintext is reported without being read. The SDK has no public way to ask: its
 * answer is `isConfigSecret` in `@pulumi/pulumi/runtime/config`, marked `@internal` (absent from the
 * typings), which reads the secret keys the language host passes in `PULUMI_CONFIG_SECRET_KEYS`.
 * This is the only place that reaches for it; config/secret-keys.test.ts fails if an SDK upgrade
 * removes or changes it.
 */
export function isSecretConfigKey(fullKey: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as {
    isConfigSecret?: (k: string) => boolean;
  };
  if (typeof runtimeConfig.isConfigSecret !== "function") {
    throw new Error(
      "@pulumi/pulumi/runtime/config no longer exports isConfigSecret: the config loader cannot tell secret keys from plain ones. Pin the SDK version that has it, or update isSecretConfigKey (config/index.ts).",
    );
  }
  return runtimeConfig.isConfigSecret(fullKey);
}

function resolved(output: pulumi.Output<string>): Promise<string> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/**
 * Read and validate the running stack's configuration. Throws `pulumi.RunError` listing every
 * problem (plain and secret) before the caller registers any resource.
 */
export async function loadStackConfig(): Promise<LoadedConfig> {
  const stack = pulumi.getStack();
  const cfg = new pulumi.Config(NAMESPACE);

  const plain: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(`${NAMESPACE}:`)) continue;
    const key = fullKey.slice(NAMESPACE.length + 1);
    if (isSecretConfigKey(fullKey)) {
      secretKeys.push(key);
    } else if (!SECRET_KEY_NAMES.includes(key)) {
      plain[key] = cfg.require(key);
    } else {
      // A secret key stored in plaintext: report it without reading the value.
      plain[key] = "";
    }
  }

  const secrets: Record<string, SecretOutput> = {};
  const values: Record<string, string | undefined> = {};
  for (const key of SECRET_KEY_NAMES) {
    if (!secretKeys.includes(key)) continue;
    secrets[key] = secretOutput(cfg.requireSecret(key));
    values[key] = await resolved(secrets[key]);
  }

  // Every problem at once: the plain keys, and the secrets (their format always; whether they are
  // required only once the plain config is valid, since that depends on it).
  const parsed = parseStackConfig({ plain, secretKeys }, stack);
  const secretProblems = validateSecretValues(parsed.ok ? parsed.config : undefined, values).map(
    (p) => ({ key: `${NAMESPACE}:${p.key}`, message: p.message, fix: `${p.fix} -s ${stack}` }),
  );
  const problems = [...(parsed.ok ? [] : parsed.problems), ...secretProblems];
  if (!parsed.ok || problems.length > 0) {
    throw new pulumi.RunError(formatProblems(problems, stack));
  }

  return { stack, config: parsed.config, secrets };
}
