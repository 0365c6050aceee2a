/**
 * Shared pod-spec hardening: labels, security contexts, probes and resources. Pure builders, so
 * every workload gets the same restricted settings and tests can check them without mocks.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** The package prefix of every component type token. */
export const PKG = "monkeytown";
export const PART_OF = "monkeytown";

/** Unprivileged uid/gid the images run as (architecture seed §8.2). */
export const APP_UID = 1001;

/** Recommended labels; `selectorLabels` is the immutable subset used by selectors. */
export function selectorLabels(app: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": app,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": PART_OF,
  };
}

export function standardLabels(
  app: string,
  component: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...selectorLabels(app, component),
    "app.kubernetes.io/managed-by": "pulumi",
    ...extra,
  };
}

/** Pod-level security context: non-root, fixed uid/gid, RuntimeDefault seccomp. */
export function podSecurityContext(
  uid: number = APP_UID,
): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/**
 * Container-level security context (repeated at container level, which is what kube-score and
 * Polaris read): read-only root, no escalation, every capability dropped.
 */
export function containerSecurityContext(
  uid: number = APP_UID,
): k8s.types.input.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** An HTTP GET probe on a named port. */
export function httpProbe(
  path: string,
  port: string,
  periodSeconds: number,
  opts: { initialDelaySeconds?: number; failureThreshold?: number; timeoutSeconds?: number } = {},
): k8s.types.input.core.v1.Probe {
  return {
    httpGet: { path, port },
    periodSeconds,
    initialDelaySeconds: opts.initialDelaySeconds ?? 5,
    timeoutSeconds: opts.timeoutSeconds ?? 3,
    failureThreshold: opts.failureThreshold ?? 3,
  };
}

/** Requests and limits in the shape Kubernetes wants. */
export interface ResourceSpec {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** Parse a CPU quantity to millicores. */
export function cpuMillis(q: string): number {
  return q.endsWith("m") ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
}

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Parse a memory quantity to bytes. */
export function memoryBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`"${q}" is not a memory quantity such as 64Mi`);
  return Number(m[1]) * MEMORY_UNITS[m[2] ?? ""];
}

/** Problems with a resource spec: limits below requests. Each names the field and the fix. */
export function validateResources(spec: ResourceSpec, argName: string): string[] {
  const problems: string[] = [];
  if (cpuMillis(spec.limits.cpu) < cpuMillis(spec.requests.cpu)) {
    problems.push(
      `${argName}.limits.cpu (${spec.limits.cpu}) is below ${argName}.requests.cpu (${spec.requests.cpu}): raise the limit or lower the request.`,
    );
  }
  if (memoryBytes(spec.limits.memory) < memoryBytes(spec.requests.memory)) {
    problems.push(
      `${argName}.limits.memory (${spec.limits.memory}) is below ${argName}.requests.memory (${spec.requests.memory}): raise the limit or lower the request.`,
    );
  }
  return problems;
}

export function containerResources(
  spec: ResourceSpec,
): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: spec.requests.cpu, memory: spec.requests.memory },
    limits: { cpu: spec.limits.cpu, memory: spec.limits.memory },
  };
}

/** Rolling update that never drops below the desired count (architecture seed §4.2). */
export const SAFE_ROLLING_UPDATE = {
  type: "RollingUpdate",
  rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
} as const;

/** Throw one error listing every problem, or do nothing. */
export function assertNoProblems(component: string, problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new Error(`${component}: invalid arguments:\n  - ${problems.join("\n  - ")}`);
  }
}

/** One application container: what the web and API workloads have in common. */
export interface AppContainerSpec {
  readonly name: string;
  readonly image: pulumi.Input<string>;
  /** Unprivileged container port, exposed as the named port `http`. */
  readonly port: number;
  readonly resources: ResourceSpec;
  /** Probe period, seconds; liveness on `/health`, readiness on `/ready`. */
  readonly probeIntervalSeconds: number;
  readonly env?: k8s.types.input.core.v1.EnvVar[];
  readonly envFrom?: k8s.types.input.core.v1.EnvFromSource[];
  readonly volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
}

/** A hardened container: non-root, read-only root, no capabilities, requests and limits, probes. */
export function appContainer(spec: AppContainerSpec): k8s.types.input.core.v1.Container {
  return {
    name: spec.name,
    image: spec.image,
    imagePullPolicy: "IfNotPresent",
    ports: [{ name: "http", containerPort: spec.port, protocol: "TCP" }],
    envFrom: spec.envFrom,
    env: spec.env,
    securityContext: containerSecurityContext(),
    resources: containerResources(spec.resources),
    livenessProbe: httpProbe("/health", "http", spec.probeIntervalSeconds),
    readinessProbe: httpProbe("/ready", "http", spec.probeIntervalSeconds, {
      initialDelaySeconds: 2,
    }),
    volumeMounts: spec.volumeMounts,
  };
}

/** A hardened pod: no service-account token, the restricted pod security context. */
export function appPodSpec(
  containers: k8s.types.input.core.v1.Container[],
  volumes: k8s.types.input.core.v1.Volume[],
  imagePullSecrets?: pulumi.Input<string>[],
): k8s.types.input.core.v1.PodSpec {
  return {
    automountServiceAccountToken: false,
    securityContext: podSecurityContext(),
    imagePullSecrets: imagePullSecrets?.map((name) => ({ name })),
    containers,
    volumes,
  };
}

/** A ClusterIP Service spec sending `port` to the pods' named port `http`. */
export function httpServiceSpec(
  selector: Record<string, string>,
  port = 80,
): k8s.types.input.core.v1.ServiceSpec {
  return {
    type: "ClusterIP",
    selector,
    ports: [{ name: "http", port, targetPort: "http", protocol: "TCP" }],
  };
}

/** A PodDisruptionBudget spec that lets one pod go at a time (below any HPA minimum of 2+). */
export function oneAtATimePdbSpec(
  selector: Record<string, string>,
): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  return { maxUnavailable: 1, selector: { matchLabels: selector } };
}

/** NetworkPolicy peers: every pod of the named namespaces. */
export function fromNamespaces(
  ...names: string[]
): k8s.types.input.networking.v1.NetworkPolicyPeer[] {
  return names.map((name) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
  }));
}
