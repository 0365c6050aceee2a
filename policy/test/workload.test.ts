import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { UNKNOWN } from "../lib/values";
import { extractWorkload, workloadKind } from "../lib/workload";
import { evaluatePolicies } from "../testing";
import { WORKLOAD_KINDS, hardenedContainer, hardenedPodSpec, workload } from "./helpers";

describe("workloadKind", () => {
  it.each([
    ["kubernetes:core/v1:Pod", "Pod"],
    ["kubernetes:apps/v1:Deployment", "Deployment"],
    ["kubernetes:apps/v1beta2:Deployment", "Deployment"],
    ["kubernetes:extensions/v1beta1:Deployment", "Deployment"],
    ["kubernetes:extensions/v1beta1:DaemonSet", "DaemonSet"],
    ["kubernetes:apps/v1:StatefulSet", "StatefulSet"],
    ["kubernetes:apps/v1:ReplicaSet", "ReplicaSet"],
    ["kubernetes:core/v1:ReplicationController", "ReplicationController"],
    ["kubernetes:batch/v1:Job", "Job"],
    ["kubernetes:batch/v1:CronJob", "CronJob"],
    ["kubernetes:batch/v1beta1:CronJob", "CronJob"],
    ["kubernetes:core/v1:PodTemplate", "PodTemplate"],
  ])("%s is a %s", (type, kind) => {
    expect(workloadKind(type)).toBe(kind);
  });

  it.each([
    "kubernetes:apps/v1:DeploymentPatch",
    "kubernetes:apps/v1:DeploymentList",
    "kubernetes:core/v1:Service",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "docker:index/container:Container",
  ])("%s is not a workload", (type) => {
    expect(workloadKind(type)).toBeUndefined();
  });
});

describe("extractWorkload", () => {
  it.each(WORKLOAD_KINDS)("finds init, regular and ephemeral containers of a %s", (kind) => {
    const spec = hardenedPodSpec({
      initContainers: [{ ...hardenedContainer(), name: "migrate" }],
      ephemeralContainers: [{ name: "debug", image: "busybox:1.36" }],
    });
    const r = workload(kind, spec);
    const w = extractWorkload(r.type, r.name, r.props);
    expect(w?.kind).toBe(kind);
    expect(
      w?.containers === UNKNOWN ? [] : w?.containers.map((c) => `${c.role}:${c.name}`),
    ).toEqual(["init container:migrate", "container:web", "ephemeral container:debug"]);
  });

  it("resolves the effective security context with container fields overriding pod fields", () => {
    const r = workload("Deployment", {
      securityContext: {
        runAsUser: 1001,
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "a",
          image: "x:1",
          securityContext: {
            runAsUser: 2000,
            seccompProfile: { type: "Localhost", localhostProfile: "p.json" },
          },
        },
        { name: "b", image: "x:1" },
      ],
    });
    const w = extractWorkload(r.type, r.name, r.props);
    if (!w || w.containers === UNKNOWN) throw new Error("no workload");
    const [a, b] = w.containers;
    expect([
      a.securityContext.runAsUser,
      a.securityContext.runAsUserSource,
      a.securityContext.seccompProfileType,
    ]).toEqual([2000, "container", "Localhost"]);
    expect([
      b.securityContext.runAsUser,
      b.securityContext.runAsUserSource,
      b.securityContext.seccompProfileType,
    ]).toEqual([1001, "pod", "RuntimeDefault"]);
    expect(a.securityContext.runAsNonRoot).toBe(true);
  });

  it("falls back to the Pulumi resource name when metadata.name is auto-named", () => {
    const w = extractWorkload("kubernetes:apps/v1:Deployment", "web-deployment", {
      spec: { template: { spec: { containers: [] } } },
    });
    expect(w?.name).toBe("web-deployment");
  });
});

describe("resources rendered from YAML (yaml.ConfigFile / ConfigGroup / Helm)", () => {
  // What yaml.ConfigFile registers: the same type token, props exactly as in the manifest.
  const manifest = parse(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: legacy
  namespace: monkeytown
spec:
  replicas: 1
  selector: { matchLabels: { app: legacy } }
  template:
    metadata: { labels: { app: legacy } }
    spec:
      containers:
        - name: app
          image: nginx:latest
          env:
            - name: DB_PASSWORD
              value: hunter2hunter2
`) as Record<string, unknown>;

  it("are checked like program-built ones", async () => {
    const violations = await evaluatePolicies([
      { type: "kubernetes:apps/v1:Deployment", name: "monkeytown/legacy", props: manifest },
    ]);
    const mandatory = violations
      .filter((v) => v.enforcementLevel === "mandatory")
      .map((v) => v.policyName);
    expect(new Set(mandatory)).toEqual(
      new Set(["non-root", "resource-limits", "no-plaintext-secrets", "network-policy-coverage"]),
    );
    expect(violations.find((v) => v.policyName === "image-pinned")?.message).toMatch(
      /Deployment "legacy", container "app": image "nginx:latest"/,
    );
  });

  it("an old API version from a Helm chart (extensions/v1beta1) is checked too", async () => {
    const old = { ...manifest, apiVersion: "extensions/v1beta1" };
    const violations = await evaluatePolicies([
      { type: "kubernetes:extensions/v1beta1:Deployment", name: "legacy", props: old },
    ]);
    expect(violations.some((v) => v.policyName === "non-root")).toBe(true);
  });
});
