/**
 * Stack rules on what they are given after `pulumi up` on a cluster (issue 11 item 2): outputs, not
 * inputs. The API server fills in `spec.replicas` (and the HPA then owns it), the namespace,
 * strategies, Service ports' targetPort, `status` and `managedFields`; the rules must judge what the
 * program asked for. `live.ts` builds those shapes from the same fixtures the other tests use.
 */
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { TestResource, evaluatePolicies, loadStackConfig } from "../testing";
import { LABELS, hardenedPodSpec, messagesOf, resourceOf, workload } from "./helpers";
import { PULUMI_SSA_MANAGER, liveOutputs } from "./live";

const SELECTOR = { matchLabels: LABELS };

function deployment(replicas?: number, name = "web", namespace?: string): TestResource {
  const d = workload("Deployment", hardenedPodSpec(), name);
  const spec = { ...(d.props["spec"] as Record<string, unknown>) };
  if (replicas === undefined) delete spec["replicas"];
  else spec["replicas"] = replicas;
  const metadata = { ...(d.props["metadata"] as Record<string, unknown>) };
  if (namespace === undefined) delete metadata["namespace"];
  else metadata["namespace"] = namespace;
  return { ...d, props: { ...d.props, metadata, spec } };
}

const hpa = (minReplicas: number, target = "web") =>
  resourceOf(k8s.autoscaling.v2.HorizontalPodAutoscaler, "web-hpa", {
    metadata: { name: "web-hpa", namespace: "monkeytown" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
      minReplicas,
      maxReplicas: 10,
    },
  });

const pdb = () =>
  resourceOf(k8s.policy.v1.PodDisruptionBudget, "web-pdb", {
    metadata: { name: "web-pdb", namespace: "monkeytown" },
    spec: { selector: SELECTOR, maxUnavailable: 1 },
  });

const netpol = (namespace?: string) =>
  resourceOf(k8s.networking.v1.NetworkPolicy, "web-netpol", {
    metadata: { name: "web-netpol", ...(namespace ? { namespace } : {}) },
    spec: {
      podSelector: SELECTOR,
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ port: "http" }] }],
    },
  });

const service = () =>
  resourceOf(k8s.core.v1.Service, "web", {
    metadata: { name: "web", namespace: "monkeytown", labels: LABELS },
    spec: { selector: LABELS, ports: [{ name: "http", port: 80 }] },
  });

describe("the live shape the tests feed (live.ts)", () => {
  it("fills in what the API server and the controllers write", () => {
    const [d, h] = liveOutputs([deployment(undefined, "web", "monkeytown"), hpa(2)], {
      hpaReplicas: { web: 7 },
    });
    const out = d.outputs as Record<string, Record<string, unknown>>;
    expect(out.spec.replicas).toBe(7);
    expect(out.spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
    });
    expect(out.status).toMatchObject({ replicas: 7, observedGeneration: 1 });
    expect(out.metadata).toMatchObject({ generation: 1, resourceVersion: expect.any(String) });
    const managers = (out.metadata.managedFields as { manager: string; operation: string }[]).map(
      (e) => `${e.manager} ${e.operation}`,
    );
    expect(managers).toEqual([
      `${PULUMI_SSA_MANAGER} Apply`,
      "kube-controller-manager Update",
      "kube-controller-manager Update",
    ]);
    expect((h.outputs as Record<string, unknown>).status).toMatchObject({ desiredReplicas: 2 });
    // The inputs are untouched: resource policies still see those.
    expect(d.props.spec).not.toHaveProperty("replicas");
  });
});

describe("hpa-no-fixed-replicas on live outputs", () => {
  const rule = "hpa-no-fixed-replicas";

  it("passes a Deployment the program left to its HPA, though the API server and the HPA set spec.replicas", async () => {
    const live = liveOutputs([deployment(undefined, "web", "monkeytown"), hpa(2)], {
      hpaReplicas: { web: 5 },
    });
    expect(await messagesOf(rule, live)).toEqual([]);
    // A freshly created one, still at the API server's default of 1.
    const fresh = liveOutputs([deployment(undefined, "web", "monkeytown"), hpa(1)]);
    expect(await messagesOf(rule, fresh)).toEqual([]);
  });

  it("still fails a Deployment whose spec.replicas Pulumi applied (its field manager owns the field)", async () => {
    const live = liveOutputs([deployment(3, "web", "monkeytown"), hpa(2)]);
    expect(await messagesOf(rule, live)).toEqual([
      expect.stringMatching(
        /^Deployment "web" sets spec.replicas but HorizontalPodAutoscaler "web-hpa" scales it/,
      ),
    ]);
  });

  it("reads the field manager named by pulumi.com/patchFieldManager", async () => {
    const [d, h] = liveOutputs([deployment(3, "web", "monkeytown"), hpa(2)]);
    const out = structuredClone(d.outputs) as Record<string, Record<string, unknown>>;
    out.metadata.annotations = {
      ...(out.metadata.annotations as object),
      "pulumi.com/patchFieldManager": "platform-deployer",
    };
    const entries = out.metadata.managedFields as { manager: string }[];
    entries[0].manager = "platform-deployer";
    expect(await messagesOf(rule, [{ ...d, outputs: out }, h])).toHaveLength(1);
    // Another tool's Apply entry is not the program's intent.
    entries[0].manager = "kubectl";
    expect(await messagesOf(rule, [{ ...d, outputs: out }, h])).toEqual([]);
  });

  it("stays silent on client-side-applied objects, whose manager also owns the defaults", async () => {
    const live = liveOutputs([deployment(undefined, "web", "monkeytown"), hpa(2)], {
      apply: "client-side",
    });
    expect(await messagesOf(rule, live)).toEqual([]);
  });
});

describe("replica floors on live outputs", () => {
  const production = loadStackConfig("production");

  it("min-replicas judges the replicas the program asked for, not a count someone scaled by hand", async () => {
    const live = liveOutputs([deployment(undefined, "web", "monkeytown")], {
      scaledByHand: { web: 3 },
    });
    expect(await messagesOf("min-replicas", live, production)).toEqual([
      expect.stringMatching(/^Deployment "web" runs 1 replica at minimum, fewer than the 2/),
    ]);
    const asked = liveOutputs([deployment(2, "web", "monkeytown")]);
    expect(await messagesOf("min-replicas", asked, production)).toEqual([]);
  });

  it("min-replicas reads a count nobody owns (a stale read of a colour going to standby) as what runs", async () => {
    // The program left replicas unset and nothing else owns the field: the API server's default.
    const defaulted = liveOutputs([deployment(undefined, "web", "monkeytown")]);
    expect(await messagesOf("min-replicas", defaulted, production)).toEqual([
      expect.stringMatching(/^Deployment "web" runs 1 replica at minimum/),
    ]);
    // The same object holding 2, owned by no manager (the provider's read from before its Apply
    // took the field over): not the program's intent either way, so the count on the object counts.
    const [d] = defaulted;
    const out = structuredClone(d.outputs) as { spec: { replicas?: number } };
    out.spec.replicas = 2;
    expect(await messagesOf("min-replicas", [{ ...d, outputs: out }], production)).toEqual([]);
  });

  it("pdb-for-replicated-workloads counts the HPA floor, not the HPA's current count", async () => {
    const live = liveOutputs([deployment(undefined, "web", "monkeytown"), hpa(1)], {
      hpaReplicas: { web: 6 },
    });
    expect(await messagesOf("pdb-for-replicated-workloads", live)).toEqual([]);
  });
});

describe("namespaces on live outputs", () => {
  it("a NetworkPolicy that names no namespace covers a live Deployment in the provider's namespace", async () => {
    // A preview mixes shapes: the changed policy as inputs, the unchanged Deployment from state.
    const [d] = liveOutputs([deployment(2, "web")], { defaultNamespace: "monkeytown" });
    expect(await messagesOf("network-policy-coverage", [d, netpol()])).toEqual([]);
    // Named namespaces still have to agree.
    expect(await messagesOf("network-policy-coverage", [d, netpol("elsewhere")])).toHaveLength(1);
  });
});

describe("every stack rule on a compliant stack's live outputs", () => {
  it("reports nothing under the production config", async () => {
    const inputs = [
      deployment(undefined, "web", "monkeytown"),
      hpa(2),
      pdb(),
      netpol("monkeytown"),
      service(),
    ];
    expect(await evaluatePolicies(inputs, loadStackConfig("production"))).toEqual([]);
    const live = liveOutputs(inputs, { hpaReplicas: { web: 4 } });
    expect(await evaluatePolicies(live, loadStackConfig("production"))).toEqual([]);
  });
});
