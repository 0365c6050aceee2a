/**
 * Every resource each stack registers under mocks, run through the CrossGuard pack with that
 * stack's policy config (policy/config/<stack>.json): no mandatory violation anywhere, and no seam
 * violation (a selector or reference that matches nothing) at any level. Staging and production
 * deploy to a cluster, where the stack rules see the live objects (outputs) rather than the inputs:
 * they are checked on that shape too (policy/test/live.ts).
 */
import { describe, expect, it } from "vitest";
import {
  TestResource,
  evaluatePolicies,
  formatViolations,
  loadStackConfig,
} from "../policy/testing";
import { liveOutputs } from "../policy/test/live";
import { installMocks } from "./harness";
import { stackTestConfig } from "./stack-config";

/** The stack rules that check that a selector or by-name reference matches a target. */
const SEAM_RULES = [
  "service-targets-pods",
  "service-monitor-targets-service",
  "pod-monitor-targets-pods",
  "pdb-targets-pods",
  "network-policy-targets-pods",
  "hpa-targets-workload",
  "ingress-targets-service",
];

async function stackResources(stack: string): Promise<TestResource[]> {
  const { config, secretKeys } = stackTestConfig(stack);
  const h = await installMocks({ stack, config, secretKeys });
  const { program } = await import("../stacks/program");
  await program();
  await h.settle();
  return h.resources
    .filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))
    .map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
}

describe.each(["dev", "staging", "production"])("policy pack on the %s stack", (stack) => {
  it("passes every mandatory rule, and every seam rule at any level", async () => {
    const resources = await stackResources(stack);
    expect(resources.length).toBeGreaterThan(10);
    const violations = await evaluatePolicies(resources, loadStackConfig(stack));
    const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
    expect(mandatory, formatViolations(mandatory)).toEqual([]);
    const seams = violations.filter((v) => SEAM_RULES.includes(v.policyName));
    expect(seams, formatViolations(seams)).toEqual([]);
  });
});

describe.each(["staging", "production"])("policy pack on the %s stack, live", (stack) => {
  it("passes every mandatory rule on the outputs `pulumi up` on a cluster hands the stack rules", async () => {
    // The HPA has scaled the API up since: spec.replicas on the Deployment is the HPA's.
    const live = liveOutputs(await stackResources(stack), {
      hpaReplicas: { "api-blue": 6, api: 6 },
    });
    const violations = await evaluatePolicies(live, loadStackConfig(stack));
    const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
    expect(mandatory, formatViolations(mandatory)).toEqual([]);
  });
});
