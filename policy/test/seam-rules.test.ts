/**
 * The seam rules (issue 11): every selector and by-name reference of a stack matches a target.
 * Each rule has a passing and a failing stack, built from the real resource classes; the monitoring
 * custom resources are built the way programs build them (`apiextensions.CustomResource` registers
 * them as `kubernetes:monitoring.coreos.com/v1:<Kind>`).
 */
import * as k8s from "@pulumi/kubernetes";
import type { Unwrap } from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { TestResource, evaluatePolicies, loadStackConfig } from "../testing";
import { UNKNOWN_SENTINELS } from "../lib/values";
import { LABELS, hardenedPodSpec, messagesOf, resourceOf, workload } from "./helpers";
import { liveOutputs } from "./live";

const NS = "monkeytown";
const UNKNOWN_STRING = [...UNKNOWN_SENTINELS][2];

const web = () => workload("Deployment", hardenedPodSpec(), "web");

function service(
  selector: Record<string, string> | undefined,
  ports: Unwrap<k8s.types.input.core.v1.ServicePort>[] = [
    { name: "http", port: 80, targetPort: "http" },
  ],
  name = "web",
  labels: Record<string, string> = LABELS,
): TestResource {
  return resourceOf(k8s.core.v1.Service, name, {
    metadata: { name, namespace: NS, labels },
    spec: { selector, ports },
  });
}

function customResource(kind: string, name: string, spec: Record<string, unknown>): TestResource {
  return {
    type: `kubernetes:monitoring.coreos.com/v1:${kind}`,
    name,
    props: {
      apiVersion: "monitoring.coreos.com/v1",
      kind,
      metadata: { name, namespace: NS },
      spec,
    },
  };
}

const serviceMonitor = (selector: Record<string, unknown>, port = "http", namespaces = [NS]) =>
  customResource("ServiceMonitor", "web-monitor", {
    selector,
    namespaceSelector: { matchNames: namespaces },
    endpoints: [{ port, path: "/metrics", interval: "30s" }],
  });

const podMonitor = (selector: Record<string, unknown>, port = "http") =>
  customResource("PodMonitor", "web-pods", {
    selector,
    podMetricsEndpoints: [{ port, path: "/metrics" }],
  });

const pdb = (selector: Record<string, unknown> | undefined) =>
  resourceOf(k8s.policy.v1.PodDisruptionBudget, "web-pdb", {
    metadata: { name: "web-pdb", namespace: NS },
    spec: { selector, maxUnavailable: 1 },
  });

const hpa = (kind: string, name: string) =>
  resourceOf(k8s.autoscaling.v2.HorizontalPodAutoscaler, "web-hpa", {
    metadata: { name: "web-hpa", namespace: NS },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind, name }, minReplicas: 2, maxReplicas: 5 },
  });

const namespace = (name: string, labels: Record<string, string> = {}) =>
  resourceOf(k8s.core.v1.Namespace, name, { metadata: { name, labels } });

const netpol = (spec: Record<string, unknown>, name = "web-netpol") =>
  resourceOf(k8s.networking.v1.NetworkPolicy, name, {
    metadata: { name, namespace: NS },
    spec: { podSelector: { matchLabels: LABELS }, policyTypes: ["Ingress"], ...spec },
  });

const byName = (name: string) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
});

function ingress(
  backends: Unwrap<k8s.types.input.networking.v1.IngressServiceBackend>[],
): TestResource {
  return resourceOf(k8s.networking.v1.Ingress, "web", {
    metadata: { name: "web", namespace: NS },
    spec: {
      ingressClassName: "nginx",
      rules: [
        {
          host: "monkeytown.app",
          http: {
            paths: backends.map((backend, i) => ({
              path: `/p${i}`,
              pathType: "Prefix",
              backend: { service: backend },
            })),
          },
        },
      ],
    },
  });
}

describe("service-targets-pods", () => {
  const rule = "service-targets-pods";
  it("fails a Service whose selector no pod template carries", async () => {
    const colour = { ...LABELS, "monkeytown.dev/color": "blue" };
    expect(await messagesOf(rule, [web(), service(colour)])).toEqual([
      expect.stringMatching(
        /^Service "web" selects .*monkeytown.dev\/color=blue but no pod of a workload in namespace "monkeytown" carries those labels.*Fix: /,
      ),
    ]);
  });
  it("fails a named targetPort no selected container declares", async () => {
    const s = service(LABELS, [{ name: "metrics", port: 9090, targetPort: "metrics" }]);
    expect(await messagesOf(rule, [web(), s])).toEqual([
      expect.stringMatching(
        /^Service "web" port 9090 targets the port named "metrics", which no container of Deployment "web" declares/,
      ),
    ]);
  });
  it("fails when the only matching pods are in another namespace", async () => {
    const other = workload("Deployment", hardenedPodSpec(), "web");
    const props = { ...other.props, metadata: { name: "web", namespace: "elsewhere" } };
    expect(await messagesOf(rule, [{ ...other, props }, service(LABELS)])).toHaveLength(1);
  });
  it("passes a selector that is a subset of the pod labels, numeric targetPorts, and Services without a selector", async () => {
    const subset = service({ "app.kubernetes.io/name": "web" }, [{ port: 80, targetPort: 8080 }]);
    const external = service(undefined, [{ port: 5432 }], "db");
    expect(await messagesOf(rule, [web(), subset, external])).toEqual([]);
  });
  it("passes selectors and workloads not known yet during preview", async () => {
    const unknownSelector = { ...service(LABELS), props: { ...service(LABELS).props } };
    (unknownSelector.props.spec as Record<string, unknown>).selector = UNKNOWN_STRING;
    expect(await messagesOf(rule, [web(), unknownSelector])).toEqual([]);
  });
});

describe("service-monitor-targets-service", () => {
  const rule = "service-monitor-targets-service";
  it("fails a ServiceMonitor that selects by the pods' colour label, which no Service carries (production's bug)", async () => {
    const monitor = serviceMonitor({ matchLabels: { ...LABELS, "monkeytown.dev/color": "blue" } });
    expect(await messagesOf(rule, [web(), service(LABELS), monitor])).toEqual([
      expect.stringMatching(
        /^ServiceMonitor "web-monitor" selects Services labelled .*monkeytown.dev\/color=blue in "monkeytown", but no Service carries those labels: Prometheus scrapes nothing/,
      ),
    ]);
  });
  it("fails a port name the selected Service does not declare", async () => {
    const monitor = serviceMonitor({ matchLabels: LABELS }, "metrics");
    expect(await messagesOf(rule, [web(), service(LABELS), monitor])).toEqual([
      expect.stringMatching(
        /^ServiceMonitor "web-monitor" scrapes the port named "metrics", which Service "web" does not declare/,
      ),
    ]);
  });
  it("fails when the Service is outside the watched namespaces", async () => {
    const monitor = serviceMonitor({ matchLabels: LABELS }, "http", ["monitoring"]);
    expect(await messagesOf(rule, [web(), service(LABELS), monitor])).toHaveLength(1);
  });
  it("passes a monitor that selects the Service's labels and names its port; any: true; expressions", async () => {
    const monitors = [
      serviceMonitor({ matchLabels: LABELS }),
      customResource("ServiceMonitor", "any", {
        selector: {
          matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: ["web"] }],
        },
        namespaceSelector: { any: true },
        endpoints: [{ port: "http" }],
      }),
      // No namespaceSelector: the monitor's own namespace.
      customResource("ServiceMonitor", "own", {
        selector: { matchLabels: LABELS },
        endpoints: [{ port: "http" }],
      }),
    ];
    expect(await messagesOf(rule, [web(), service(LABELS), ...monitors])).toEqual([]);
  });
  it("reads live Services (ports defaulted, status, managedFields)", async () => {
    const live = liveOutputs([web(), service(LABELS), serviceMonitor({ matchLabels: LABELS })]);
    expect(await messagesOf(rule, live)).toEqual([]);
  });
});

describe("pod-monitor-targets-pods", () => {
  const rule = "pod-monitor-targets-pods";
  it("fails a PodMonitor that selects no pods, or a port no container declares", async () => {
    expect(
      await messagesOf(rule, [
        web(),
        podMonitor({ matchLabels: { "app.kubernetes.io/name": "api" } }),
      ]),
    ).toEqual([
      expect.stringMatching(
        /^PodMonitor "web-pods" selects pods labelled app.kubernetes.io\/name=api, but no workload's pods carry those labels/,
      ),
    ]);
    expect(await messagesOf(rule, [web(), podMonitor({ matchLabels: LABELS }, "metrics")])).toEqual(
      [
        expect.stringMatching(
          /^PodMonitor "web-pods" scrapes the port named "metrics", which no container/,
        ),
      ],
    );
  });
  it("passes a PodMonitor that selects the pods and names their port", async () => {
    expect(await messagesOf(rule, [web(), podMonitor({ matchLabels: LABELS })])).toEqual([]);
  });
});

describe("pdb-targets-pods", () => {
  const rule = "pdb-targets-pods";
  it("fails a PDB whose selector matches no pods, and one without a selector", async () => {
    expect(
      await messagesOf(rule, [web(), pdb({ matchLabels: { "app.kubernetes.io/name": "api" } })]),
    ).toEqual([
      expect.stringMatching(
        /^PodDisruptionBudget "web-pdb" selects app.kubernetes.io\/name=api but no pod of a workload in namespace "monkeytown" carries those labels, so it protects nothing/,
      ),
    ]);
    expect(await messagesOf(rule, [web(), pdb(undefined)])).toHaveLength(1);
  });
  it("passes a PDB that selects the pods (expressions too)", async () => {
    expect(await messagesOf(rule, [web(), pdb({ matchLabels: LABELS })])).toEqual([]);
    const expr = { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "Exists" }] };
    expect(await messagesOf(rule, [web(), pdb(expr)])).toEqual([]);
  });
});

describe("network-policy-targets-pods", () => {
  const rule = "network-policy-targets-pods";
  const ns = namespace(NS, { team: "monkeytown" });
  it("fails a policy whose podSelector selects no pods", async () => {
    const np = netpol({ podSelector: { matchLabels: { "app.kubernetes.io/name": "api" } } });
    expect(await messagesOf(rule, [web(), ns, np])).toEqual([
      expect.stringMatching(
        /^NetworkPolicy "web-netpol" selects pods labelled app.kubernetes.io\/name=api but no workload in namespace "monkeytown" runs such pods/,
      ),
    ]);
  });
  it("fails peers that select nothing: pods nobody runs, namespaces that do not exist, pods absent from a selected namespace", async () => {
    const np = netpol({
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { "app.kubernetes.io/name": "gateway" } } },
            byName("ingress"),
            {
              namespaceSelector: { matchLabels: { team: "monkeytown" } },
              podSelector: { matchLabels: { app: "none" } },
            },
          ],
        },
      ],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { role: "dns" } } }] }],
    });
    expect(await messagesOf(rule, [web(), ns, np])).toEqual([
      expect.stringMatching(
        /^NetworkPolicy "web-netpol" ingress rule: its peer podSelector app.kubernetes.io\/name=gateway selects no pod in namespace "monkeytown", so the traffic it allows from there never matches/,
      ),
      expect.stringMatching(
        /ingress rule: its peer namespaceSelector kubernetes.io\/metadata.name=ingress matches no namespace the stack creates nor one listed in externalNamespaces \(kube-system, kube-public, kube-node-lease, default\)/,
      ),
      expect.stringMatching(
        /ingress rule: its peer podSelector app=none selects no pod in the namespaces its namespaceSelector matches/,
      ),
      expect.stringMatching(
        /egress rule: its peer namespaceSelector role=dns matches no namespace/,
      ),
    ]);
  });
  it("fails a named ingress port no container of its pods declares", async () => {
    const np = netpol({ ingress: [{ ports: [{ port: "metrics", protocol: "TCP" }] }] });
    expect(await messagesOf(rule, [web(), np])).toEqual([
      expect.stringMatching(
        /^NetworkPolicy "web-netpol" allows ingress on the port named "metrics", which no container of its pods declares/,
      ),
    ]);
  });
  it("passes peers in the stack's namespaces, listed external namespaces, ipBlocks, and an empty (namespace-wide) podSelector", async () => {
    const np = netpol({
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: LABELS } },
            { namespaceSelector: { matchLabels: { team: "monkeytown" } } },
            byName("ingress-nginx"),
            // Pods of an external namespace are that namespace's affair.
            {
              ...byName("ingress-nginx"),
              podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
            },
            { ipBlock: { cidr: "10.0.0.0/8" } },
            { namespaceSelector: {} },
          ],
          ports: [{ port: "http" }, { port: 8080 }],
        },
      ],
      egress: [{ to: [byName("kube-system")], ports: [{ port: 53, protocol: "UDP" }] }],
    });
    const denyAll = netpol({ podSelector: {}, ingress: [] }, "default-deny");
    const config = { [rule]: { externalNamespaces: ["kube-system", "ingress-nginx"] } };
    expect(await messagesOf(rule, [web(), ns, np, denyAll], config)).toEqual([]);
  });
  it("reports an external namespace only where the config does not list it (production lists the prerequisites)", async () => {
    const np = netpol({ ingress: [{ from: [byName("monitoring")] }] });
    expect(await messagesOf(rule, [web(), np])).toHaveLength(1);
    const production = (await evaluatePolicies([web(), np], loadStackConfig("production"))).filter(
      (v) => v.policyName === rule,
    );
    expect(production).toEqual([]);
  });
});

describe("hpa-targets-workload", () => {
  const rule = "hpa-targets-workload";
  it("fails an HPA whose target the stack does not have, or has under another kind", async () => {
    expect(await messagesOf(rule, [web(), hpa("Deployment", "api")])).toEqual([
      expect.stringMatching(
        /^HorizontalPodAutoscaler "web-hpa" scales Deployment "api", which the stack does not have in namespace "monkeytown": it scales nothing/,
      ),
    ]);
    expect(await messagesOf(rule, [web(), hpa("StatefulSet", "web")])).toHaveLength(1);
  });
  it("passes an HPA that names its workload, a target not known yet, and kinds the pack does not know", async () => {
    expect(await messagesOf(rule, [web(), hpa("Deployment", "web")])).toEqual([]);
    expect(await messagesOf(rule, [web(), hpa("Deployment", UNKNOWN_STRING)])).toEqual([]);
    expect(await messagesOf(rule, [web(), hpa("Rollout", "web")])).toEqual([]);
  });
});

describe("ingress-targets-service", () => {
  const rule = "ingress-targets-service";
  it("fails a backend Service the stack does not have, and a port the Service does not expose", async () => {
    const ing = ingress([
      { name: "api", port: { number: 80 } },
      { name: "web", port: { number: 8080 } },
      { name: "web", port: { name: "https" } },
    ]);
    expect(await messagesOf(rule, [web(), service(LABELS), ing])).toEqual([
      expect.stringMatching(
        /^Ingress "web" sends traffic to Service "api", which the stack does not have in namespace "monkeytown": the ingress controller answers those paths with 503/,
      ),
      expect.stringMatching(
        /^Ingress "web" sends traffic to port 8080 of Service "web", which the Service does not expose/,
      ),
      expect.stringMatching(/^Ingress "web" sends traffic to port "https" of Service "web"/),
    ]);
  });
  it("passes backends by port number and by port name, and names not known yet", async () => {
    const ing = ingress([
      { name: "web", port: { number: 80 } },
      { name: "web", port: { name: "http" } },
      { name: UNKNOWN_STRING, port: { number: 80 } },
    ]);
    expect(await messagesOf(rule, [web(), service(LABELS), ing])).toEqual([]);
  });
});

describe("the seam rules' levels", () => {
  it("are advisory by default, mandatory in staging and production", async () => {
    const broken = [web(), pdb({ matchLabels: { "app.kubernetes.io/name": "api" } })];
    const level = async (config = {}) =>
      (await evaluatePolicies(broken, config))
        .filter((v) => v.policyName === "pdb-targets-pods")
        .map((v) => v.enforcementLevel);
    expect(await level()).toEqual(["advisory"]);
    expect(await level(loadStackConfig("dev"))).toEqual(["advisory"]);
    expect(await level(loadStackConfig("staging"))).toEqual(["mandatory"]);
    expect(await level(loadStackConfig("production"))).toEqual(["mandatory"]);
  });
});
