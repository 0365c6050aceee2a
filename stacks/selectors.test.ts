/**
 * The seams between resources, for every stack file under mocks (issue 11): every selector the
 * program writes matches at least one target, and every port it names by name exists on that
 * target. kube-score's service-targets-pod and networkpolicy-targets-pod are the model; this covers
 * every pair the program has:
 *
 * - Service selector → pod templates in its namespace; a named targetPort → a container port name;
 * - ServiceMonitor selector + namespaceSelector → Services; each endpoint's port name → a port of a
 *   matched Service;
 * - PodDisruptionBudget selector → pods in its namespace;
 * - NetworkPolicy podSelector → pods; each ingress `from` / egress `to` peer → pods of the namespace,
 *   a Namespace of the stack, or a namespace the cluster must already have (below); named ports → a
 *   container port of the selected pods;
 * - HorizontalPodAutoscaler scaleTargetRef → a workload of that kind and name in its namespace;
 * - Ingress backends → a Service in its namespace and a port it has (number or name).
 *
 * The matching here is written out on purpose, independent of the policy pack's rules that report
 * the same mismatches for any program (policy/policies/*-targets-*.ts): a bug in one does not hide
 * a bug in the other. Under mocks every value is known, so an unmatched selector is a defect.
 */
import { describe, expect, it } from "vitest";
import { installMocks, type RecordedResource } from "../test/harness";
import { stackTestConfig } from "../test/stack-config";

/**
 * Namespaces the cluster must have before a deploy (docs/cluster-prerequisites.md): kube-system for
 * DNS, and the ingress controller's and Prometheus' (`monkeytown:cluster.ingressNamespace`, default
 * ingress-nginx; `monkeytown:cluster.monitoringNamespace`, default monitoring). Selected by the
 * `kubernetes.io/metadata.name` label, which the API server sets on every namespace.
 */
function prerequisiteNamespaces(config: Record<string, string>): string[] {
  const cluster = JSON.parse(config["monkeytown:cluster"] ?? "{}") as Record<string, string>;
  return [
    "kube-system",
    cluster.ingressNamespace ?? "ingress-nginx",
    cluster.monitoringNamespace ?? "monitoring",
  ];
}

type Labels = Record<string, string>;
/** Recorded inputs are untyped JSON (the harness records them as such). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Pods {
  owner: string;
  kind: string;
  name: string;
  namespace: string;
  labels: Labels;
  portNames: string[];
}
interface Svc {
  name: string;
  namespace: string;
  labels: Labels;
  selector?: Labels;
  ports: { name?: string; port: number; targetPort?: string | number }[];
}

/** Does a LabelSelector select these labels? An empty selector selects everything. */
function matches(selector: Selector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}))
    if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === "In" && !inValues) return false;
    if (e.operator === "NotIn" && inValues) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

const WORKLOAD_TEMPLATE: Record<string, (spec: Json) => Json> = {
  Deployment: (s) => s.template,
  StatefulSet: (s) => s.template,
  DaemonSet: (s) => s.template,
  ReplicaSet: (s) => s.template,
  Job: (s) => s.template,
  CronJob: (s) => s.jobTemplate?.spec?.template,
};

function kindOf(type: string): string {
  return type.slice(type.lastIndexOf(":") + 1);
}

/** The pods each workload runs: its template's labels and container port names. */
function podsOf(resources: readonly RecordedResource[]): Pods[] {
  const out: Pods[] = [];
  for (const r of resources) {
    const kind = kindOf(r.type);
    if (!r.type.startsWith("kubernetes:")) continue;
    const template =
      kind === "Pod" ? r.inputs : (WORKLOAD_TEMPLATE[kind]?.(r.inputs.spec ?? {}) ?? undefined);
    if (!template) continue;
    const containers = [
      ...(template.spec?.containers ?? []),
      ...(template.spec?.initContainers ?? []),
    ];
    out.push({
      owner: `${kind} ${r.inputs.metadata.name}`,
      kind,
      name: r.inputs.metadata.name,
      namespace: r.inputs.metadata.namespace,
      labels: template.metadata?.labels ?? {},
      portNames: containers.flatMap((c: Json) =>
        (c.ports ?? []).map((p: Json) => p.name).filter(Boolean),
      ),
    });
  }
  return out;
}

function servicesOf(resources: readonly RecordedResource[]): Svc[] {
  return resources
    .filter((r) => r.type === "kubernetes:core/v1:Service")
    .map((r) => ({
      name: r.inputs.metadata.name,
      namespace: r.inputs.metadata.namespace,
      labels: r.inputs.metadata.labels ?? {},
      selector: r.inputs.spec?.selector,
      ports: r.inputs.spec?.ports ?? [],
    }));
}

/** Namespaces of the stack with the label the API server adds to each, and the prerequisites. */
function namespacesOf(
  resources: readonly RecordedResource[],
  prerequisites: readonly string[],
): { name: string; labels: Labels }[] {
  const own = resources
    .filter((r) => r.type === "kubernetes:core/v1:Namespace")
    .map((r) => ({
      name: r.inputs.metadata.name as string,
      labels: {
        ...r.inputs.metadata.labels,
        "kubernetes.io/metadata.name": r.inputs.metadata.name,
      },
    }));
  const external = prerequisites.map((name) => ({
    name,
    labels: { "kubernetes.io/metadata.name": name },
  }));
  return [...own, ...external];
}

interface Report {
  problems: string[];
  /** How many selectors / references of each pair were checked, so no pair passes vacuously. */
  checked: Record<string, number>;
}

/** Every selector and by-name reference in the recorded resources, checked against its targets. */
function checkSeams(
  resources: readonly RecordedResource[],
  prerequisites: readonly string[] = prerequisiteNamespaces({}),
): Report {
  const problems: string[] = [];
  const checked: Record<string, number> = {};
  const count = (pair: string) => (checked[pair] = (checked[pair] ?? 0) + 1);
  const pods = podsOf(resources);
  const services = servicesOf(resources);
  const namespaces = namespacesOf(resources, prerequisites);
  const podsIn = (ns: string, sel: Selector) =>
    pods.filter((p) => p.namespace === ns && matches(sel, p.labels));

  for (const s of services) {
    if (!s.selector) continue;
    count("Service → pods");
    const selected = podsIn(s.namespace, { matchLabels: s.selector });
    if (selected.length === 0) {
      problems.push(
        `Service ${s.namespace}/${s.name} selects ${JSON.stringify(s.selector)}: no pod template in its namespace has those labels`,
      );
      continue;
    }
    for (const p of s.ports) {
      if (typeof p.targetPort !== "string") continue;
      count("Service targetPort → container port");
      if (!selected.some((pod) => pod.portNames.includes(p.targetPort as string)))
        problems.push(
          `Service ${s.namespace}/${s.name} port ${p.port} targets "${p.targetPort}", a port name no selected container has`,
        );
    }
  }

  for (const r of resources) {
    const kind = kindOf(r.type);
    const meta = r.inputs.metadata ?? {};
    const ns: string = meta.namespace;
    const spec = r.inputs.spec ?? {};
    const id = `${kind} ${ns}/${meta.name}`;

    if (r.type === "kubernetes:monitoring.coreos.com/v1:ServiceMonitor") {
      count("ServiceMonitor → Services");
      const nsSel = spec.namespaceSelector ?? {};
      const inNamespaces = (svc: Svc) =>
        nsSel.any === true || (nsSel.matchNames ?? [ns]).includes(svc.namespace);
      const selected = services.filter((s) => inNamespaces(s) && matches(spec.selector, s.labels));
      if (selected.length === 0) {
        problems.push(
          `${id} selects Services with ${JSON.stringify(spec.selector)} in ${JSON.stringify(nsSel.matchNames ?? [ns])}: no Service carries those labels`,
        );
        continue;
      }
      for (const e of spec.endpoints ?? []) {
        count("ServiceMonitor endpoint → Service port");
        if (!selected.some((s) => s.ports.some((p) => p.name === e.port)))
          problems.push(
            `${id} scrapes port "${e.port}", which none of ${selected.map((s) => s.name).join(", ")} has`,
          );
      }
    }

    if (r.type === "kubernetes:monitoring.coreos.com/v1:PodMonitor") {
      count("PodMonitor → pods");
      const selected = pods.filter(
        (p) =>
          (spec.namespaceSelector?.matchNames ?? [ns]).includes(p.namespace) &&
          matches(spec.selector, p.labels),
      );
      if (selected.length === 0)
        problems.push(`${id} selects ${JSON.stringify(spec.selector)}: no pod has those labels`);
    }

    if (r.type === "kubernetes:policy/v1:PodDisruptionBudget") {
      count("PodDisruptionBudget → pods");
      if (podsIn(ns, spec.selector).length === 0)
        problems.push(
          `${id} selects ${JSON.stringify(spec.selector)}: no pod template in its namespace has those labels`,
        );
    }

    if (r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy") {
      count("NetworkPolicy → pods");
      const selected = podsIn(ns, spec.podSelector);
      if (selected.length === 0)
        problems.push(
          `${id} podSelector ${JSON.stringify(spec.podSelector)} selects no pod in its namespace`,
        );
      const rules = [
        ...(spec.ingress ?? []).map((x: Json) => ["from", x.from ?? [], x.ports ?? []] as const),
        ...(spec.egress ?? []).map((x: Json) => ["to", x.to ?? [], x.ports ?? []] as const),
      ];
      for (const [dir, peers, ports] of rules) {
        for (const peer of peers as Json[]) {
          if (peer.ipBlock) continue;
          count(`NetworkPolicy ${dir} peer`);
          // A peer without namespaceSelector means the policy's own namespace.
          const peerNamespaces = peer.namespaceSelector
            ? namespaces.filter((n) => matches(peer.namespaceSelector, n.labels))
            : [{ name: ns, labels: {} }];
          if (peerNamespaces.length === 0) {
            problems.push(
              `${id} ${dir} peer namespaceSelector ${JSON.stringify(peer.namespaceSelector)} matches no namespace of the stack nor a prerequisite (${prerequisites.join(", ")})`,
            );
            continue;
          }
          // Pods are checked only where the stack runs them; other namespaces are prerequisites.
          const own = peerNamespaces.filter((n) => !prerequisites.includes(n.name));
          if (peer.podSelector && own.length > 0) {
            const hit = own.some((n) => podsIn(n.name, peer.podSelector).length > 0);
            if (!hit)
              problems.push(
                `${id} ${dir} peer podSelector ${JSON.stringify(peer.podSelector)} selects no pod`,
              );
          }
        }
        for (const p of ports as Json[]) {
          if (typeof p.port !== "string" || dir !== "from") continue;
          count("NetworkPolicy named port → container port");
          if (!selected.some((pod) => pod.portNames.includes(p.port)))
            problems.push(`${id} allows port "${p.port}", a name no selected container has`);
        }
      }
    }

    if (r.type.startsWith("kubernetes:autoscaling/") && kind === "HorizontalPodAutoscaler") {
      count("HorizontalPodAutoscaler → workload");
      const ref = spec.scaleTargetRef;
      if (!pods.some((p) => p.namespace === ns && p.kind === ref.kind && p.name === ref.name))
        problems.push(`${id} scales ${ref.kind} "${ref.name}", which the stack does not have`);
    }

    if (r.type === "kubernetes:networking.k8s.io/v1:Ingress") {
      const backends = [
        ...(spec.defaultBackend ? [spec.defaultBackend] : []),
        ...(spec.rules ?? []).flatMap((rule: Json) =>
          (rule.http?.paths ?? []).map((p: Json) => p.backend),
        ),
      ];
      for (const b of backends) {
        if (!b.service) continue;
        count("Ingress backend → Service port");
        const svc = services.find((s) => s.namespace === ns && s.name === b.service.name);
        if (!svc) {
          problems.push(`${id} sends traffic to Service "${b.service.name}", which does not exist`);
          continue;
        }
        const port = b.service.port ?? {};
        const ok = svc.ports.some((p) =>
          port.name !== undefined ? p.name === port.name : p.port === port.number,
        );
        if (!ok)
          problems.push(
            `${id} sends traffic to Service "${svc.name}" port ${JSON.stringify(port)}, which it does not expose`,
          );
      }
    }
  }
  return { problems, checked };
}

/** The stack files, and production with the rolling strategy (the other shape of the API). */
const VARIANTS: Record<string, () => { stack: string; config: Record<string, string> }> = {
  dev: () => ({ stack: "dev", config: stackTestConfig("dev").config }),
  staging: () => ({ stack: "staging", config: stackTestConfig("staging").config }),
  production: () => ({ stack: "production", config: stackTestConfig("production").config }),
  "production, rolling": () => {
    const { config } = stackTestConfig("production");
    const api = JSON.parse(config["monkeytown:api"]) as Record<string, unknown>;
    delete api.activeColor;
    config["monkeytown:api"] = JSON.stringify({ ...api, strategy: "rolling" });
    // A rolling API at the HPA's 10 pods rolls back one pod at a time (10 × 7 s): a 60 s rollback
    // target cannot hold (config/recovery.ts), so this shape names a longer one.
    config["monkeytown:recovery"] = JSON.stringify({ rollbackSeconds: 120 });
    return { stack: "production", config };
  },
  // The peers follow the prerequisites' config keys.
  "production, other cluster namespaces": () => {
    const { config } = stackTestConfig("production");
    config["monkeytown:cluster"] = JSON.stringify({
      ingressNamespace: "edge-ingress",
      monitoringNamespace: "observability",
    });
    return { stack: "production", config };
  },
};

async function record(
  variant: string,
): Promise<{ resources: RecordedResource[]; prerequisites: string[] }> {
  const { stack, config } = VARIANTS[variant]();
  const h = await installMocks({ stack, config, secretKeys: stackTestConfig(stack).secretKeys });
  const { program } = await import("./program");
  await program();
  await h.settle();
  return {
    resources: h.resources.filter((r) => r.custom),
    prerequisites: prerequisiteNamespaces(config),
  };
}

describe.each(Object.keys(VARIANTS))("every selector of the %s stack", (variant) => {
  it("matches at least one target, and every port it names exists there", async () => {
    const { resources, prerequisites } = await record(variant);
    const { problems, checked } = checkSeams(resources, prerequisites);
    expect(problems).toEqual([]);
    // Every pair this program has was actually checked (alerts are on in every stack).
    for (const pair of [
      "Service → pods",
      "Service targetPort → container port",
      "ServiceMonitor → Services",
      "ServiceMonitor endpoint → Service port",
      "NetworkPolicy → pods",
      "NetworkPolicy from peer",
      "NetworkPolicy to peer",
      "NetworkPolicy named port → container port",
      "Ingress backend → Service port",
    ])
      expect(checked[pair], pair).toBeGreaterThan(0);
    if (variant.startsWith("production")) {
      expect(checked["PodDisruptionBudget → pods"]).toBe(2);
      expect(checked["HorizontalPodAutoscaler → workload"]).toBe(1);
    }
  });
});

describe("the API's ServiceMonitor in production (blue-green)", () => {
  it("selects the live Service only, whichever colour serves, and scrapes its named port", async () => {
    const { resources } = await record("production");
    const services = servicesOf(resources);
    const monitor = resources.find(
      (r) => r.type === "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
    )!;
    const selected = services.filter((s) => matches(monitor.inputs.spec.selector, s.labels));
    // The preview Service sends to the idle colour: scraping it under the same job would hide an
    // outage of the live colour from `sum(up) == 0`.
    expect(selected.map((s) => s.name)).toEqual(["api"]);
    expect(selected[0].ports.map((p) => p.name)).toContain(monitor.inputs.spec.endpoints[0].port);
    expect(monitor.inputs.spec.selector.matchLabels).not.toHaveProperty("monkeytown.dev/color");
  });
});

describe("the seam checker itself", () => {
  const deployment = (labels: Labels): RecordedResource =>
    ({
      type: "kubernetes:apps/v1:Deployment",
      name: "d",
      custom: true,
      inputs: {
        metadata: { name: "d", namespace: "ns" },
        spec: {
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "c", ports: [{ name: "http", containerPort: 80 }] }] },
          },
        },
      },
    }) as unknown as RecordedResource;
  const resource = (type: string, name: string, inputs: object): RecordedResource =>
    ({ type, name, custom: true, inputs }) as unknown as RecordedResource;

  it("reports a ServiceMonitor whose selector carries a label no Service has", () => {
    const { problems } = checkSeams([
      deployment({ app: "api", color: "blue" }),
      resource("kubernetes:core/v1:Service", "s", {
        metadata: { name: "s", namespace: "ns", labels: { app: "api" } },
        spec: { selector: { app: "api", color: "blue" }, ports: [{ name: "http", port: 80 }] },
      }),
      resource("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "m", {
        metadata: { name: "m", namespace: "ns" },
        spec: {
          selector: { matchLabels: { app: "api", color: "blue" } },
          namespaceSelector: { matchNames: ["ns"] },
          endpoints: [{ port: "http" }],
        },
      }),
    ]);
    expect(problems).toEqual([expect.stringMatching(/^ServiceMonitor ns\/m selects Services/)]);
  });

  it("reports a missing port name, an unknown backend, an orphan HPA and a peer nobody runs", () => {
    const { problems } = checkSeams([
      deployment({ app: "web" }),
      resource("kubernetes:core/v1:Service", "s", {
        metadata: { name: "s", namespace: "ns", labels: { app: "web" } },
        spec: { selector: { app: "web" }, ports: [{ name: "web", port: 80, targetPort: "www" }] },
      }),
      resource("kubernetes:networking.k8s.io/v1:Ingress", "i", {
        metadata: { name: "i", namespace: "ns" },
        spec: {
          rules: [
            {
              http: {
                paths: [
                  { backend: { service: { name: "s", port: { number: 8080 } } } },
                  { backend: { service: { name: "gone", port: { number: 80 } } } },
                ],
              },
            },
          ],
        },
      }),
      resource("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "h", {
        metadata: { name: "h", namespace: "ns" },
        spec: { scaleTargetRef: { kind: "Deployment", name: "other" } },
      }),
      resource("kubernetes:networking.k8s.io/v1:NetworkPolicy", "n", {
        metadata: { name: "n", namespace: "ns" },
        spec: {
          podSelector: { matchLabels: { app: "web" } },
          ingress: [
            {
              from: [
                { podSelector: { matchLabels: { app: "nobody" } } },
                { namespaceSelector: { matchLabels: { team: "x" } } },
              ],
              ports: [{ port: "metrics" }],
            },
          ],
        },
      }),
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/^Service ns\/s port 80 targets "www"/),
      expect.stringMatching(/^Ingress ns\/i sends traffic to Service "s" port \{"number":8080\}/),
      expect.stringMatching(/^Ingress ns\/i sends traffic to Service "gone"/),
      expect.stringMatching(/^HorizontalPodAutoscaler ns\/h scales Deployment "other"/),
      expect.stringMatching(/^NetworkPolicy ns\/n from peer podSelector .* selects no pod/),
      expect.stringMatching(/^NetworkPolicy ns\/n from peer namespaceSelector .* matches no/),
      expect.stringMatching(/^NetworkPolicy ns\/n allows port "metrics"/),
    ]);
  });
});
