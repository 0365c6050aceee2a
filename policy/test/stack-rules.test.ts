import * as k8s from "@pulumi/kubernetes";
import { beforeEach, describe, expect, it } from "vitest";
import { TestResource, evaluatePolicies, urnOf } from "../testing";
import {
  LABELS,
  WORKLOAD_KINDS,
  dateIn,
  hardenedPodSpec,
  messagesOf,
  resourceOf,
  workload,
} from "./helpers";

const SELECTOR = {
  matchLabels: { "app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "monkeytown" },
};

type ReplicatedKind = "Deployment" | "StatefulSet";
/** The kind the replicated-workload tests run against; each such describe runs for both kinds. */
let KIND: ReplicatedKind = "Deployment";

function deployment(replicas?: number, name = "web"): TestResource {
  const d = workload(KIND, hardenedPodSpec(), name);
  const spec = { ...(d.props["spec"] as Record<string, unknown>) };
  if (replicas === undefined) delete spec["replicas"];
  else spec["replicas"] = replicas;
  return { ...d, props: { ...d.props, spec } };
}

function pdb(spec: Record<string, unknown>, name = "web-pdb"): TestResource {
  return resourceOf(k8s.policy.v1.PodDisruptionBudget, name, {
    metadata: { name, namespace: "monkeytown" },
    spec: { selector: SELECTOR, ...spec },
  });
}

function hpa(minReplicas: number, target = "web", name = "web-hpa"): TestResource {
  return resourceOf(k8s.autoscaling.v2.HorizontalPodAutoscaler, name, {
    metadata: { name, namespace: "monkeytown" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: KIND, name: target },
      minReplicas,
      maxReplicas: 6,
    },
  });
}

function netpol(podSelector: Record<string, unknown>, namespace = "monkeytown"): TestResource {
  return resourceOf(k8s.networking.v1.NetworkPolicy, "web-netpol", {
    metadata: { name: "web-netpol", namespace },
    spec: { podSelector, policyTypes: ["Ingress"] },
  });
}

describe.each(["Deployment", "StatefulSet"] as const)(
  "pdb-for-replicated-workloads on a %s",
  (kind) => {
    beforeEach(() => {
      KIND = kind;
    });
    const rule = "pdb-for-replicated-workloads";
    it("fails with 2 replicas and no PDB", async () => {
      expect(await messagesOf(rule, [deployment(2)])).toEqual([
        expect.stringMatching(
          new RegExp(`${kind} "web" runs 2 replicas but no PodDisruptionBudget selects its pods`),
        ),
      ]);
    });
    it("fails when the only PDB selects other pods or lives in another namespace", async () => {
      const other = pdb({ selector: { matchLabels: { "app.kubernetes.io/name": "api" } } });
      const elsewhere = {
        ...pdb({}, "ns-pdb"),
        props: { metadata: { name: "ns-pdb", namespace: "other" }, spec: { selector: SELECTOR } },
      };
      expect(await messagesOf(rule, [deployment(2), other, elsewhere])).toHaveLength(1);
    });
    it("passes with a matching PDB, and for a single replica", async () => {
      expect(await messagesOf(rule, [deployment(2), pdb({ maxUnavailable: 1 })])).toEqual([]);
      expect(await messagesOf(rule, [deployment(1)])).toEqual([]);
    });
    it("counts the HPA's minReplicas for a workload without spec.replicas", async () => {
      expect(await messagesOf(rule, [deployment(undefined), hpa(2)])).toHaveLength(1);
    });
    it("matches matchExpressions selectors", async () => {
      const expr = pdb({
        selector: {
          matchExpressions: [
            { key: "app.kubernetes.io/name", operator: "In", values: ["web", "api"] },
          ],
        },
        maxUnavailable: 1,
      });
      expect(await messagesOf(rule, [deployment(3), expr])).toEqual([]);
      const notIn = pdb({
        selector: {
          matchExpressions: [{ key: "app.kubernetes.io/name", operator: "NotIn", values: ["web"] }],
        },
        maxUnavailable: 1,
      });
      expect(await messagesOf(rule, [deployment(3), notIn])).toHaveLength(1);
    });
  },
);

describe("network-policy-coverage", () => {
  const rule = "network-policy-coverage";
  it("fails for every workload kind that no NetworkPolicy selects", async () => {
    const kinds = WORKLOAD_KINDS;
    const messages = await messagesOf(
      rule,
      kinds.map((k) => workload(k, hardenedPodSpec(), `w-${k.toLowerCase()}`)),
    );
    expect(messages).toHaveLength(kinds.length);
    kinds.forEach((k, i) =>
      expect(messages[i]).toMatch(
        new RegExp(`^${k} "w-${k.toLowerCase()}" is not selected by any NetworkPolicy`),
      ),
    );
  });
  it("passes with a selecting policy or an empty (select-all) podSelector in the namespace", async () => {
    expect(await messagesOf(rule, [deployment(2), netpol(SELECTOR)])).toEqual([]);
    expect(await messagesOf(rule, [deployment(2), netpol({})])).toEqual([]);
  });
  it("fails when the select-all policy is in another namespace", async () => {
    expect(await messagesOf(rule, [deployment(2), netpol({}, "default")])).toHaveLength(1);
  });
  it("exempts configured namespaces", async () => {
    const d = deployment(1);
    const props = {
      ...d.props,
      metadata: { name: "dns", namespace: "kube-system", labels: LABELS },
    };
    expect(await messagesOf(rule, [{ ...d, props }])).toEqual([]);
  });
});

describe.each(["Deployment", "StatefulSet"] as const)("hpa-no-fixed-replicas on a %s", (kind) => {
  beforeEach(() => {
    KIND = kind;
  });
  const rule = "hpa-no-fixed-replicas";
  it("fails when the workload targeted by an HPA sets spec.replicas", async () => {
    expect(await messagesOf(rule, [deployment(2), hpa(2)])).toEqual([
      expect.stringMatching(
        new RegExp(
          `${kind} "web" sets spec.replicas but HorizontalPodAutoscaler "web-hpa" scales it`,
        ),
      ),
    ]);
  });
  it("passes without spec.replicas, and when the HPA targets another workload", async () => {
    expect(await messagesOf(rule, [deployment(undefined), hpa(2)])).toEqual([]);
    expect(await messagesOf(rule, [deployment(2), hpa(2, "api")])).toEqual([]);
  });
  it("matches an HPA whose target name is unknown during preview through its dependency on the workload", async () => {
    const d = deployment(2);
    const h = hpa(2, "04da6b54-80e4-46f7-96ec-b56ff0331ba9");
    const withDep = { ...h, dependencies: [urnOf(d.type, d.name)] };
    expect(await messagesOf(rule, [d, withDep])).toHaveLength(1);
    expect(await messagesOf(rule, [d, h])).toEqual([]);
  });
});

describe.each(["Deployment", "StatefulSet"] as const)("pdb-below-min-replicas on a %s", (kind) => {
  beforeEach(() => {
    KIND = kind;
  });
  const rule = "pdb-below-min-replicas";
  it("fails when minAvailable equals the HPA's minReplicas", async () => {
    expect(
      await messagesOf(rule, [deployment(undefined), hpa(2), pdb({ minAvailable: 2 })]),
    ).toEqual([
      expect.stringMatching(
        new RegExp(
          `PodDisruptionBudget "web-pdb" \\(minAvailable: 2\\) protects 2 of the 2 replicas ${kind} "web" runs at minimum`,
        ),
      ),
    ]);
  });
  it("fails for minAvailable 100% and maxUnavailable 0", async () => {
    expect(await messagesOf(rule, [deployment(3), pdb({ minAvailable: "100%" })])).toHaveLength(1);
    expect(await messagesOf(rule, [deployment(3), pdb({ maxUnavailable: 0 })])).toHaveLength(1);
  });
  it("passes when the PDB leaves room for an eviction", async () => {
    expect(
      await messagesOf(rule, [deployment(undefined), hpa(3), pdb({ minAvailable: 2 })]),
    ).toEqual([]);
    expect(await messagesOf(rule, [deployment(2), pdb({ maxUnavailable: 1 })])).toEqual([]);
    expect(await messagesOf(rule, [deployment(2), pdb({ minAvailable: "50%" })])).toEqual([]);
  });
});

describe.each(["Deployment", "StatefulSet"] as const)("min-replicas on a %s", (kind) => {
  beforeEach(() => {
    KIND = kind;
  });
  const rule = "min-replicas";
  const production = { [rule]: { minReplicas: 2 } };
  it("fails below the configured minimum, counting the HPA floor", async () => {
    expect(await messagesOf(rule, [deployment(1)], production)).toEqual([
      expect.stringMatching(
        new RegExp(`${kind} "web" runs 1 replica at minimum, fewer than the 2`),
      ),
    ]);
    expect(await messagesOf(rule, [deployment(undefined), hpa(1)], production)).toHaveLength(1);
    expect(await messagesOf(rule, [deployment(undefined)], production)).toHaveLength(1);
  });
  it("passes at the minimum and with an HPA floor that meets it", async () => {
    expect(await messagesOf(rule, [deployment(2)], production)).toEqual([]);
    expect(await messagesOf(rule, [deployment(undefined), hpa(2)], production)).toEqual([]);
    expect(await messagesOf(rule, [deployment(1)])).toEqual([]);
  });
});

describe("no-load-balancer", () => {
  const rule = "no-load-balancer";
  const svc = (type: string, name = "web") =>
    resourceOf(k8s.core.v1.Service, name, {
      metadata: { name, namespace: "monkeytown" },
      spec: { type, ports: [{ port: 80 }] },
    });
  it("fails for LoadBalancer and NodePort services", async () => {
    expect(await messagesOf(rule, [svc("LoadBalancer"), svc("NodePort", "np")])).toEqual([
      expect.stringMatching(/Service "web" is type LoadBalancer/),
      expect.stringMatching(/Service "np" is type NodePort/),
    ]);
  });
  it("passes ClusterIP and allowlisted services", async () => {
    expect(await messagesOf(rule, [svc("ClusterIP")])).toEqual([]);
    expect(
      await messagesOf(rule, [svc("LoadBalancer")], {
        [rule]: { allowedServices: ["monkeytown/web"] },
      }),
    ).toEqual([]);
  });
  it("honours a valid waiver on the Service, and not an expired one", async () => {
    const waived = (expires: string) =>
      resourceOf(k8s.core.v1.Service, "edge-lb", {
        metadata: {
          name: "edge-lb",
          namespace: "monkeytown",
          annotations: {
            "policy.monkeytown.dev/waive-no-load-balancer": `reason=health checks from the cloud LB, approved by platform (PLAT-40); expires=${expires}`,
          },
        },
        spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
      });
    expect(await messagesOf(rule, [waived(dateIn(30))])).toEqual([]);
    expect(await messagesOf(rule, [waived("2020-01-31")])).toEqual([
      expect.stringMatching(/Service "edge-lb" is type LoadBalancer/),
    ]);
  });
});

describe("a compliant stack", () => {
  beforeEach(() => {
    KIND = "Deployment";
  });
  it("has no violations at all under the production config", async () => {
    const { loadStackConfig } = await import("../testing");
    const resources = [deployment(undefined), hpa(2), pdb({ maxUnavailable: 1 }), netpol(SELECTOR)];
    expect(await evaluatePolicies(resources, loadStackConfig("production"))).toEqual([]);
  });
});

describe("HPA matching", () => {
  it("does not take an HPA that targets a Deployment for a StatefulSet of the same name", async () => {
    KIND = "Deployment";
    const h = hpa(2);
    KIND = "StatefulSet";
    expect(await messagesOf("hpa-no-fixed-replicas", [deployment(2), h])).toEqual([]);
  });
});
