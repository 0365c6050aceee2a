/**
 * Shared view of a whole stack for stack-level rules: workloads, Services, Namespaces, HPAs, PDBs,
 * NetworkPolicies, Ingresses and the Prometheus operator's monitors, label-selector matching, and
 * which HPA scales which workload. Unknown values (preview) never produce a violation: a selector or
 * namespace that is not known yet matches conservatively.
 *
 * A stack policy sees each resource's *outputs* (@pulumi/policy `PolicyResource.props`): after
 * `pulumi up` on a cluster, and in a cluster preview (server-side dry run), that is the live object
 * with whatever the API server defaulted and the controllers wrote (`spec.replicas` filled in and
 * then owned by the HPA, `status`, `metadata.uid`/`generation`/`managedFields`, the namespace always
 * set). The provider keeps the program's inputs in `__inputs`, but the engine strips keys starting
 * with `__` before it sends outputs to a policy pack (pulumi `AnalyzeStack`, `SkipInternalKeys`), and
 * the Kubernetes provider 4.x no longer writes `kubectl.kubernetes.io/last-applied-configuration`.
 * What the program asked for is still on the object: the server-side-apply `managedFields` entry
 * of Pulumi's field manager lists exactly the fields Pulumi applied. `replicaIntent` reads it;
 * without managedFields (render mode, client-side apply, tests under mocks) the props are the
 * program's inputs and are read as they are.
 */
import type {
  PolicyResource,
  ReportViolation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { policyMeta, readConfig, type RuleDocs, type RuleMeta } from "./rule";
import {
  Maybe,
  UNKNOWN,
  Unknown,
  bool,
  entries,
  field,
  items,
  num,
  obj,
  str,
  unwrapProxy,
} from "./values";
import { activeWaiver, now } from "./waivers";
import { Workload, extractWorkload, workloadKind } from "./workload";

export interface StackWorkload {
  resource: PolicyResource;
  props: unknown;
  workload: Workload;
  /**
   * Whether the program set `spec.replicas` (see `replicaIntent`): UNKNOWN when that cannot be told
   * (a live object without a server-side-apply record of Pulumi's).
   */
  replicasSet: boolean | Unknown;
  /**
   * The `spec.replicas` the program asked for: a number, undefined when it set none, UNKNOWN when
   * not known. `workload.replicas` is the value on the object.
   */
  declaredReplicas: Maybe<number>;
}

export interface ServicePort {
  name: Maybe<string>;
  port: Maybe<number>;
  /** A container port name, a number, UNKNOWN, or undefined (then the port number itself). */
  targetPort: Maybe<string | number>;
}

export interface ServiceView {
  resource: PolicyResource;
  name: string;
  namespace: Maybe<string>;
  /** `metadata.labels`: what ServiceMonitors select. */
  labels: Record<string, Maybe<string>> | Unknown;
  /** `spec.selector`, as a LabelSelector (`{ matchLabels }`); undefined for a Service without one. */
  selector: Maybe<Record<string, unknown>>;
  type: Maybe<string>;
  ports: ServicePort[] | Unknown;
}

export interface NamespaceView {
  resource: PolicyResource;
  name: Maybe<string>;
  /** Its labels, with `kubernetes.io/metadata.name`, which the API server sets on every namespace. */
  labels: Record<string, Maybe<string>> | Unknown;
}

export interface NetworkPolicyPeer {
  podSelector: Maybe<Record<string, unknown>>;
  namespaceSelector: Maybe<Record<string, unknown>>;
  ipBlock: boolean;
}

export interface NetworkPolicyRule {
  direction: "ingress" | "egress";
  /** `from` (ingress) or `to` (egress); UNKNOWN when not known yet. */
  peers: NetworkPolicyPeer[] | Unknown;
  /** The `port` of each entry of `ports`: a number, a named port, UNKNOWN or undefined. */
  ports: Maybe<string | number>[] | Unknown;
}

export interface MonitorView {
  resource: PolicyResource;
  kind: "ServiceMonitor" | "PodMonitor";
  name: string;
  namespace: Maybe<string>;
  selector: Maybe<Record<string, unknown>>;
  /** `any: true`, the `matchNames` list, or (neither) the monitor's own namespace. */
  namespaces: { any: true } | { names: Maybe<string>[] } | Unknown;
  /** The port name of each endpoint (`endpoints` / `podMetricsEndpoints`), where it names one. */
  ports: Maybe<string>[] | Unknown;
}

export interface IngressBackend {
  serviceName: Maybe<string>;
  portNumber: Maybe<number>;
  portName: Maybe<string>;
}

export interface IngressView {
  resource: PolicyResource;
  name: string;
  namespace: Maybe<string>;
  /** Service backends of `defaultBackend` and every rule path; UNKNOWN when not known yet. */
  backends: IngressBackend[] | Unknown;
}

export interface Hpa {
  resource: PolicyResource;
  name: string;
  namespace: Maybe<string>;
  targetKind: Maybe<string>;
  targetName: Maybe<string>;
  minReplicas: Maybe<number>;
}

export interface Pdb {
  resource: PolicyResource;
  name: string;
  namespace: Maybe<string>;
  selector: Maybe<Record<string, unknown>>;
  minAvailable: Maybe<string>;
  maxUnavailable: Maybe<string>;
}

export interface NetworkPolicyView {
  resource: PolicyResource;
  name: string;
  namespace: Maybe<string>;
  podSelector: Maybe<Record<string, unknown>>;
  rules: NetworkPolicyRule[] | Unknown;
}

export interface StackView {
  workloads: StackWorkload[];
  hpas: Hpa[];
  pdbs: Pdb[];
  networkPolicies: NetworkPolicyView[];
  services: ServiceView[];
  namespaces: NamespaceView[];
  monitors: MonitorView[];
  ingresses: IngressView[];
  propsOf(r: PolicyResource): unknown;
  /** PDBs that may select pods with these labels (a superset; still check `selects`). */
  pdbCandidates(labels: Record<string, Maybe<string>> | Unknown): Pdb[];
  /** NetworkPolicies that may select pods with these labels (a superset). */
  networkPolicyCandidates(labels: Record<string, Maybe<string>> | Unknown): NetworkPolicyView[];
  /** HPAs whose target name is this name or not known. */
  hpaCandidates(name: string): Hpa[];
}

/**
 * Indexes selectors by their first matchLabels pair, so that matching W workloads against S
 * selectors costs O(W x labels) instead of O(W x S). Selectors without a known matchLabels pair
 * (expressions only, empty, unknown) are candidates for every workload.
 */
class SelectorIndex<T> {
  private readonly byPair = new Map<string, T[]>();
  private readonly always: T[] = [];
  private readonly order = new Map<T, number>();

  constructor(items: readonly T[], selectorOf: (t: T) => Maybe<Record<string, unknown>>) {
    items.forEach((item, i) => {
      this.order.set(item, i);
      const sel = selectorOf(item);
      const ml = sel === UNKNOWN || sel === undefined ? UNKNOWN : entries(sel["matchLabels"]);
      const pair = ml === UNKNOWN ? undefined : ml.find(([, v]) => typeof v === "string");
      if (!pair) {
        this.always.push(item);
        return;
      }
      const key = `${pair[0]}\u0000${pair[1] as string}`;
      const list = this.byPair.get(key);
      if (list) list.push(item);
      else this.byPair.set(key, [item]);
    });
  }

  candidates(labels: Record<string, Maybe<string>> | Unknown): T[] {
    if (labels === UNKNOWN) return [...this.order.keys()];
    const out = [...this.always];
    for (const k of Object.keys(labels)) {
      const v = labels[k];
      if (typeof v !== "string") continue;
      const hit = this.byPair.get(`${k}\u0000${v}`);
      if (hit) out.push(...hit);
    }
    if (out.length > 1) out.sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0));
    return out;
  }
}

const HPA_RE = /^kubernetes:autoscaling\/v[0-9a-z]+:HorizontalPodAutoscaler$/;
const PDB_RE = /^kubernetes:policy\/v1(beta1)?:PodDisruptionBudget$/;
const NP_RE = /^kubernetes:networking\.k8s\.io\/v1:NetworkPolicy$/;
const SERVICE_TYPE = "kubernetes:core/v1:Service";
const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";
const INGRESS_RE = /^kubernetes:(networking\.k8s\.io|extensions)\/v1(beta1)?:Ingress$/;
const MONITOR_RE = /^kubernetes:monitoring\.coreos\.com\/v1:(ServiceMonitor|PodMonitor)$/;

/** The label the API server sets on every namespace (Kubernetes 1.21+). */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** The kind of resource the stack view reads, or undefined for any other type. */
function viewKind(
  type: string,
): "workload" | "hpa" | "pdb" | "np" | "service" | "namespace" | "ingress" | "monitor" | undefined {
  if (workloadKind(type) !== undefined) return "workload";
  if (type === SERVICE_TYPE) return "service";
  if (type === NAMESPACE_TYPE) return "namespace";
  if (HPA_RE.test(type)) return "hpa";
  if (PDB_RE.test(type)) return "pdb";
  if (NP_RE.test(type)) return "np";
  if (INGRESS_RE.test(type)) return "ingress";
  if (MONITOR_RE.test(type)) return "monitor";
  return undefined;
}

function labelMap(value: unknown): Record<string, Maybe<string>> | Unknown {
  const e = entries(value);
  if (e === UNKNOWN) return UNKNOWN;
  const out: Record<string, Maybe<string>> = {};
  for (const [k, v] of e) out[k] = v;
  return out;
}

/** A known list mapped item by item; UNKNOWN when the list is. */
function mapItems<T>(value: unknown, f: (o: Maybe<Record<string, unknown>>) => T): T[] | Unknown {
  const list = items(value);
  return list === UNKNOWN ? UNKNOWN : list.map((x) => f(obj(x)));
}

function intOrString(value: unknown): Maybe<string | number> {
  if (typeof value === "number") return value;
  return str(value);
}

function servicePorts(spec: Maybe<Record<string, unknown>>): ServicePort[] | Unknown {
  return mapItems(field(spec, "ports"), (p) => ({
    name: str(field(p, "name")),
    port: num(field(p, "port")),
    targetPort: intOrString(field(p, "targetPort")),
  }));
}

function networkPolicyRules(spec: Maybe<Record<string, unknown>>): NetworkPolicyRule[] | Unknown {
  const out: NetworkPolicyRule[] = [];
  for (const [direction, peersKey] of [
    ["ingress", "from"],
    ["egress", "to"],
  ] as const) {
    const list = items(field(spec, direction));
    if (list === UNKNOWN) return UNKNOWN;
    for (const r of list) {
      const rule = obj(r);
      out.push({
        direction,
        peers: mapItems(field(rule, peersKey), (p) => ({
          podSelector: obj(field(p, "podSelector")),
          namespaceSelector: obj(field(p, "namespaceSelector")),
          ipBlock: field(p, "ipBlock") !== undefined,
        })),
        ports: mapItems(field(rule, "ports"), (p) => intOrString(field(p, "port"))),
      });
    }
  }
  return out;
}

function ingressBackends(spec: Maybe<Record<string, unknown>>): IngressBackend[] | Unknown {
  const raw: unknown[] = [];
  const def = field(spec, "defaultBackend") ?? field(spec, "backend");
  if (def !== undefined) raw.push(def);
  const rules = items(field(spec, "rules"));
  if (rules === UNKNOWN) return UNKNOWN;
  for (const r of rules) {
    const paths = items(field(obj(field(obj(r), "http")), "paths"));
    if (paths === UNKNOWN) return UNKNOWN;
    for (const p of paths) raw.push(field(obj(p), "backend"));
  }
  const out: IngressBackend[] = [];
  for (const b of raw) {
    const backend = obj(b);
    if (backend === UNKNOWN) return UNKNOWN;
    // networking.k8s.io/v1: { service: { name, port: { number | name } } }; v1beta1: serviceName/servicePort.
    const service = obj(field(backend, "service"));
    if (service !== undefined) {
      const port = obj(field(service, "port"));
      out.push({
        serviceName: str(field(service, "name")),
        portNumber: num(field(port, "number")),
        portName: str(field(port, "name")),
      });
    } else if (field(backend, "serviceName") !== undefined) {
      const port = intOrString(field(backend, "servicePort"));
      out.push({
        serviceName: str(field(backend, "serviceName")),
        portNumber: typeof port === "number" ? port : undefined,
        portName: typeof port === "string" || port === UNKNOWN ? port : undefined,
      });
    }
  }
  return out;
}

function monitorNamespaces(
  spec: Maybe<Record<string, unknown>>,
  own: Maybe<string>,
): MonitorView["namespaces"] {
  const sel = obj(field(spec, "namespaceSelector"));
  if (sel === UNKNOWN) return UNKNOWN;
  if (bool(field(sel, "any")) === true) return { any: true };
  const names = items(field(sel, "matchNames"));
  if (names === UNKNOWN) return UNKNOWN;
  return { names: names.length > 0 ? names.map((n): Maybe<string> => str(n)) : [own] };
}

/** Prefix of the field manager names of the Pulumi Kubernetes provider (server-side apply). */
const PULUMI_MANAGER_PREFIX = "pulumi-kubernetes";
/** The annotation that gives a resource's Pulumi field manager another name. */
const PATCH_FIELD_MANAGER = "pulumi.com/patchFieldManager";

/** What the program asked for `spec.replicas`: whether it set it, and to what. */
export interface ReplicaIntent {
  set: boolean | Unknown;
  value: Maybe<number>;
}

/**
 * The `spec.replicas` the program asked for, read from what a stack policy is given.
 *
 * - No `metadata.managedFields` (render mode, client-side tooling, tests under mocks, a preview
 *   without a cluster): the props are the program's inputs; their `spec.replicas` is the answer.
 * - A live object with a server-side-apply entry of Pulumi's field manager (`pulumi-kubernetes-…`,
 *   or the `pulumi.com/patchFieldManager` annotation's name) and operation `Apply`: that entry lists
 *   the fields Pulumi sent. If it owns `f:spec.f:replicas`, the program set replicas (the value on
 *   the object is what it set); otherwise it did not, whatever the API server defaulted or the HPA
 *   wrote (the HPA's writes are owned by `kube-controller-manager` through the `scale` subresource).
 * - A live object without such an entry (client-side apply, whose `Update` entries also own the
 *   defaulted fields): not known, so rules that judge intent stay silent rather than guess.
 */
export function replicaIntent(props: unknown, onObject: Maybe<number>): ReplicaIntent {
  const meta = obj(field(obj(props), "metadata"));
  const managed = items(field(meta, "managedFields"));
  if (managed === UNKNOWN) return { set: UNKNOWN, value: UNKNOWN };
  if (managed.length === 0) return { set: onObject !== undefined, value: onObject };
  const annotations = obj(field(meta, "annotations"));
  const custom = str(field(annotations, PATCH_FIELD_MANAGER));
  const ours = managed.map(obj).filter((e) => {
    const manager = str(field(e, "manager"));
    if (str(field(e, "operation")) !== "Apply" || typeof manager !== "string") return false;
    return typeof custom === "string"
      ? manager === custom
      : manager.startsWith(PULUMI_MANAGER_PREFIX);
  });
  if (ours.length === 0) return { set: UNKNOWN, value: UNKNOWN };
  const ownsReplicas = (e: Maybe<Record<string, unknown>>) =>
    field(obj(field(obj(field(e, "fieldsV1")), "f:spec")), "f:replicas") !== undefined;
  if (ours.some(ownsReplicas)) return { set: true, value: onObject };
  // Nobody owns the field at all: not an HPA's or a hand's count, nor the program's. Seen when the
  // provider hands back the object as it was before an update that only took the field over (a
  // colour going to standby keeps its count, so its generation does not move): not known.
  if (!managed.map(obj).some(ownsReplicas)) return { set: UNKNOWN, value: UNKNOWN };
  return { set: false, value: undefined };
}

function metaOf(props: unknown): [string | undefined, Maybe<string>] {
  const meta = obj(field(obj(props), "metadata"));
  const n = str(field(meta, "name"));
  return [typeof n === "string" ? n : undefined, str(field(meta, "namespace"))];
}

const viewCache = new WeakMap<readonly PolicyResource[], StackView>();

export function stackView(resources: readonly PolicyResource[]): StackView {
  const cached = viewCache.get(resources);
  if (cached) return cached;
  const props = new Map<PolicyResource, unknown>();
  let pdbIndex: SelectorIndex<Pdb> | undefined;
  let npIndex: SelectorIndex<NetworkPolicyView> | undefined;
  let hpaIndex: Map<string, Hpa[]> | undefined;
  const view: StackView = {
    workloads: [],
    hpas: [],
    pdbs: [],
    networkPolicies: [],
    services: [],
    namespaces: [],
    monitors: [],
    ingresses: [],
    propsOf: (r) => props.get(r) ?? unwrapProxy(r.props),
    pdbCandidates: (labels) =>
      (pdbIndex ??= new SelectorIndex(view.pdbs, (p) => p.selector)).candidates(labels),
    networkPolicyCandidates: (labels) =>
      (npIndex ??= new SelectorIndex(view.networkPolicies, (n) => n.podSelector)).candidates(
        labels,
      ),
    hpaCandidates: (name) => {
      if (!hpaIndex) {
        hpaIndex = new Map();
        for (const h of view.hpas) {
          const key = typeof h.targetName === "string" ? h.targetName : "\u0000unknown";
          const list = hpaIndex.get(key);
          if (list) list.push(h);
          else hpaIndex.set(key, [h]);
        }
      }
      const named = hpaIndex.get(name) ?? [];
      const unknown = hpaIndex.get("\u0000unknown") ?? [];
      return unknown.length === 0 ? named : [...named, ...unknown];
    },
  };
  for (const r of resources) {
    const kind = viewKind(r.type);
    if (kind === undefined) continue;
    const p = unwrapProxy(r.props);
    props.set(r, p);
    const [name, namespace] = metaOf(p);
    const spec = obj(field(obj(p), "spec"));
    if (kind === "workload") {
      const w = extractWorkload(r.type, r.name, p);
      if (w) {
        const intent: ReplicaIntent = w.replicated
          ? replicaIntent(p, w.replicas)
          : { set: false, value: undefined };
        view.workloads.push({
          resource: r,
          props: p,
          workload: w,
          replicasSet: intent.set,
          declaredReplicas: intent.value,
        });
      }
    } else if (kind === "service") {
      const selector = obj(field(spec, "selector"));
      view.services.push({
        resource: r,
        name: name ?? r.name,
        namespace,
        labels: labelMap(field(obj(field(obj(p), "metadata")), "labels")),
        selector:
          selector === UNKNOWN || selector === undefined || Object.keys(selector).length === 0
            ? selector === UNKNOWN
              ? UNKNOWN
              : undefined
            : { matchLabels: selector },
        type: str(field(spec, "type")),
        ports: servicePorts(spec),
      });
    } else if (kind === "namespace") {
      const labels = labelMap(field(obj(field(obj(p), "metadata")), "labels"));
      const nsName = str(field(obj(field(obj(p), "metadata")), "name")) ?? r.name;
      view.namespaces.push({
        resource: r,
        name: nsName,
        labels: labels === UNKNOWN ? UNKNOWN : { ...labels, [NAMESPACE_NAME_LABEL]: nsName },
      });
    } else if (kind === "ingress") {
      view.ingresses.push({
        resource: r,
        name: name ?? r.name,
        namespace,
        backends: ingressBackends(spec),
      });
    } else if (kind === "monitor") {
      const monitorKind = r.type.endsWith(":PodMonitor") ? "PodMonitor" : "ServiceMonitor";
      view.monitors.push({
        resource: r,
        kind: monitorKind,
        name: name ?? r.name,
        namespace,
        selector: obj(field(spec, "selector")),
        namespaces: monitorNamespaces(spec, namespace),
        ports: mapItems(
          field(spec, monitorKind === "PodMonitor" ? "podMetricsEndpoints" : "endpoints"),
          (e) => str(field(e, "port")),
        ),
      });
    } else if (kind === "hpa") {
      const ref = obj(field(spec, "scaleTargetRef"));
      view.hpas.push({
        resource: r,
        name: name ?? r.name,
        namespace,
        targetKind: str(field(ref, "kind")),
        targetName: str(field(ref, "name")),
        minReplicas: num(field(spec, "minReplicas")),
      });
    } else if (kind === "pdb") {
      view.pdbs.push({
        resource: r,
        name: name ?? r.name,
        namespace,
        selector: obj(field(spec, "selector")),
        minAvailable: str(field(spec, "minAvailable")),
        maxUnavailable: str(field(spec, "maxUnavailable")),
      });
    } else {
      view.networkPolicies.push({
        resource: r,
        name: name ?? r.name,
        namespace,
        podSelector: obj(field(spec, "podSelector")),
        rules: networkPolicyRules(spec),
      });
    }
  }
  viewCache.set(resources, view);
  return view;
}

/**
 * Namespaces match when equal, or when either is not known. An unset namespace is not known either:
 * it is the provider's default (its `namespace` setting or the kubeconfig context's), which the pack
 * cannot see, while the same object live always carries the namespace it landed in. A preview mixes
 * both shapes (inputs of what changes, outputs of what does not), so unset matches any namespace.
 */
export function sameNamespace(a: Maybe<string>, b: Maybe<string>): boolean {
  if (a === UNKNOWN || b === UNKNOWN || a === undefined || b === undefined) return true;
  return a === b;
}

/**
 * Does a label selector select these labels? Returns true, false, or UNKNOWN when either side is
 * not known yet. An empty selector (`{}`) selects everything, as for NetworkPolicy podSelector.
 */
export function selects(
  selector: Maybe<Record<string, unknown>>,
  labels: Record<string, Maybe<string>> | Unknown,
): boolean | Unknown {
  if (selector === UNKNOWN || labels === UNKNOWN) return UNKNOWN;
  if (selector === undefined) return false;
  const ml = entries(selector["matchLabels"]);
  if (ml === UNKNOWN) return UNKNOWN;
  for (const [k, v] of ml) {
    if (v === UNKNOWN || labels[k] === UNKNOWN) return UNKNOWN;
    if (labels[k] !== v) return false;
  }
  const exprs = items(selector["matchExpressions"]);
  if (exprs === UNKNOWN) return UNKNOWN;
  for (const e of exprs) {
    const o = obj(e);
    const key = str(field(o, "key"));
    const op = str(field(o, "operator"));
    const values = items(field(o, "values"));
    if (key === UNKNOWN || op === UNKNOWN || values === UNKNOWN) return UNKNOWN;
    if (typeof key !== "string") return false;
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const val = labels[key];
    if (val === UNKNOWN) return UNKNOWN;
    const inValues = values.some((v) => v === val);
    if (op === "In" && !(has && inValues)) return false;
    if (op === "NotIn" && has && inValues) return false;
    if (op === "Exists" && !has) return false;
    if (op === "DoesNotExist" && has) return false;
  }
  return true;
}

/**
 * Targets (pods, Services) indexed by label pair, so that finding what one selector selects costs
 * the shortest posting list among its matchLabels pairs instead of a scan of every target. Targets
 * whose labels are not known yet are candidates for every selector.
 */
export class LabelIndex<T> {
  private readonly byPair = new Map<string, T[]>();
  private readonly always: T[] = [];

  constructor(
    private readonly targets: readonly T[],
    private readonly labelsOf: (t: T) => Record<string, Maybe<string>> | Unknown,
    private readonly namespaceOf: (t: T) => Maybe<string>,
  ) {
    for (const t of targets) {
      const labels = labelsOf(t);
      if (labels === UNKNOWN) {
        this.always.push(t);
        continue;
      }
      let unknownValue = false;
      for (const k of Object.keys(labels)) {
        const v = labels[k];
        if (typeof v !== "string") {
          unknownValue = true;
          continue;
        }
        const key = `${k}\u0000${v}`;
        const list = this.byPair.get(key);
        if (list) list.push(t);
        else this.byPair.set(key, [t]);
      }
      if (unknownValue) this.always.push(t);
    }
  }

  /** A superset of the targets the selector may select (each still needs `selects`). */
  private candidates(selector: Maybe<Record<string, unknown>>): readonly T[] {
    if (selector === UNKNOWN || selector === undefined) return this.targets;
    const ml = entries(selector["matchLabels"]);
    if (ml === UNKNOWN) return this.targets;
    let best: readonly T[] | undefined;
    for (const [k, v] of ml) {
      if (typeof v !== "string") continue;
      const list = this.byPair.get(`${k}\u0000${v}`) ?? [];
      if (best === undefined || list.length < best.length) best = list;
    }
    if (best === undefined) return this.targets;
    return this.always.length === 0 ? best : [...best, ...this.always];
  }

  /**
   * The targets in `namespace` that the selector selects or may select (UNKNOWN); none for an
   * undefined selector. `limit` stops at that many (1: "does it select anything?").
   */
  select(
    selector: Maybe<Record<string, unknown>>,
    namespace: Maybe<string>,
    limit = Infinity,
  ): T[] {
    const out: T[] = [];
    if (selector === undefined) return out;
    for (const t of this.candidates(selector)) {
      if (!sameNamespace(namespace, this.namespaceOf(t))) continue;
      if (selects(selector, this.labelsOf(t)) === false) continue;
      out.push(t);
      if (out.length >= limit) break;
    }
    return out;
  }
}

const podIndexCache = new WeakMap<StackView, LabelIndex<StackWorkload>>();

/** The view's pod-running workloads, indexed by their pod labels (built once per view). */
export function podIndex(view: StackView): LabelIndex<StackWorkload> {
  let index = podIndexCache.get(view);
  if (!index) {
    index = new LabelIndex(
      podWorkloads(view),
      (sw) => sw.workload.podLabels,
      (sw) => sw.workload.namespace,
    );
    podIndexCache.set(view, index);
  }
  return index;
}

/** Workloads that run pods (every kind but PodTemplate, which only describes them). */
export function podWorkloads(view: StackView): StackWorkload[] {
  return view.workloads.filter((sw) => sw.workload.kind !== "PodTemplate");
}

/** Names of the container ports a workload's pods declare (init containers too); UNKNOWN if not known. */
export function containerPortNames(w: Workload): ReadonlySet<string> | Unknown {
  if (w.containers === UNKNOWN) return UNKNOWN;
  const out = new Set<string>();
  for (const c of w.containers) {
    if (c.role === "ephemeral container") continue;
    const ports = items(c.spec["ports"]);
    if (ports === UNKNOWN) return UNKNOWN;
    for (const p of ports) {
      const n = str(field(obj(p), "name"));
      if (n === UNKNOWN) return UNKNOWN;
      if (n !== undefined) out.add(n);
    }
  }
  return out;
}

/** True when some of these workloads declares a container port of this name (or may: unknown). */
export function someDeclaresPort(workloads: readonly StackWorkload[], name: string): boolean {
  return workloads.some((sw) => {
    const names = containerPortNames(sw.workload);
    return names === UNKNOWN || names.has(name);
  });
}

/** True when a selector has no requirement at all (`{}`), which selects everything. */
export function isEmptySelector(selector: Maybe<Record<string, unknown>>): boolean {
  if (selector === UNKNOWN || selector === undefined) return false;
  const ml = entries(selector["matchLabels"]);
  const ex = items(selector["matchExpressions"]);
  return ml !== UNKNOWN && ml.length === 0 && ex !== UNKNOWN && ex.length === 0;
}

/** A selector for messages: `app=api, tier In (a, b)`. */
export function describeSelector(selector: Maybe<Record<string, unknown>>): string {
  if (selector === UNKNOWN) return "(not known yet)";
  if (selector === undefined) return "(no selector)";
  const parts: string[] = [];
  const ml = entries(selector["matchLabels"]);
  if (ml !== UNKNOWN)
    for (const [k, v] of ml) parts.push(`${k}=${typeof v === "string" ? v : "?"}`);
  const ex = items(selector["matchExpressions"]);
  if (ex !== UNKNOWN) {
    for (const e of ex) {
      const o = obj(e);
      const values = items(field(o, "values"));
      const list = values === UNKNOWN ? "?" : values.map((v) => String(str(v) ?? "")).join(", ");
      const op = String(str(field(o, "operator")) ?? "?");
      const key = String(str(field(o, "key")) ?? "?");
      parts.push(
        op === "Exists" || op === "DoesNotExist" ? `${key} ${op}` : `${key} ${op} (${list})`,
      );
    }
  }
  return parts.length === 0 ? "{} (everything)" : parts.join(", ");
}

/** "in namespace "x"" or "in its namespace" when unset. */
export function inNamespace(namespace: Maybe<string>): string {
  return typeof namespace === "string" ? `in namespace "${namespace}"` : "in its namespace";
}

/**
 * The HPA that scales a workload: by scaleTargetRef kind/name in the same namespace; if the target
 * name is not known yet (an auto-named Deployment during preview), by the HPA's dependency on the
 * workload resource, which Pulumi knows even when the name is not.
 */
export function hpaFor(view: StackView, sw: StackWorkload): Hpa | undefined {
  for (const h of view.hpaCandidates(sw.workload.name)) {
    if (h.targetKind !== UNKNOWN && h.targetKind !== undefined && h.targetKind !== sw.workload.kind)
      continue;
    if (!sameNamespace(h.namespace, sw.workload.namespace)) continue;
    if (h.targetName === UNKNOWN || h.targetName === undefined) {
      if (h.resource.dependencies.includes(sw.resource)) return h;
      continue;
    }
    if (h.targetName === sw.workload.name) return h;
  }
  return undefined;
}

export interface StackRuleDef<C> extends RuleMeta {
  check(
    view: StackView,
    config: C,
    report: (resource: PolicyResource, message: string) => void,
  ): void;
}

export type PackStackPolicy = StackValidationPolicy & RuleDocs;

/** A stack rule; a resource can waive it for itself with the usual annotation. */
export function stackRule<C extends object>(def: StackRuleDef<C>): PackStackPolicy {
  return {
    ...policyMeta(def),
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      const view = stackView(args.resources);
      const config = readConfig<C>(def.configSchema, () => args.getConfig<object>());
      const t = now();
      def.check(view, config, (resource, message) => {
        if (activeWaiver(resource.type, view.propsOf(resource), def.name, t)) return;
        reportViolation(message, resource.urn);
      });
    },
  };
}

/**
 * The smallest number of replicas a workload runs with: HPA minReplicas, else the `spec.replicas`
 * the program asked for (default 1), else, where that cannot be told on a live object, the value on
 * the object.
 */
export function minimumReplicas(view: StackView, sw: StackWorkload): Maybe<number> {
  const hpa = hpaFor(view, sw);
  if (hpa) return hpa.minReplicas === undefined ? 1 : hpa.minReplicas;
  const replicas = sw.declaredReplicas === UNKNOWN ? sw.workload.replicas : sw.declaredReplicas;
  return replicas === undefined ? 1 : replicas;
}
