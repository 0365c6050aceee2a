/**
 * The one place where a rule meets @pulumi/policy: reading config (schema defaults applied once),
 * honouring waivers, unwrapping props (unknowns become `UNKNOWN`), and dispatching to the
 * workload / Docker views. Each file in `policies/` is a factory that calls one of these.
 */
import {
  validateResourceOfType,
  type EnforcementLevel,
  type PolicyConfigSchema,
  type ReportViolation,
  type ResourceValidation,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type Severity,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { DockerContainer, dockerContainer } from "./docker";
import type { ResourceClass } from "./resource-types";
import { activeWaiver, now } from "./waivers";
import { unwrapProxy } from "./values";
import { Workload, extractWorkload } from "./workload";

/** A config schema whose every property carries its default: defaults live here and nowhere else. */
export type ConfigProperties = Record<string, PolicyConfigJSONSchema & { default: unknown }>;

export function configSchema(properties: ConfigProperties): PolicyConfigSchema {
  return { properties };
}

const defaultsCache = new WeakMap<PolicyConfigSchema, Record<string, unknown>>();

/** Defaults taken from the schema (computed once per schema; treat the result as read-only). */
export function defaultsOf(schema: PolicyConfigSchema | undefined): Record<string, unknown> {
  if (!schema) return {};
  let out = defaultsCache.get(schema);
  if (!out) {
    out = {};
    for (const [k, v] of Object.entries(schema.properties)) {
      if (typeof v === "object" && v.default !== undefined) out[k] = v.default;
    }
    defaultsCache.set(schema, out);
  }
  return out;
}

/**
 * The rule's config: schema defaults overlaid with what the engine passes. The engine fills
 * defaults itself (ReconcilePolicyPackConfig), so the overlay only matters for callers that do not.
 */
export function readConfig<C extends object>(
  schema: PolicyConfigSchema | undefined,
  getConfig: () => object,
): C {
  return { ...defaultsOf(schema), ...getConfig() } as C;
}

/**
 * What the README's rule table says of a rule, kept with the rule (`npm run docs:policy` writes the
 * table; policy/test/readme.test.ts fails when the README is stale). Markdown, one table cell each:
 * put a name with `_` or `*` in a code span, or prettier reads it as emphasis (the test catches it).
 */
export interface RuleDocs {
  /** What the rule checks, in full; `description` is the one line the engine shows. */
  checks: string;
  /** Peer tools that check the same thing, and what they call it. */
  peers: string;
}

export interface RuleMeta extends RuleDocs {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  severity: Severity;
  configSchema?: PolicyConfigSchema;
  remediationSteps: string;
}

export interface RuleInput {
  type: string;
  name: string;
  urn: string;
  /** The props under the engine's proxy (plain data; read with `lib/values.ts`, unknowns as `UNKNOWN`). */
  props: unknown;
}

export type Report = (message: string) => void;

/**
 * Which resources a rule checks: a cheap filter on the type token, or one resource type. A rule
 * bound to one type (a class from `lib/resource-types.ts`) goes through `validateResourceOfType`,
 * so the engine skips it for other types without a call and lists it as not applicable there.
 */
type Applicability =
  | { /** Cheap type filter, called before anything else. */ appliesTo(type: string): boolean }
  | { /** The one resource type the rule checks. */ resourceType: ResourceClass };

export type ResourceRuleDef<C> = RuleMeta &
  Applicability & {
    check(resource: RuleInput, config: C, report: Report): void;
  };

/** A rule's metadata as the policy object carries it, without the rule's own functions. */
export function policyMeta(def: RuleMeta): RuleMeta {
  return {
    name: def.name,
    description: def.description,
    enforcementLevel: def.enforcementLevel,
    severity: def.severity,
    configSchema: def.configSchema,
    remediationSteps: def.remediationSteps,
    checks: def.checks,
    peers: def.peers,
  };
}

/** Policies built by this module carry their documentation (the README's rule table). */
export type PackPolicy = ResourceValidationPolicy & RuleDocs;

export function resourceRule<C extends object>(def: ResourceRuleDef<C>): PackPolicy {
  const run = (args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
    const props = unwrapProxy(args.props);
    if (activeWaiver(args.type, props, def.name, now())) return;
    const config = readConfig<C>(def.configSchema, () => args.getConfig<object>());
    def.check({ type: args.type, name: args.name, urn: args.urn, props }, config, (m) =>
      reportViolation(m),
    );
  };
  const validate: ResourceValidation =
    "resourceType" in def
      ? validateResourceOfType(def.resourceType, (_props, args, reportViolation) =>
          run(args, reportViolation),
        )
      : (args, reportViolation) => {
          if (def.appliesTo(args.type)) run(args, reportViolation);
        };
  return { ...policyMeta(def), validateResource: validate };
}

export interface WorkloadRuleDef<C> extends RuleMeta {
  workload?(w: Workload, config: C, report: Report, resource: RuleInput): void;
  docker?(c: DockerContainer, config: C, report: Report, resource: RuleInput): void;
}

const DOCKER_CONTAINER = "docker:index/container:Container";

/** A rule over Kubernetes workloads (every kind) and, where it applies, Docker containers. */
export function workloadRule<C extends object>(def: WorkloadRuleDef<C>): PackPolicy {
  return resourceRule<C>({
    ...def,
    appliesTo: (type) =>
      (def.workload !== undefined && type.startsWith("kubernetes:")) ||
      (def.docker !== undefined && type === DOCKER_CONTAINER),
    check: (r, config, report) => {
      if (r.type === DOCKER_CONTAINER) {
        def.docker?.(dockerContainer(r.name, r.props), config, report, r);
        return;
      }
      const w = extractWorkload(r.type, r.name, r.props);
      if (w && def.workload) def.workload(w, config, report, r);
    },
  });
}
