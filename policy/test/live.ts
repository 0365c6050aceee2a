/**
 * What a stack policy is given after `pulumi up` on a cluster (issue 11): the Kubernetes provider
 * returns, and the engine hands the pack, the object the API server answered with, not the program's
 * inputs. `liveOutputs` turns input-shaped test resources into that shape, so that stack rules are
 * tested on what they meet in production:
 *
 * - the namespace filled in where the program left it to the provider;
 * - `metadata.uid`, `resourceVersion`, `generation`, `creationTimestamp`, and `managedFields`: with
 *   server-side apply (the provider's default, and production's `enableServerSideApply: true`) one
 *   `Apply` entry of Pulumi's field manager listing exactly the fields the program sent, plus the
 *   controllers' `Update` entries; with client-side apply one `Update` entry of `pulumi-kubernetes`
 *   that also owns every defaulted field (Kubernetes attributes a create's defaults to its manager);
 * - API-server defaults: `spec.replicas: 1`, the Deployment strategy, revision history and progress
 *   deadline, pod-template defaults (restart and DNS policy, termination grace, container
 *   terminationMessage*, imagePullPolicy, port protocol, probe timings), Service `type`, `clusterIP`,
 *   `sessionAffinity`, port `protocol` and `targetPort`, NetworkPolicy `policyTypes`, HPA
 *   `minReplicas`, the namespace's `kubernetes.io/metadata.name` label, a Job's generated selector;
 * - what controllers write: the HPA's replica count on the Deployment it scales (through the `scale`
 *   subresource, owned by `kube-controller-manager`), the Deployment controller's revision
 *   annotation, and `status` on workloads, Services, HPAs, PDBs, Namespaces and Ingresses.
 *
 * `fieldsV1` is simplified where no rule looks (list items keyed by `name` only, other lists atomic).
 */
import { REPLICATED_KINDS, type WorkloadKind } from "../lib/workload";
import type { TestResource } from "../testing";

type Obj = Record<string, unknown>;

export interface LiveOptions {
  /** How Pulumi applied the objects. @default "server-side" */
  readonly apply?: "server-side" | "client-side";
  /** The provider's namespace for objects that name none. @default "default" */
  readonly defaultNamespace?: string;
  /** Replicas the HPA has set, by workload name. @default the HPA's minReplicas */
  readonly hpaReplicas?: Readonly<Record<string, number>>;
  /** Replica counts someone set by hand (`kubectl scale`), by workload name. */
  readonly scaledByHand?: Readonly<Record<string, number>>;
}

/** The server-side-apply field manager Pulumi's provider picks (`pulumi-kubernetes-<random>`). */
export const PULUMI_SSA_MANAGER = "pulumi-kubernetes-50b7f2a1";
const TIME = "2026-11-30T05:00:00Z";
const CLUSTER_SCOPED = new Set(["Namespace"]);

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** The managedFields `fieldsV1` set of every field present in `value`. */
export function fieldsOf(value: unknown): Obj {
  if (!isObj(value)) return {};
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.every((x) => isObj(x) && typeof x.name === "string")) {
      const list: Obj = {};
      for (const item of v as Obj[])
        list[`k:${JSON.stringify({ name: item.name })}`] = { ".": {}, ...fieldsOf(item) };
      out[`f:${k}`] = list;
    } else {
      out[`f:${k}`] = fieldsOf(v);
    }
  }
  return out;
}

function kindOf(type: string): string {
  return type.slice(type.lastIndexOf(":") + 1);
}

function apiVersionOf(type: string): string {
  const gv = type.slice(type.indexOf(":") + 1, type.lastIndexOf(":"));
  return gv.startsWith("core/") ? gv.slice(5) : gv;
}

function defaultProbe(p: unknown): unknown {
  if (!isObj(p)) return p;
  const httpGet = isObj(p.httpGet) ? { scheme: "HTTP", ...p.httpGet } : p.httpGet;
  return {
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
    ...p,
    ...(httpGet ? { httpGet } : {}),
  };
}

function defaultContainer(c: Obj): Obj {
  const image = String(c.image ?? "");
  return {
    terminationMessagePath: "/dev/termination-log",
    terminationMessagePolicy: "File",
    imagePullPolicy: /:latest$|^[^:@]+$/.test(image) ? "Always" : "IfNotPresent",
    ...c,
    ...(Array.isArray(c.ports)
      ? { ports: (c.ports as Obj[]).map((p) => ({ protocol: "TCP", ...p })) }
      : {}),
    ...(c.livenessProbe ? { livenessProbe: defaultProbe(c.livenessProbe) } : {}),
    ...(c.readinessProbe ? { readinessProbe: defaultProbe(c.readinessProbe) } : {}),
  };
}

function defaultPodSpec(spec: Obj): Obj {
  return {
    restartPolicy: "Always",
    dnsPolicy: "ClusterFirst",
    schedulerName: "default-scheduler",
    terminationGracePeriodSeconds: 30,
    securityContext: {},
    ...spec,
    containers: ((spec.containers as Obj[] | undefined) ?? []).map(defaultContainer),
    ...(Array.isArray(spec.initContainers)
      ? { initContainers: (spec.initContainers as Obj[]).map(defaultContainer) }
      : {}),
  };
}

function defaultTemplate(t: unknown): Obj {
  const template = isObj(t) ? t : {};
  const metadata = isObj(template.metadata) ? template.metadata : {};
  return {
    ...template,
    metadata: { creationTimestamp: null, ...metadata },
    spec: defaultPodSpec(isObj(template.spec) ? template.spec : {}),
  };
}

/** Each resource with `outputs` set to its live shape (see the file comment). */
export function liveOutputs(
  resources: readonly TestResource[],
  opts: LiveOptions = {},
): TestResource[] {
  const apply = opts.apply ?? "server-side";
  const hpas = resources.filter((r) => kindOf(r.type) === "HorizontalPodAutoscaler");
  return resources.map((r, index) => {
    if (!r.type.startsWith("kubernetes:")) return r;
    const kind = kindOf(r.type);
    const inputs = structuredClone(r.props) as Obj;
    const live = structuredClone(r.props) as Obj;
    const metadata = (isObj(live.metadata) ? live.metadata : {}) as Obj;
    live.metadata = metadata;
    live.apiVersion ??= apiVersionOf(r.type);
    live.kind ??= kind;
    metadata.name ??= r.name;
    if (!CLUSTER_SCOPED.has(kind)) metadata.namespace ??= opts.defaultNamespace ?? "default";
    metadata.uid = `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`;
    metadata.resourceVersion = String(1000 + index);
    metadata.generation = 1;
    metadata.creationTimestamp = TIME;
    const controllers: Obj[] = [];
    const spec = (isObj(live.spec) ? live.spec : undefined) as Obj | undefined;

    if (REPLICATED_KINDS.has(kind as WorkloadKind) && spec) {
      // Right after `pulumi up`: a replica count the program sent is on the object (Pulumi's apply
      // just set it); one it left out was defaulted to 1, then written by the HPA or by hand.
      const sent = spec.replicas !== undefined;
      spec.replicas ??= 1;
      const hpa = hpas.find((h) => {
        const ref = (h.props.spec as Obj | undefined)?.scaleTargetRef as Obj | undefined;
        return ref?.name === metadata.name && ref?.kind === kind;
      });
      if (hpa && !sent) {
        const min = Number((hpa.props.spec as Obj).minReplicas ?? 1);
        spec.replicas = opts.hpaReplicas?.[String(metadata.name)] ?? Math.max(min, 1);
        controllers.push({
          manager: "kube-controller-manager",
          operation: "Update",
          subresource: "scale",
          fieldsV1: { "f:spec": { "f:replicas": {} } },
        });
      }
      const byHand = opts.scaledByHand?.[String(metadata.name)];
      if (byHand !== undefined && !sent) {
        spec.replicas = byHand;
        controllers.push({
          manager: "kubectl",
          operation: "Update",
          subresource: "scale",
          fieldsV1: { "f:spec": { "f:replicas": {} } },
        });
      }
      if (kind === "Deployment") {
        spec.strategy ??= {
          type: "RollingUpdate",
          rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
        };
        spec.revisionHistoryLimit ??= 10;
        spec.progressDeadlineSeconds ??= 600;
        metadata.annotations = {
          ...(metadata.annotations as Obj | undefined),
          "deployment.kubernetes.io/revision": "1",
        };
        controllers.push({
          manager: "kube-controller-manager",
          operation: "Update",
          fieldsV1: {
            "f:metadata": { "f:annotations": { "f:deployment.kubernetes.io/revision": {} } },
          },
        });
      }
      if (kind === "StatefulSet") {
        spec.podManagementPolicy ??= "OrderedReady";
        spec.updateStrategy ??= { type: "RollingUpdate", rollingUpdate: { partition: 0 } };
      }
      spec.template = defaultTemplate(spec.template);
      const n = spec.replicas;
      live.status = {
        observedGeneration: 1,
        replicas: n,
        readyReplicas: n,
        availableReplicas: n,
        updatedReplicas: n,
        conditions: [{ type: "Available", status: "True", lastTransitionTime: TIME }],
      };
    } else if ((kind === "DaemonSet" || kind === "Job") && spec) {
      spec.template = defaultTemplate(spec.template);
      if (kind === "Job") {
        const uid = String(metadata.uid);
        const t = spec.template as Obj;
        const tm = t.metadata as Obj;
        const generated = {
          "batch.kubernetes.io/controller-uid": uid,
          "batch.kubernetes.io/job-name": String(metadata.name),
          "controller-uid": uid,
          "job-name": String(metadata.name),
        };
        tm.labels = { ...(tm.labels as Obj | undefined), ...generated };
        spec.selector ??= { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
        spec.backoffLimit ??= 6;
        spec.completions ??= 1;
        spec.parallelism ??= 1;
      }
      live.status = { active: 1 };
    } else if (kind === "CronJob" && spec) {
      const jt = (spec.jobTemplate ?? {}) as Obj;
      const js = (jt.spec ?? {}) as Obj;
      spec.jobTemplate = { ...jt, spec: { ...js, template: defaultTemplate(js.template) } };
      spec.concurrencyPolicy ??= "Allow";
      spec.suspend ??= false;
      live.status = {};
    } else if (kind === "Pod" && spec) {
      live.spec = defaultPodSpec(spec);
      live.status = { phase: "Running", podIP: "10.244.0.9" };
    } else if (kind === "Service" && spec) {
      spec.type ??= "ClusterIP";
      spec.clusterIP = "10.96.0.42";
      spec.clusterIPs = ["10.96.0.42"];
      spec.ipFamilies = ["IPv4"];
      spec.ipFamilyPolicy = "SingleStack";
      spec.internalTrafficPolicy ??= "Cluster";
      spec.sessionAffinity ??= "None";
      spec.ports = ((spec.ports as Obj[] | undefined) ?? []).map((p) => ({
        protocol: "TCP",
        targetPort: p.port,
        ...p,
      }));
      live.status = { loadBalancer: {} };
    } else if (kind === "HorizontalPodAutoscaler" && spec) {
      spec.minReplicas ??= 1;
      const n = Number(spec.minReplicas);
      live.status = {
        currentReplicas: n,
        desiredReplicas: n,
        currentMetrics: [],
        conditions: [{ type: "AbleToScale", status: "True", lastTransitionTime: TIME }],
      };
      controllers.push({
        manager: "kube-controller-manager",
        operation: "Update",
        subresource: "status",
        fieldsV1: { "f:status": fieldsOf(live.status) },
      });
    } else if (kind === "PodDisruptionBudget") {
      live.status = {
        observedGeneration: 1,
        currentHealthy: 2,
        desiredHealthy: 1,
        disruptionsAllowed: 1,
        expectedPods: 2,
        conditions: [{ type: "DisruptionAllowed", status: "True", lastTransitionTime: TIME }],
      };
    } else if (kind === "NetworkPolicy" && spec) {
      spec.policyTypes ??= ["Ingress", ...(spec.egress !== undefined ? ["Egress"] : [])];
    } else if (kind === "Namespace") {
      metadata.labels = {
        ...(metadata.labels as Obj | undefined),
        "kubernetes.io/metadata.name": String(metadata.name),
      };
      live.spec = { finalizers: ["kubernetes"] };
      live.status = { phase: "Active" };
    } else if (kind === "Ingress") {
      live.status = { loadBalancer: { ingress: [{ ip: "203.0.113.7" }] } };
    } else if (kind === "Secret") {
      live.type ??= "Opaque";
      if (isObj(live.stringData)) {
        live.data = Object.fromEntries(
          Object.entries(live.stringData).map(([k, v]) => [
            k,
            Buffer.from(String(v)).toString("base64"),
          ]),
        );
        delete live.stringData;
      }
    }

    // Pulumi's own entry: under server-side apply exactly what it sent; under client-side apply
    // (an Update, also at creation) every field of the created object, defaults included.
    const { metadata: inputMeta, ...inputRest } = inputs;
    const { name: _n, namespace: _ns, ...sentMeta } = (inputMeta ?? {}) as Obj;
    void _n;
    void _ns;
    const pulumiEntry: Obj =
      apply === "server-side"
        ? {
            manager: PULUMI_SSA_MANAGER,
            operation: "Apply",
            fieldsV1: fieldsOf({ metadata: sentMeta, ...inputRest }),
          }
        : {
            manager: "pulumi-kubernetes",
            operation: "Update",
            fieldsV1: fieldsOf({
              metadata: { labels: metadata.labels, annotations: metadata.annotations },
              spec: live.spec,
              data: live.data,
            }),
          };
    // An Update that changes a field takes it from every other manager's set.
    const ownsReplicas = (e: Obj) =>
      isObj(e.fieldsV1) &&
      isObj(e.fieldsV1["f:spec"]) &&
      (e.fieldsV1["f:spec"] as Obj)["f:replicas"] !== undefined;
    if (controllers.some(ownsReplicas) && isObj(pulumiEntry.fieldsV1)) {
      const fs = pulumiEntry.fieldsV1["f:spec"];
      if (isObj(fs)) delete fs["f:replicas"];
    }
    metadata.managedFields = [pulumiEntry, ...controllers].map((e) => ({
      apiVersion: live.apiVersion,
      fieldsType: "FieldsV1",
      time: TIME,
      ...e,
    }));
    return { ...r, outputs: live };
  });
}
