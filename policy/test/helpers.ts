/**
 * Fixtures built from the real resource classes: the type token comes from the class, the props
 * are typed as that class's args (Outputs unwrapped), as pulumi/compliance-policies'
 * unit-test-helpers do. `evaluatePolicies` then wraps them in `unknownCheckingProxy`.
 */
import * as k8s from "@pulumi/kubernetes";
import type { Unwrap } from "@pulumi/pulumi";
import { PackConfig, TestResource, Violation, evaluatePolicies } from "../testing";
import { WORKLOAD_KINDS } from "../lib/workload";

type Cls<TArgs> = new (name: string, args: TArgs, ...rest: never[]) => unknown;

export function typeOf(cls: unknown): string {
  const t = (cls as { __pulumiType?: unknown }).__pulumiType;
  if (typeof t !== "string") throw new Error("not a Pulumi resource class");
  return t;
}

/** A TestResource of `cls`, with `props` typed as its args. */
export function resourceOf<TArgs>(
  cls: Cls<TArgs>,
  name: string,
  props: Unwrap<NonNullable<TArgs>>,
): TestResource {
  return { type: typeOf(cls), name, props: props as unknown as Record<string, unknown> };
}

export type PodSpec = Unwrap<k8s.types.input.core.v1.PodSpec>;
export type Container = Unwrap<k8s.types.input.core.v1.Container>;

export const LABELS = {
  "app.kubernetes.io/name": "web",
  "app.kubernetes.io/part-of": "monkeytown",
  "app.kubernetes.io/component": "frontend",
};

/** A container that passes every rule (the web container of the main program). */
export function hardenedContainer(name = "web"): Container {
  return {
    name,
    image: "ghcr.io/monkeytown/web:1.4.2@sha256:" + "a".repeat(64),
    ports: [{ containerPort: 8080, name: "http" }],
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1001,
      runAsGroup: 1001,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    resources: {
      requests: { cpu: "200m", memory: "256Mi" },
      limits: { cpu: "1000m", memory: "512Mi" },
    },
    readinessProbe: { httpGet: { path: "/healthz/ready", port: 8080 } },
    livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
    env: [{ name: "LOG_LEVEL", value: "info" }],
  };
}

/** A pod spec that passes every rule: pod-level non-root and seccomp, one hardened container. */
export function hardenedPodSpec(overrides: Partial<PodSpec> = {}): PodSpec {
  return {
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1001,
      seccompProfile: { type: "RuntimeDefault" },
    },
    containers: [hardenedContainer()],
    ...overrides,
  };
}

export { WORKLOAD_KINDS };
export type Kind = (typeof WORKLOAD_KINDS)[number];

/** The workload of `kind` named `name` running `podSpec`, built from the real class. */
export function workload(kind: Kind, podSpec: PodSpec, name = "web", replicas = 2): TestResource {
  const metadata = { name, namespace: "monkeytown", labels: LABELS };
  const template = { metadata: { labels: LABELS }, spec: podSpec };
  const selector = { matchLabels: LABELS };
  switch (kind) {
    case "Pod":
      return resourceOf(k8s.core.v1.Pod, name, { metadata, spec: podSpec });
    case "Deployment":
      return resourceOf(k8s.apps.v1.Deployment, name, {
        metadata,
        spec: { replicas, selector, template },
      });
    case "StatefulSet":
      return resourceOf(k8s.apps.v1.StatefulSet, name, {
        metadata,
        spec: { replicas, serviceName: name, selector, template },
      });
    case "DaemonSet":
      return resourceOf(k8s.apps.v1.DaemonSet, name, { metadata, spec: { selector, template } });
    case "ReplicaSet":
      return resourceOf(k8s.apps.v1.ReplicaSet, name, {
        metadata,
        spec: { replicas, selector, template },
      });
    case "Job":
      return resourceOf(k8s.batch.v1.Job, name, {
        metadata,
        spec: { template: { ...template, spec: { ...podSpec, restartPolicy: "Never" } } },
      });
    case "CronJob":
      return resourceOf(k8s.batch.v1.CronJob, name, {
        metadata,
        spec: {
          schedule: "0 * * * *",
          jobTemplate: {
            spec: { template: { ...template, spec: { ...podSpec, restartPolicy: "Never" } } },
          },
        },
      });
  }
}

/** Messages that `rule` reports on `resources` under `config` (whole pack evaluated). */
export async function messagesOf(
  rule: string,
  resources: TestResource[],
  config: PackConfig = {},
): Promise<string[]> {
  const violations: Violation[] = await evaluatePolicies(resources, config);
  return violations.filter((v) => v.policyName === rule).map((v) => v.message);
}

/** A YYYY-MM-DD date `days` from now. */
export function dateIn(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** A copy of a container with `securityContext` fields replaced. */
export function withSc(c: Container, sc: Record<string, unknown>): Container {
  return {
    ...c,
    securityContext: { ...(c.securityContext as object), ...sc } as Container["securityContext"],
  };
}

/** A copy of a workload whose pods carry `annotations` (a Pod's own metadata, else its template's). */
export function withPodAnnotations(
  r: TestResource,
  annotations: Record<string, string>,
): TestResource {
  const props = structuredClone(r.props) as Record<string, Record<string, unknown>>;
  const template =
    r.type === typeOf(k8s.core.v1.Pod)
      ? props
      : r.type === typeOf(k8s.batch.v1.CronJob)
        ? (props["spec"]["jobTemplate"] as { spec: { template: Record<string, unknown> } }).spec
            .template
        : (props["spec"]["template"] as Record<string, unknown>);
  const metadata = (template["metadata"] ?? {}) as Record<string, unknown>;
  template["metadata"] = { ...metadata, annotations };
  return { ...r, props };
}
