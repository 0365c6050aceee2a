/**
 * Resource classes for `validateResourceOfType` / `remediateResourceOfType`, as type tokens.
 *
 * Those helpers, the engine-side server and `testing.ts` read nothing of the class but its
 * `__pulumiType` (@pulumi/policy `getPulumiType`, `isTypeOf`). Passing `k8s.core.v1.Service` itself
 * would load all of @pulumi/kubernetes, and through it @pulumi/pulumi's root module with the
 * Automation API, into the pack's process on every preview: about a third of the pack's start-up
 * (docs/engine.md, "Policy pack start-up"). The classes stay in the types only, so a rule still gets
 * typed props.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { Resource } from "@pulumi/pulumi";

/**
 * What `validateResourceOfType` takes: a resource class, or one of the stand-ins below. Its
 * signature, with the args left open (`never`) since a rule reads the props untyped.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's own parameter type
export type ResourceClass = new (name: string, args: never, ...rest: any[]) => Resource;

/** A stand-in for a resource class that carries only its Pulumi type token. */
export function resourceType<C>(token: string): C {
  return { __pulumiType: token } as unknown as C;
}

export const K8sService = resourceType<typeof k8s.core.v1.Service>("kubernetes:core/v1:Service");
export const K8sSecret = resourceType<typeof k8s.core.v1.Secret>("kubernetes:core/v1:Secret");
