import * as k8s from "@pulumi/kubernetes";
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import {
  UNKNOWN,
  UNKNOWN_SENTINELS,
  arr,
  bool,
  field,
  num,
  obj,
  str,
  unwrapProxy,
} from "../lib/values";
import { evaluatePolicies, formatViolations } from "../testing";
import { hardenedContainer, hardenedPodSpec, typeOf, workload } from "./helpers";

/** The engine's unknown string sentinel; the other six are checked against the proxy below. */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

describe("unwrapping engine-wrapped props", () => {
  it("every sentinel the pack knows is one the real unknownCheckingProxy treats as unknown", () => {
    for (const s of UNKNOWN_SENTINELS) {
      const proxied = unknownCheckingProxy({ value: s }) as { value: unknown };
      expect(() => proxied.value).toThrow(UnknownValueError);
    }
    expect(UNKNOWN_SENTINELS.size).toBe(7);
  });

  it("unwraps the proxy to the object it wraps, without throwing on unknowns", () => {
    const props = {
      spec: {
        replicas: 2,
        template: { spec: { containers: [{ name: "web", image: UNKNOWN_STRING }] } },
      },
    };
    expect(unwrapProxy(unknownCheckingProxy(props))).toBe(props);
    expect(unwrapProxy(props)).toBe(props);
  });

  it("the accessors read every unknown sentinel as UNKNOWN and known values as themselves", () => {
    for (const s of UNKNOWN_SENTINELS) {
      for (const read of [obj, arr, str, bool, num]) expect(read(s)).toBe(UNKNOWN);
      expect(field({ x: s }, "x")).toBe(UNKNOWN);
    }
    expect([str("a"), str(3), bool(false), num("8080"), obj({ a: 1 }), arr([1])]).toEqual([
      "a",
      "3",
      false,
      8080,
      { a: 1 },
      [1],
    ]);
    expect([str(true), bool("true"), num("8Gi"), obj([1]), arr({})]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(field(UNKNOWN, "x")).toBe(UNKNOWN);
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
    expect(violations.map((v) => v.policyName).sort()).toEqual([
      "network-policy-coverage",
      "pdb-for-replicated-workloads",
    ]);
    expect(formatViolations(violations)).not.toMatch(/can't run/);
  });

  it("skips a whole unknown container list, but still checks what is known", async () => {
    const d = workload("Deployment", {
      ...hardenedPodSpec(),
      containers: UNKNOWN_STRING as never,
      hostPID: true,
    });
    const violations = await evaluatePolicies([d]);
    expect(
      violations.filter((v) => v.policyName === "no-host-access").map((v) => v.message),
    ).toEqual([expect.stringMatching(/Deployment "web" sets hostPID: true/)]);
    expect(violations.filter((v) => v.policyName === "resource-limits")).toEqual([]);
  });

  it("the Pod Security rules skip unknown sysctls, SELinux and AppArmor options, annotations and volumes", async () => {
    const spec = hardenedPodSpec({
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1001,
        seccompProfile: { type: "RuntimeDefault" },
        sysctls: [{ name: UNKNOWN_STRING, value: "1" }],
        seLinuxOptions: { type: UNKNOWN_STRING, user: UNKNOWN_STRING },
        appArmorProfile: UNKNOWN_STRING as never,
        windowsOptions: { hostProcess: UNKNOWN_STRING as never },
      },
      containers: [
        {
          ...hardenedContainer(),
          securityContext: {
            ...hardenedContainer().securityContext,
            procMount: UNKNOWN_STRING,
            appArmorProfile: { type: UNKNOWN_STRING },
          },
        },
      ],
      volumes: [{ name: "data", nfs: UNKNOWN_STRING as never }, UNKNOWN_STRING as never],
    });
    const d = workload("Deployment", spec);
    const template = (d.props["spec"] as { template: { metadata: Record<string, unknown> } })
      .template;
    template.metadata = {
      ...template.metadata,
      annotations: { "container.apparmor.security.beta.kubernetes.io/web": UNKNOWN_STRING },
    };
    const violations = await evaluatePolicies([d]);
    const names = violations.map((v) => v.policyName);
    for (const rule of [
      "disallow-proc-mount",
      "restrict-sysctls",
      "restrict-selinux",
      "restrict-apparmor",
      "disallow-host-process",
    ])
      expect(names, rule).not.toContain(rule);
    // A volume whose source is unknown still names its type; that is known, and reported.
    expect(violations.filter((v) => v.policyName === "restrict-volume-types")).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/uses a nfs volume \("data"\)/) }),
    ]);
    expect(formatViolations(violations)).not.toMatch(/can't run/);
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
    const res = {
      type: typeOf(k8s.core.v1.ConfigMap),
      name: "cm",
      props: { metadata: { name: UNKNOWN_STRING } },
    };
    const violations = await evaluatePolicies([res], {}, [raw]);
    expect(violations).toEqual([
      expect.objectContaining({
        policyName: "raw-reader",
        enforcementLevel: "advisory",
        message: expect.stringMatching(/can't run policy 'raw-reader' during preview/),
      }),
    ]);
  });
});

describe("evaluatePolicies input handling", () => {
  it("tolerates values structuredClone cannot copy (functions recorded by a mock harness)", async () => {
    const d = workload("Deployment", hardenedPodSpec({ hostIPC: true }));
    const props = { ...d.props, extra: { callback: () => "not data" } };
    const violations = await evaluatePolicies([{ ...d, props }]);
    expect(
      violations.filter((v) => v.policyName === "no-host-access").map((v) => v.message),
    ).toEqual([expect.stringMatching(/sets hostIPC: true/)]);
  });

  it("does not let one policy's view of the props leak into another's", async () => {
    const d = workload("Deployment", hardenedPodSpec());
    const mutator = {
      name: "mutator",
      description: "mutates its props",
      enforcementLevel: "mandatory" as const,
      validateResource: (args: { props: Record<string, unknown> }) => {
        (args.props["metadata"] as Record<string, unknown>)["name"] = "changed";
      },
    };
    const reader = {
      name: "reader",
      description: "reports the name it sees",
      enforcementLevel: "mandatory" as const,
      validateResource: (args: { props: Record<string, unknown> }, report: (m: string) => void) => {
        report(String((args.props["metadata"] as Record<string, unknown>)["name"]));
      },
    };
    const violations = await evaluatePolicies([d], {}, [mutator, reader]);
    expect(violations.map((v) => v.message)).toEqual(["web"]);
    expect((d.props["metadata"] as Record<string, unknown>)["name"]).toBe("web");
  });
});
