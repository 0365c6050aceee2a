/**
 * Shared pod-spec hardening: labels, security contexts, probes and resources. Pure builders, so
 * every workload gets the same restricted settings and tests can check them without mocks.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { PART_OF } from "../args";
import type { ProbeTimings } from "./recovery";

export * from "./recovery";

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

/** Requests and limits in the shape Kubernetes wants. */
export interface ResourceSpec {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** A Kubernetes CPU quantity: `100m`, `0.5`, `2`. */
export const CPU_QUANTITY = /^(\d+m|\d+(\.\d+)?)$/;
/** A Kubernetes memory quantity: `64Mi`, `1Gi`, `128M`. */
export const MEMORY_QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/;

/** Parse a CPU quantity (`100m`, `0.5`, `2`) to millicores. */
export function cpuMillis(q: string): number {
  if (!CPU_QUANTITY.test(q)) throw new Error(`"${q}" is not a CPU quantity such as 100m or 0.5`);
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

/** Parse a memory quantity (`64Mi`, `1Gi`, `128M`) to bytes. */
export function memoryBytes(q: string): number {
  const m = MEMORY_QUANTITY.exec(q);
  if (!m) throw new Error(`"${q}" is not a memory quantity such as 64Mi`);
  return Number(m[1]) * MEMORY_UNITS[m[2] ?? ""];
}

/** One thing wrong with a resource spec: the field (`limits.cpu`), what is wrong, the fix. */
export interface ResourceProblem {
  readonly field: `${"requests" | "limits"}.${"cpu" | "memory"}`;
  readonly message: string;
  readonly fix: string;
}

/**
 * Every problem with a resource spec: quantities Kubernetes cannot parse, and limits below their
 * requests (the API server rejects such a pod). The stack config (config/schema.ts) and the
 * components both check with this one function.
 */
export function resourceProblems(spec: ResourceSpec): ResourceProblem[] {
  const problems: ResourceProblem[] = [];
  const parsers = { cpu: cpuMillis, memory: memoryBytes } as const;
  const examples = { cpu: "100m or 0.5", memory: "64Mi or 1Gi" } as const;
  for (const kind of ["cpu", "memory"] as const) {
    const parsed: Partial<Record<"requests" | "limits", number>> = {};
    for (const side of ["requests", "limits"] as const) {
      const value = spec[side]?.[kind];
      try {
        parsed[side] = parsers[kind](value);
      } catch {
        problems.push({
          field: `${side}.${kind}`,
          message: `(${JSON.stringify(value)}) is not a ${kind === "cpu" ? "CPU" : "memory"} quantity`,
          fix: `write a quantity such as ${examples[kind]}`,
        });
      }
    }
    if (
      parsed.requests !== undefined &&
      parsed.limits !== undefined &&
      parsed.limits < parsed.requests
    ) {
      problems.push({
        field: `limits.${kind}`,
        message: `(${spec.limits[kind]}) is below requests.${kind} (${spec.requests[kind]})`,
        fix: `raise the limit to at least ${spec.requests[kind]} or lower the request`,
      });
    }
  }
  return problems;
}

/** {@link resourceProblems} as component-argument sentences, the argument named `argName`. */
export function validateResources(spec: ResourceSpec, argName: string): string[] {
  return resourceProblems(spec).map((p) => `\`${argName}.${p.field}\` ${p.message}: ${p.fix}.`);
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
/**
 * Annotations of a Deployment the program owns outright. A hand edit (`kubectl scale`, `kubectl
 * edit`) makes its client the owner of the fields it touched; Pulumi's server-side apply then fails
 * on the conflict instead of repairing the drift (found on the live cluster). `patchForce` takes the
 * fields back. Fields the program never sets (an autoscaled Deployment's replicas) stay the HPA's.
 */
export const RECLAIM_DRIFT_ANNOTATIONS: Readonly<Record<string, string>> = {
  "pulumi.com/patchForce": "true",
};

export const SAFE_ROLLING_UPDATE = {
  type: "RollingUpdate",
  rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
} as const;

/**
 * Where a workload's pods may run: the node labels they require and the taints they tolerate
 * (`monkeytown:cluster.nodeSelector` / `.tolerations`). Empty: any untainted node.
 */
export interface PodPlacement {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly k8s.types.input.core.v1.Toleration[];
}

/**
 * How a pod leaves without failing requests (the classic rolling-update race: the Service's
 * endpoints are removed while the container is already stopping). For `drainSeconds` after it is
 * told to stop, a pod keeps serving while kube-proxy and the ingress controller stop sending it new
 * connections: nginx through a `preStop` sleep (SIGQUIT, its graceful stop, comes after it), the API
 * by itself (`SHUTDOWN_DELAY_SECONDS`: /ready turns 503 at once, it stops accepting after the delay,
 * in-flight requests and WebSockets end within `SHUTDOWN_TIMEOUT_SECONDS`). The grace period covers
 * both, so the kubelet never kills a draining pod.
 */
export const GRACEFUL_SHUTDOWN = {
  /** Seconds a stopping pod keeps serving before it stops accepting. */
  drainSeconds: 5,
  /** Seconds the API gives open requests and WebSockets after that before it drops them. */
  closeTimeoutSeconds: 20,
  /** The pod's terminationGracePeriodSeconds (SIGKILL after): drain + close + margin. */
  terminationGracePeriodSeconds: 30,
} as const;

/** The arguments the web and API workloads have in common. */
export interface WorkloadArgs {
  /** Namespace to deploy into. */
  readonly namespace: pulumi.Input<string>;
  /**
   * Probe timings, from the recovery target (./recovery.ts).
   * @default DEFAULT_PROBE_TIMINGS: the seed's 30 s container recovery, dev's 10 s interval
   */
  readonly probes?: ProbeTimings;
  /** Namespace of the ingress controller allowed to reach the pods. @default CLUSTER_NAMESPACE_DEFAULTS.ingress */
  readonly ingressNamespace?: string;
  /** Names of image pull Secrets. */
  readonly imagePullSecrets?: pulumi.Input<string>[];
  /** Extra labels on every object. */
  readonly labels?: Record<string, string>;
  /** Node selector and tolerations of the pods. @default any untainted node */
  readonly placement?: PodPlacement;
  /**
   * Seconds a rollout may take before the deploy fails: the Deployments' progressDeadlineSeconds
   * and how long `pulumi up` waits for them. @default RECOVERY_DEFAULTS.rolloutTimeoutSeconds (300)
   */
  readonly rolloutTimeoutSeconds?: number;
}

/** {@link WorkloadArgs.rolloutTimeoutSeconds} as a component-argument sentence, when it is wrong. */
export function validateRolloutTimeout(seconds: number | undefined): string[] {
  if (seconds === undefined || (Number.isInteger(seconds) && seconds >= 1)) return [];
  return [`\`rolloutTimeoutSeconds\` (${seconds}) must be a whole number of seconds, at least 1.`];
}

/**
 * What bounds a rollout that never finishes (an image that never becomes ready): Kubernetes marks
 * the Deployment `ProgressDeadlineExceeded`, and the engine stops waiting and fails the update, at
 * the same moment. Spread the first into the Deployment spec, the second into its resource options.
 */
export function rolloutDeadline(seconds: number): {
  readonly spec: { readonly progressDeadlineSeconds: number };
  readonly customTimeouts: { readonly create: string; readonly update: string };
} {
  return {
    spec: { progressDeadlineSeconds: seconds },
    customTimeouts: { create: `${seconds}s`, update: `${seconds}s` },
  };
}

/** One application container: what the web and API workloads have in common. */
export interface AppContainerSpec {
  readonly name: string;
  readonly image: pulumi.Input<string>;
  /** Unprivileged container port, exposed as the named port `http`. */
  readonly port: number;
  readonly resources: ResourceSpec;
  /** Probe timings (./recovery.ts); liveness on `/health`, readiness on `/ready`. */
  readonly probes: ProbeTimings;
  readonly env?: k8s.types.input.core.v1.EnvVar[];
  readonly envFrom?: k8s.types.input.core.v1.EnvFromSource[];
  readonly volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
  /** Seconds to keep serving after the pod is told to stop, as a `preStop` sleep (nginx). */
  readonly preStopSleepSeconds?: number;
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
    livenessProbe: { httpGet: { path: "/health", port: "http" }, ...spec.probes.liveness },
    readinessProbe: { httpGet: { path: "/ready", port: "http" }, ...spec.probes.readiness },
    volumeMounts: spec.volumeMounts,
    lifecycle:
      spec.preStopSleepSeconds !== undefined
        ? { preStop: { sleep: { seconds: spec.preStopSleepSeconds } } }
        : undefined,
  };
}

/** What a pod spec takes besides its containers and volumes. */
export interface AppPodOptions {
  readonly imagePullSecrets?: pulumi.Input<string>[];
  readonly placement?: PodPlacement;
}

/**
 * A hardened pod: no service-account token, the restricted pod security context, the grace period
 * of {@link GRACEFUL_SHUTDOWN}, and the placement asked for.
 */
export function appPodSpec(
  containers: k8s.types.input.core.v1.Container[],
  volumes: k8s.types.input.core.v1.Volume[],
  options: AppPodOptions = {},
): k8s.types.input.core.v1.PodSpec {
  const { nodeSelector, tolerations } = options.placement ?? {};
  return {
    automountServiceAccountToken: false,
    securityContext: podSecurityContext(),
    terminationGracePeriodSeconds: GRACEFUL_SHUTDOWN.terminationGracePeriodSeconds,
    imagePullSecrets: options.imagePullSecrets?.map((name) => ({ name })),
    nodeSelector:
      nodeSelector && Object.keys(nodeSelector).length > 0 ? { ...nodeSelector } : undefined,
    tolerations: tolerations && tolerations.length > 0 ? [...tolerations] : undefined,
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

/**
 * Where the cluster runs what the workloads' NetworkPolicies admit, when nothing says otherwise: the
 * ingress controller (ingress-nginx's own namespace) and Prometheus. The defaults of the components'
 * `ingressNamespace`/`monitoringNamespace` and of `monkeytown:cluster` (config/schema.ts).
 */
export const CLUSTER_NAMESPACE_DEFAULTS = {
  ingress: "ingress-nginx",
  monitoring: "monitoring",
} as const;

/** NetworkPolicy peers: every pod of the named namespaces. */
export function fromNamespaces(
  ...names: string[]
): k8s.types.input.networking.v1.NetworkPolicyPeer[] {
  return names.map((name) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
  }));
}
