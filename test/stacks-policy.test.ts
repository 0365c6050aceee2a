/**
 * Every resource each stack registers under mocks, run through the CrossGuard pack with that
 * stack's policy config (policy/config/<stack>.json): no mandatory violation anywhere.
 */
import { describe, expect, it } from "vitest";
import { evaluatePolicies, formatViolations, loadStackConfig } from "../policy/testing";
import { installMocks } from "./harness";
import { stackTestConfig } from "./stack-config";

describe.each(["dev", "staging", "production"])("policy pack on the %s stack", (stack) => {
  it("passes every mandatory rule", async () => {
    const { config, secretKeys } = stackTestConfig(stack);
    const h = await installMocks({ stack, config, secretKeys });
    const { program } = await import("../stacks/program");
    await program();
    await h.settle();
    const resources = h.resources
      .filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))
      .map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
    expect(resources.length).toBeGreaterThan(10);
    const violations = await evaluatePolicies(resources, loadStackConfig(stack));
    const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
    expect(mandatory, formatViolations(mandatory)).toEqual([]);
  });
});
