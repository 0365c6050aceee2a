import * as k8s from "@pulumi/kubernetes";
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { UNKNOWN, UNKNOWN_SENTINELS, snapshot } from "../lib/values";
import { evaluatePolicies, formatViolations } from "../testing";
import { hardenedContainer, hardenedPodSpec, typeOf, workload } from "./helpers";

/** The engine's unknown string sentinel; the other six are checked against the proxy below. */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

describe("snapshot of engine-wrapped props", () => {
  it("every sentinel the pack knows is one the real unknownCheckingProxy treats as unknown", () => {
    for (const s of UNKNOWN_SENTINELS) {
      const proxied = unknownCheckingProxy({ value: s }) as { value: unknown };
      expect(() => proxied.value).toThrow(UnknownValueError);
    }
    expect(UNKNOWN_SENTINELS.size).toBe(7);
  });

  it("unwraps the proxy and replaces unknowns, deeply, with UNKNOWN", () => {
    const props = { spec: { replicas: 2, template: { spec: { containers: [{ name: "web", image: UNKNOWN_STRING }] } } } };
    const snap = snapshot(unknownCheckingProxy(props)) as typeof props;
    expect(snap.spec.replicas).toBe(2);
    expect(snap.spec.template.spec.containers[0].image).toBe(UNKNOWN);
    expect(snap.spec.template.spec.containers[0].name).toBe("web");
  });

  it("copies plain (unproxied) values as they are", () => {
    expect(snapshot({ a: [1, "x", { b: true }] })).toEqual({ a: [1, "x", { b: true }] });
  });
});

describe("unknown values during preview", () => {
  it("never crash a rule and never produce a violation from an unknown value", async () => {
    const podSpec = hardenedPodSpec({
      containers: [
        {
          ...hardenedContainer(),
          image: UNKNOWN_STRING,
          securityContext: UNKNOWN_STRING as never,
          resources: UNKNOWN_STRING as never,
          env: [{ name: "DB_PASSWORD", value: UNKNOWN_STRING }],
        },
      ],
    });
    const violations = await evaluatePolicies([workload("Deployment", podSpec)]);
    // Only stack-level coverage rules report (no PDB/NetworkPolicy in this fixture); no container rule does.
    expect(violations.map((v) => v.policyName).sort()).toEqual(["network-policy-coverage", "pdb-for-replicated-workloads"]);
    expect(formatViolations(violations)).not.toMatch(/can't run/);
  });

  it("skips a whole unknown container list, but still checks what is known", async () => {
    const d = workload("Deployment", { ...hardenedPodSpec(), containers: UNKNOWN_STRING as never, hostPID: true });
    const violations = await evaluatePolicies([d]);
    expect(violations.filter((v) => v.policyName === "no-host-access").map((v) => v.message)).toEqual([
      expect.stringMatching(/Deployment "web" sets hostPID: true/),
    ]);
    expect(violations.filter((v) => v.policyName === "resource-limits")).toEqual([]);
  });

  it("a policy written against the raw proxy still reports unknowns as the engine does (advisory, can't run)", async () => {
    const raw = {
      name: "raw-reader",
      description: "reads the proxy directly",
      enforcementLevel: "mandatory" as const,
      validateResource: (args: { props: Record<string, unknown> }) => {
        void (args.props["metadata"] as Record<string, unknown>)["name"];
      },
    };
    const res = { type: typeOf(k8s.core.v1.ConfigMap), name: "cm", props: { metadata: { name: UNKNOWN_STRING } } };
    const violations = await evaluatePolicies([res], {}, [raw]);
    expect(violations).toEqual([
      expect.objectContaining({ policyName: "raw-reader", enforcementLevel: "advisory", message: expect.stringMatching(/can't run policy 'raw-reader' during preview/) }),
    ]);
  });
});
