/**
 * Shared view of a whole stack for stack-level rules: workloads, HPAs, PDBs and NetworkPolicies,
 * label-selector matching, and which HPA scales which workload. Unknown values (preview) never
 * produce a violation: a selector or namespace that is not known yet matches conservatively.
 */
import type {
  PolicyResource,
  ReportViolation,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { readConfig, type RuleMeta } from "./rule";
import { Maybe, UNKNOWN, Unknown, entries, field, items, num, obj, snapshot, str } from "./values";
import { activeWaiver, now } from "./waivers";
import { Workload, extractWorkload, workloadKind } from "./workload";

export interface StackWorkload {
  resource: PolicyResource;
  props: unknown;
  workload: Workload;
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
  namespace: Maybe<string>;
  podSelector: Maybe<Record<string, unknown>>;
}

export interface StackView {
  workloads: StackWorkload[];
  hpas: Hpa[];
  pdbs: Pdb[];
  networkPolicies: NetworkPolicyView[];
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
    propsOf: (r) => props.get(r) ?? snapshot(r.props),
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
    const isWorkload = workloadKind(r.type) !== undefined;
    if (!isWorkload && !HPA_RE.test(r.type) && !PDB_RE.test(r.type) && !NP_RE.test(r.type))
      continue;
    const p = snapshot(r.props);
    props.set(r, p);
    const [name, namespace] = metaOf(p);
    const spec = obj(field(obj(p), "spec"));
    if (isWorkload) {
      const w = extractWorkload(r.type, r.name, p);
      if (w) view.workloads.push({ resource: r, props: p, workload: w });
    } else if (HPA_RE.test(r.type)) {
      const ref = obj(field(spec, "scaleTargetRef"));
      view.hpas.push({
        resource: r,
        name: name ?? r.name,
        namespace,
        targetKind: str(field(ref, "kind")),
        targetName: str(field(ref, "name")),
        minReplicas: num(field(spec, "minReplicas")),
      });
    } else if (PDB_RE.test(r.type)) {
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
        namespace,
        podSelector: obj(field(spec, "podSelector")),
      });
    }
  }
  viewCache.set(resources, view);
  return view;
}

/** Namespaces match when equal, or when either is not known yet. Unset means the provider default. */
export function sameNamespace(a: Maybe<string>, b: Maybe<string>): boolean {
  if (a === UNKNOWN || b === UNKNOWN) return true;
  return (a ?? "") === (b ?? "");
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

export type PackStackPolicy = StackValidationPolicy & { peers?: string };

/** A stack rule; a resource can waive it for itself with the usual annotation. */
export function stackRule<C extends object>(def: StackRuleDef<C>): PackStackPolicy {
  return {
    name: def.name,
    description: def.description,
    enforcementLevel: def.enforcementLevel,
    severity: def.severity,
    configSchema: def.configSchema,
    remediationSteps: def.remediationSteps,
    peers: def.peers,
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

/** The smallest number of replicas a workload runs with: HPA minReplicas, else spec.replicas (default 1). */
export function minimumReplicas(view: StackView, sw: StackWorkload): Maybe<number> {
  const hpa = hpaFor(view, sw);
  if (hpa) return hpa.minReplicas === undefined ? 1 : hpa.minReplicas;
  return sw.workload.replicas === undefined ? 1 : sw.workload.replicas;
}
