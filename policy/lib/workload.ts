/**
 * One extraction of "the pod and its containers" for every Kubernetes workload kind, so that each
 * rule is written once against `Workload`/`ContainerView` instead of kind by kind.
 *
 * Covered: Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob
 * and PodTemplate, in every API group/version the Kubernetes provider knows (apps/v1, the old
 * extensions/v1beta1 and apps/v1beta1/2, batch/v1beta1 CronJob ...). Resources created by
 * `yaml.ConfigFile`, `yaml.ConfigGroup` (v1 and v2), `helm.v3.Chart` and `helm.v4.Chart` reach the pack
 * as these same type tokens, so they are checked the same way. `*Patch` and `*List` types are not
 * workloads (a patch is partial by design) and are left alone.
 *
 * Containers: `containers`, `initContainers` and `ephemeralContainers`, each with its effective
 * security context: a container-level field overrides the pod-level field of the same name
 * (`runAsUser`, `runAsGroup`, `runAsNonRoot`, `seccompProfile`), exactly as the kubelet resolves it.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { Unwrap } from "@pulumi/pulumi";
import { Maybe, UNKNOWN, Unknown, arr, bool, entries, field, items, num, obj, str } from "./values";

export type PodSpec = Unwrap<k8s.types.input.core.v1.PodSpec>;
export type ContainerSpec = Unwrap<k8s.types.input.core.v1.Container>;

export type WorkloadKind =
  | "Pod"
  | "Deployment"
  | "StatefulSet"
  | "DaemonSet"
  | "ReplicaSet"
  | "ReplicationController"
  | "Job"
  | "CronJob"
  | "PodTemplate";

/** Where the pod spec sits inside each kind's props (or manifest). */
export const POD_SPEC_PATH: Readonly<Record<WorkloadKind, readonly string[]>> = {
  Pod: ["spec"],
  PodTemplate: ["template", "spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** Kinds whose `spec.replicas` is a replica count (DaemonSet, Job and Pod have none). */
export const REPLICATED_KINDS: ReadonlySet<WorkloadKind> = new Set([
  "Deployment",
  "StatefulSet",
  "ReplicaSet",
  "ReplicationController",
]);

const TOKEN_RE =
  /^kubernetes:(core|apps|extensions|batch)\/(v1|v1beta1|v1beta2|v2alpha1):(Pod|Deployment|StatefulSet|DaemonSet|ReplicaSet|ReplicationController|Job|CronJob|PodTemplate)$/;
const kindCache = new Map<string, WorkloadKind | null>();

/** The workload kind of a Pulumi type token, or undefined when the type is not a workload. */
export function workloadKind(type: string): WorkloadKind | undefined {
  let kind = kindCache.get(type);
  if (kind === undefined) {
    const m = TOKEN_RE.exec(type);
    kind = m ? (m[3] as WorkloadKind) : null;
    kindCache.set(type, kind);
  }
  return kind ?? undefined;
}

export type ContainerRole = "container" | "init container" | "ephemeral container";

/** Where an effective security-context value came from, for messages. */
export type Source = "container" | "pod" | "default";

export interface EffectiveSecurityContext {
  runAsNonRoot: Maybe<boolean>;
  runAsUser: Maybe<number>;
  runAsUserSource: Source;
  runAsGroup: Maybe<number>;
  seccompProfileType: Maybe<string>;
  seccompSource: Source;
  /** Container-only fields (Kubernetes has no pod-level equivalent). */
  allowPrivilegeEscalation: Maybe<boolean>;
  privileged: Maybe<boolean>;
  readOnlyRootFilesystem: Maybe<boolean>;
  procMount: Maybe<string>;
  capabilitiesAdd: string[] | Unknown;
  capabilitiesDrop: string[] | Unknown;
}

export interface EnvVar {
  name: Maybe<string>;
  /** A literal `value`, if the variable has one. */
  value: Maybe<string>;
  /** True when the variable reads from a ConfigMap key (`valueFrom.configMapKeyRef`). */
  fromConfigMap: boolean;
}

export interface ContainerView {
  role: ContainerRole;
  /** `containers[0]` style path for messages, and the container's name. */
  path: string;
  name: string;
  spec: Record<string, unknown>;
  image: Maybe<string>;
  securityContext: EffectiveSecurityContext;
  env: EnvVar[] | Unknown;
}

export interface Workload {
  kind: WorkloadKind;
  type: string;
  /** `metadata.name`, falling back to the Pulumi resource name (auto-naming). */
  name: string;
  namespace: Maybe<string>;
  labels: Record<string, Maybe<string>> | Unknown;
  annotations: Record<string, Maybe<string>> | Unknown;
  /** Labels of the pods this workload creates (template labels; a Pod's own labels). */
  podLabels: Record<string, Maybe<string>> | Unknown;
  podAnnotations: Record<string, Maybe<string>> | Unknown;
  /** `spec.replicas` for replicated kinds: a number, UNKNOWN, or undefined when unset. */
  replicas: Maybe<number>;
  replicated: boolean;
  /** The pod spec, UNKNOWN when it is not known yet, undefined when it is absent. */
  podSpec: Maybe<Record<string, unknown>>;
  podSecurityContext: Maybe<Record<string, unknown>>;
  /** All containers, init and ephemeral ones included; UNKNOWN if any list is unknown. */
  containers: ContainerView[] | Unknown;
}

function stringMap(value: unknown): Record<string, Maybe<string>> | Unknown {
  const e = entries(value);
  if (e === UNKNOWN) return UNKNOWN;
  const out: Record<string, Maybe<string>> = {};
  for (const [k, v] of e) out[k] = v;
  return out;
}

function walk(root: unknown, path: readonly string[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    cur = field(obj(cur), key);
    if (cur === UNKNOWN || cur === undefined) return cur;
  }
  return cur;
}

function strings(value: unknown): string[] | Unknown {
  const list = items(value);
  if (list === UNKNOWN) return UNKNOWN;
  const out: string[] = [];
  for (const v of list) {
    const s = str(v);
    if (s === UNKNOWN) return UNKNOWN;
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** Container value if set (or unknown), else pod value. */
function pick<T>(container: Maybe<T>, pod: Maybe<T>): [Maybe<T>, Source] {
  if (container !== undefined) return [container, "container"];
  if (pod !== undefined) return [pod, "pod"];
  return [undefined, "default"];
}

export function effectiveSecurityContext(
  podSc: Maybe<Record<string, unknown>>,
  containerSc: Maybe<Record<string, unknown>>,
): EffectiveSecurityContext {
  const [runAsNonRoot] = pick(
    bool(field(containerSc, "runAsNonRoot")),
    bool(field(podSc, "runAsNonRoot")),
  );
  const [runAsUser, runAsUserSource] = pick(
    num(field(containerSc, "runAsUser")),
    num(field(podSc, "runAsUser")),
  );
  const [runAsGroup] = pick(num(field(containerSc, "runAsGroup")), num(field(podSc, "runAsGroup")));
  const seccompOf = (sc: Maybe<Record<string, unknown>>): Maybe<string> => {
    const profile = obj(field(sc, "seccompProfile"));
    return profile === UNKNOWN ? UNKNOWN : str(field(profile, "type"));
  };
  const [seccompProfileType, seccompSource] = pick(seccompOf(containerSc), seccompOf(podSc));
  const caps = obj(field(containerSc, "capabilities"));
  return {
    runAsNonRoot,
    runAsUser,
    runAsUserSource,
    runAsGroup,
    seccompProfileType,
    seccompSource,
    allowPrivilegeEscalation: bool(field(containerSc, "allowPrivilegeEscalation")),
    privileged: bool(field(containerSc, "privileged")),
    readOnlyRootFilesystem: bool(field(containerSc, "readOnlyRootFilesystem")),
    procMount: str(field(containerSc, "procMount")),
    capabilitiesAdd: caps === UNKNOWN ? UNKNOWN : strings(field(caps, "add")),
    capabilitiesDrop: caps === UNKNOWN ? UNKNOWN : strings(field(caps, "drop")),
  };
}

function envOf(spec: Record<string, unknown>): EnvVar[] | Unknown {
  const list = items(spec["env"]);
  if (list === UNKNOWN) return UNKNOWN;
  return list.map((e) => {
    const o = obj(e);
    const valueFrom = obj(field(o, "valueFrom"));
    return {
      name: str(field(o, "name")),
      value: str(field(o, "value")),
      fromConfigMap: valueFrom !== UNKNOWN && field(valueFrom, "configMapKeyRef") !== undefined,
    };
  });
}

const ROLES: readonly [string, ContainerRole][] = [
  ["initContainers", "init container"],
  ["containers", "container"],
  ["ephemeralContainers", "ephemeral container"],
];

function containersOf(
  podSpec: Maybe<Record<string, unknown>>,
  podSc: Maybe<Record<string, unknown>>,
): ContainerView[] | Unknown {
  if (podSpec === UNKNOWN) return UNKNOWN;
  if (podSpec === undefined) return [];
  const out: ContainerView[] = [];
  for (const [key, role] of ROLES) {
    const list = items(podSpec[key]);
    if (list === UNKNOWN) return UNKNOWN;
    list.forEach((c, i) => {
      const spec = obj(c);
      if (spec === UNKNOWN || spec === undefined) return;
      const n = str(spec["name"]);
      const path = `${key}[${i}]`;
      out.push({
        role,
        path,
        name: typeof n === "string" ? n : path,
        spec,
        image: str(spec["image"]),
        securityContext: effectiveSecurityContext(podSc, obj(spec["securityContext"])),
        env: envOf(spec),
      });
    });
  }
  return out;
}

/**
 * Extracts the workload view of a resource, or undefined when the type is not a workload.
 * `props` must already be unwrapped (`unwrapProxy`, `values.ts`).
 */
export function extractWorkload(
  type: string,
  resourceName: string,
  props: unknown,
): Workload | undefined {
  const kind = workloadKind(type);
  if (kind === undefined) return undefined;
  const metadata = obj(field(obj(props), "metadata"));
  const podSpec = obj(walk(props, POD_SPEC_PATH[kind]));
  const podMetaPath =
    kind === "Pod" ? ["metadata"] : [...POD_SPEC_PATH[kind].slice(0, -1), "metadata"];
  const podMeta = obj(walk(props, podMetaPath));
  const podSecurityContext = obj(field(podSpec, "securityContext"));
  const replicated = REPLICATED_KINDS.has(kind);
  const name = str(field(metadata, "name"));
  return {
    kind,
    type,
    name: typeof name === "string" ? name : resourceName,
    namespace: str(field(metadata, "namespace")),
    labels: stringMap(field(metadata, "labels")),
    annotations: stringMap(field(metadata, "annotations")),
    podLabels: stringMap(field(podMeta, "labels")),
    podAnnotations: stringMap(field(podMeta, "annotations")),
    replicas: replicated ? num(walk(props, ["spec", "replicas"])) : undefined,
    replicated,
    podSpec,
    podSecurityContext,
    containers: containersOf(podSpec, podSecurityContext),
  };
}

/** "Deployment "web"" */
export function describeWorkload(w: Workload): string {
  return `${w.kind} "${w.name}"`;
}

/** "Deployment "web", init container "migrate"" */
export function describeContainer(w: Workload, c: ContainerView): string {
  return `${describeWorkload(w)}, ${c.role} "${c.name}"`;
}

/** Known pod-level boolean (hostNetwork ...). */
export function podFlag(w: Workload, key: string): Maybe<boolean> {
  return bool(field(w.podSpec, key));
}

/** Known pod-level volumes. */
export function podVolumes(w: Workload): Record<string, unknown>[] | Unknown {
  const list = arr(field(w.podSpec, "volumes"));
  if (list === UNKNOWN) return UNKNOWN;
  const out: Record<string, unknown>[] = [];
  for (const v of list ?? []) {
    const o = obj(v);
    if (o !== undefined && o !== UNKNOWN) out.push(o);
  }
  return out;
}

/** One place a securityContext is written: the pod's, or one container's own. */
export interface SecurityContextSite {
  /** `Deployment "web"` for the pod, `Deployment "web", container "nginx"` for a container. */
  subject: string;
  /** `spec.securityContext` or `securityContext`, for messages. */
  path: string;
  /** The securityContext as written there (no pod/container precedence applied). */
  sc: Maybe<Record<string, unknown>>;
}

/**
 * The pod's securityContext and every container's own (init and ephemeral included), as written.
 * For the Pod Security controls that hold every level to the same values (seLinuxOptions,
 * appArmorProfile, windowsOptions): a bad pod-level value is reported once, on the pod, even where
 * each container overrides it, as Pod Security admission and Kyverno do. An unknown container list
 * yields the pod's site only.
 */
export function securityContextSites(w: Workload): SecurityContextSite[] {
  const sites: SecurityContextSite[] = [
    { subject: describeWorkload(w), path: "spec.securityContext", sc: w.podSecurityContext },
  ];
  if (w.containers === UNKNOWN) return sites;
  for (const c of w.containers) {
    sites.push({
      subject: describeContainer(w, c),
      path: "securityContext",
      sc: obj(c.spec["securityContext"]),
    });
  }
  return sites;
}

/** The workload kinds every rule is tested on (the pack also reads ReplicationController and PodTemplate). */
export const WORKLOAD_KINDS = [
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "Job",
  "CronJob",
] as const;
