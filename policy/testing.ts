/**
 * Evaluate the pack without an engine: the helper the stack tests and the insecure-fixture test
 * use. It mirrors what the engine does with a policy pack (@pulumi/policy 1.21 `server.js` and
 * pulumi's `ReconcilePolicyPackConfig`):
 *
 * - config: schema defaults, then `"all"` (enforcement level for every policy), then per-policy
 *   entries (a string is an enforcement level; an object may carry `enforcementLevel` and
 *   properties). Unlike the engine, unknown policy names and unknown or ill-typed properties are
 *   errors here, so a typo in `policy/config/*.json` fails a test instead of being ignored.
 * - resource policies run on every resource with props wrapped in `unknownCheckingProxy`;
 *   `remediate` is reported as `mandatory`, `disabled` skips; an `UnknownValueError` becomes an
 *   advisory "can't run during preview" violation, `notApplicable()` is silent.
 * - stack policies run once over all resources (dependencies and parents resolved by URN), on
 *   their `outputs` where a test gives them (the engine's AnalyzeStack gets outputs, Analyze inputs).
 * - remediations are not applied (`remediate()` runs them for a single resource).
 *
 * Usage (a stack test under mocks):
 *   const violations = await evaluatePolicies(recorded.map((r) => ({ type: r.type, name: r.name, props: r.inputs })),
 *                                             loadStackConfig("production"));
 *   expect(violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
 */
import * as fs from "fs";
import * as path from "path";
import {
  EnforcementLevel,
  Policies,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
  UnknownValueError,
  unknownCheckingProxy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { policies as packPolicies } from "./policies";

export interface TestResource {
  type: string;
  name: string;
  /** Defaults to `urn:pulumi:test::monkeytown::<type>::<name>`. */
  urn?: string;
  /** Resource inputs, as the program passed them (Outputs resolved). */
  props: Record<string, unknown>;
  /**
   * The resource's outputs, when they differ from its inputs: what the provider read back (on a
   * cluster, the live object with the API server's defaults, `status` and `managedFields`). The
   * engine hands resource policies the inputs and stack policies the outputs; so does
   * `evaluatePolicies`. Defaults to `props` (render mode, mocks).
   */
  outputs?: Record<string, unknown>;
  /** URN of the parent resource. */
  parent?: string;
  /** URNs this resource depends on. */
  dependencies?: string[];
}

export interface Violation {
  policyName: string;
  enforcementLevel: EnforcementLevel;
  message: string;
  /** The resource's URN; undefined when a stack policy reports against the whole stack. */
  urn?: string;
}

export type PolicyConfigValue =
  | EnforcementLevel
  | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);
/** The JSON shape of `--policy-pack-config` files. */
export type PackConfig = Record<string, PolicyConfigValue>;

export interface ResolvedPolicyConfig {
  enforcementLevel: EnforcementLevel;
  properties: Record<string, unknown>;
}

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];
const PACK_DEFAULT_LEVEL: EnforcementLevel = "advisory";

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:test::monkeytown::${type}::${name}`;
}

/** Reads `policy/config/<stack>.json`. */
export function loadStackConfig(stack: string): PackConfig {
  const file = path.join(__dirname, "config", `${stack}.json`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as PackConfig;
}

function validateValue(
  value: unknown,
  schema: PolicyConfigJSONSchema,
  at: string,
  errors: string[],
): void {
  const types =
    schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const typeOk = (t: string): boolean => {
    switch (t) {
      case "string":
        return typeof value === "string";
      case "boolean":
        return typeof value === "boolean";
      case "number":
        return typeof value === "number";
      case "integer":
        return Number.isInteger(value);
      case "array":
        return Array.isArray(value);
      case "object":
        return value !== null && typeof value === "object" && !Array.isArray(value);
      case "null":
        return value === null;
      default:
        return false;
    }
  };
  if (types.length > 0 && !types.some(typeOk)) {
    errors.push(`${at} must be ${types.join(" or ")}, got ${JSON.stringify(value)}`);
    return;
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    errors.push(
      `${at} must be one of ${JSON.stringify(schema.enum)}, got ${JSON.stringify(value)}`,
    );
  }
  if (typeof value === "number" && schema.minimum !== undefined && value < schema.minimum) {
    errors.push(`${at} must be >= ${schema.minimum}, got ${value}`);
  }
  if (
    typeof value === "string" &&
    schema.pattern !== undefined &&
    !new RegExp(schema.pattern).test(value)
  ) {
    errors.push(`${at} must match /${schema.pattern}/`);
  }
  if (
    Array.isArray(value) &&
    schema.items &&
    typeof schema.items === "object" &&
    !Array.isArray(schema.items)
  ) {
    const itemSchema = schema.items;
    value.forEach((v, i) => validateValue(v, itemSchema, `${at}[${i}]`, errors));
  }
}

/** The keywords `validateValue` understands; `config.test.ts` checks the pack uses no others. */
export const SUPPORTED_SCHEMA_KEYWORDS: ReadonlySet<string> = new Set([
  "type",
  "enum",
  "minimum",
  "pattern",
  "items",
  "default",
  "description",
]);

/**
 * Resolves a pack config the way the engine does, and validates it strictly. Throws with every
 * problem listed when the config names an unknown policy or property or has a wrong type.
 */
export function resolveConfig(
  config: PackConfig = {},
  policies: Policies = packPolicies,
): Map<string, ResolvedPolicyConfig> {
  const errors: string[] = [];
  const result = new Map<string, ResolvedPolicyConfig>();
  for (const p of policies) {
    const properties: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(p.configSchema?.properties ?? {})) {
      if (typeof s === "object" && s.default !== undefined)
        properties[k] = structuredClone(s.default);
    }
    result.set(p.name, { enforcementLevel: p.enforcementLevel ?? PACK_DEFAULT_LEVEL, properties });
  }
  const levelOf = (v: PolicyConfigValue): EnforcementLevel | undefined =>
    typeof v === "string" ? v : v.enforcementLevel;
  const all = config["all"];
  if (all !== undefined) {
    const level = levelOf(all);
    if (level === undefined || !LEVELS.includes(level))
      errors.push(`"all" must set a valid enforcementLevel`);
    else for (const r of result.values()) r.enforcementLevel = level;
  }
  for (const [name, given] of Object.entries(config)) {
    if (name === "all") continue;
    const resolved = result.get(name);
    const policy = policies.find((p) => p.name === name);
    if (!resolved || !policy) {
      errors.push(`no policy named "${name}" (known: ${policies.map((p) => p.name).join(", ")})`);
      continue;
    }
    const level = levelOf(given);
    if (level !== undefined) {
      if (!LEVELS.includes(level))
        errors.push(`${name}.enforcementLevel "${level}" is not one of ${LEVELS.join(", ")}`);
      else resolved.enforcementLevel = level;
    }
    if (typeof given === "string") continue;
    for (const [k, v] of Object.entries(given)) {
      if (k === "enforcementLevel") continue;
      const schema = policy.configSchema?.properties[k];
      if (schema === undefined || typeof schema !== "object") {
        errors.push(
          `${name}.${k} is not a setting of this policy (settings: ${Object.keys(policy.configSchema?.properties ?? {}).join(", ") || "none"})`,
        );
        continue;
      }
      validateValue(v, schema, `${name}.${k}`, errors);
      resolved.properties[k] = v;
    }
  }
  if (errors.length > 0)
    throw new Error(`Invalid policy pack config:\n  - ${errors.join("\n  - ")}`);
  return result;
}

class NotApplicable extends Error {}

const DEFAULT_OPTS: PolicyResourceOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

type ResourceClass = {
  new (...args: never[]): unknown;
  __pulumiType?: string;
  isInstance?: (o: unknown) => boolean;
};

function isTypeOf(type: string, resourceClass: ResourceClass): boolean {
  if (typeof resourceClass.__pulumiType === "string") return resourceClass.__pulumiType === type;
  return resourceClass.isInstance?.({ __pulumiType: type }) === true;
}

function isResourcePolicy(p: Policies[number]): p is ResourceValidationPolicy {
  return "validateResource" in p || "remediateResource" in p;
}

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
  return "validateStack" in p;
}

/** Validation args for one resource, as the engine builds them. Exported for unit tests. */
export function validationArgs(
  resource: TestResource,
  getConfig: () => Record<string, unknown> = () => ({}),
  copyProps = true,
): ResourceValidationArgs {
  // A fresh copy per call, as the engine deserializes afresh per call: a policy that mutates its
  // props cannot leak into the next one. The benchmark skips the copy (engine-side cost).
  const props = unknownCheckingProxy(copyProps ? copyOf(resource.props) : resource.props) as Record<
    string,
    unknown
  >;
  return {
    type: resource.type,
    props,
    urn: resource.urn ?? urnOf(resource.type, resource.name),
    name: resource.name,
    opts: { ...DEFAULT_OPTS, parent: resource.parent },
    stackTags: new Map<string, string>(),
    isType: (cls) => isTypeOf(resource.type, cls as unknown as ResourceClass),
    asType: ((cls: ResourceClass) =>
      isTypeOf(resource.type, cls) ? props : undefined) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => getConfig() as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

function unknownDiagnostic(policyName: string, e: UnknownValueError, urn?: string): Violation {
  return {
    policyName,
    enforcementLevel: "advisory",
    message: `can't run policy '${policyName}' during preview: ${e.message}`,
    urn,
  };
}

/**
 * Runs every resource policy on every resource and every stack policy once, and returns the
 * violations, in policy order then resource order.
 */
export async function evaluatePolicies(
  resources: readonly TestResource[],
  config: PackConfig = {},
  policies: Policies = packPolicies,
): Promise<Violation[]> {
  const resolved = resolveConfig(config, policies);
  const out: Violation[] = [];
  const levelOf = (name: string): EnforcementLevel => {
    const l = resolved.get(name)?.enforcementLevel ?? PACK_DEFAULT_LEVEL;
    return l === "remediate" ? "mandatory" : l;
  };
  const configOf = (name: string) => () => ({ ...(resolved.get(name)?.properties ?? {}) });

  for (const p of policies) {
    if (
      resolved.get(p.name)?.enforcementLevel === "disabled" ||
      !isResourcePolicy(p) ||
      !p.validateResource
    )
      continue;
    const level = levelOf(p.name);
    const validations = Array.isArray(p.validateResource)
      ? p.validateResource
      : [p.validateResource];
    for (const r of resources) {
      const urn = r.urn ?? urnOf(r.type, r.name);
      for (const validate of validations) {
        // The engine's fast path: a validation bound to one type (validateResourceOfType) is not
        // called for resources of another type.
        const only = (validate as { __pulumiType?: string }).__pulumiType;
        if (only !== undefined && only !== r.type) continue;
        try {
          await validate(validationArgs(r, configOf(p.name)), (message) =>
            out.push({ policyName: p.name, enforcementLevel: level, message, urn }),
          );
        } catch (e) {
          if (e instanceof UnknownValueError) out.push(unknownDiagnostic(p.name, e, urn));
          else if (!(e instanceof NotApplicable)) {
            throw new Error(
              `policy ${p.name} threw on ${r.type} "${r.name}": ${(e as Error).stack ?? String(e)}`,
            );
          }
        }
      }
    }
  }

  const stackResources = buildStackResources(resources);
  for (const p of policies) {
    if (resolved.get(p.name)?.enforcementLevel === "disabled" || !isStackPolicy(p)) continue;
    const level = levelOf(p.name);
    try {
      await p.validateStack(
        {
          resources: stackResources,
          stackTags: new Map<string, string>(),
          getConfig: <T extends object>() => configOf(p.name)() as T,
          notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
          },
        },
        (message, urn) => out.push({ policyName: p.name, enforcementLevel: level, message, urn }),
      );
    } catch (e) {
      if (e instanceof UnknownValueError) out.push(unknownDiagnostic(p.name, e));
      else if (!(e instanceof NotApplicable))
        throw new Error(`stack policy ${p.name} threw: ${(e as Error).stack ?? String(e)}`);
    }
  }
  return out;
}

/**
 * A deep copy of plain data. Values `structuredClone` cannot copy (functions, class instances such
 * as assets a mock harness may record) are kept by reference rather than failing the evaluation.
 */
function copyOf<T>(value: T): T {
  try {
    return structuredClone(value);
  } catch {
    const walk = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      }
      return v;
    };
    return walk(value) as T;
  }
}

function buildStackResources(resources: readonly TestResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const list = resources.map((r) => {
    const props = unknownCheckingProxy(copyOf(r.outputs ?? r.props)) as Record<string, unknown>;
    const pr: PolicyResource = {
      type: r.type,
      props,
      urn: r.urn ?? urnOf(r.type, r.name),
      name: r.name,
      opts: { ...DEFAULT_OPTS, parent: r.parent },
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => isTypeOf(r.type, cls as unknown as ResourceClass),
      asType: ((cls: ResourceClass) =>
        isTypeOf(r.type, cls) ? props : undefined) as PolicyResource["asType"],
    };
    byUrn.set(pr.urn, pr);
    return pr;
  });
  resources.forEach((r, i) => {
    const pr = list[i];
    if (r.parent) pr.parent = byUrn.get(r.parent);
    pr.dependencies = (r.dependencies ?? [])
      .map((u) => byUrn.get(u))
      .filter((d): d is PolicyResource => d !== undefined);
  });
  return list;
}

/**
 * Runs the remediations enabled at level "remediate" on one resource, in pack order, and returns
 * the resulting props (raw: values the engine would encrypt are `Secret` instances).
 */
export async function remediate(
  resource: TestResource,
  config: PackConfig = {},
  policies: Policies = packPolicies,
): Promise<Record<string, unknown>> {
  const resolved = resolveConfig(config, policies);
  let current: TestResource = resource;
  for (const p of policies) {
    if (
      resolved.get(p.name)?.enforcementLevel !== "remediate" ||
      !isResourcePolicy(p) ||
      !p.remediateResource
    )
      continue;
    try {
      const result = await p.remediateResource(
        validationArgs(current, () => ({ ...(resolved.get(p.name)?.properties ?? {}) })),
      );
      if (result) current = { ...current, props: result as Record<string, unknown> };
    } catch (e) {
      if (!(e instanceof NotApplicable)) throw e;
    }
  }
  return current.props;
}

/** One line per violation, for readable test failures and tooling output. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations
    .map((v) => `[${v.enforcementLevel}] ${v.policyName} ${v.urn ?? "(stack)"}: ${v.message}`)
    .join("\n");
}
