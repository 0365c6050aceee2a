/**
 * The policy pack's in-process cost per resource: every resource policy on every resource, with
 * props wrapped in `unknownCheckingProxy` per call as the engine does, plus every stack policy
 * once, over a mix of resources (workloads of every kind, hardened and insecure, services, config
 * maps, secrets, PDBs, HPAs, network policies, Docker containers, GitHub variables, and types no
 * rule looks at). Used by bench/policy-bench.ts and bench/preview-bench.ts, so that a start-up
 * gain is never paid for per resource.
 */
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { policies } from "../policy/policies";
import { TestResource, resolveConfig, urnOf, validationArgs } from "../policy/testing";

/** Target: the pack's work per resource, in ms. */
export const PER_RESOURCE_TARGET_MS = 0.2;

const labels = (app: string) => ({
  "app.kubernetes.io/name": app,
  "app.kubernetes.io/part-of": "monkeytown",
});

function container(i: number, insecure: boolean): Record<string, unknown> {
  return {
    name: `c${i}`,
    image: insecure ? "nginx:latest" : `ghcr.io/monkeytown/web:1.${i % 10}.0`,
    securityContext: insecure
      ? { privileged: true }
      : {
          runAsNonRoot: true,
          runAsUser: 1001,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        },
    resources: insecure
      ? undefined
      : { requests: { cpu: "200m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    env: [
      { name: "LOG_LEVEL", value: "info" },
      { name: "PORT", value: "8080" },
      insecure
        ? { name: "DB_PASSWORD", value: "hunter2hunter2" }
        : { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
    ],
    readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
    livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
    ports: [{ containerPort: 8080 }],
  };
}

function podSpec(i: number, insecure: boolean) {
  return {
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1001,
      seccompProfile: { type: "RuntimeDefault" },
    },
    initContainers: [container(i + 1, insecure)],
    containers: [container(i, insecure), container(i + 2, false)],
  };
}

export function makeResource(i: number): TestResource {
  const app = `app${i % 50}`;
  const metadata = {
    name: `r${i}`,
    namespace: "monkeytown",
    labels: labels(app),
    annotations: { "monkeytown.dev/owner": "platform" },
  };
  const template = { metadata: { labels: labels(app) }, spec: podSpec(i, i % 7 === 0) };
  const selector = { matchLabels: labels(app) };
  const kinds: [string, Record<string, unknown>][] = [
    ["kubernetes:apps/v1:Deployment", { metadata, spec: { replicas: 2, selector, template } }],
    [
      "kubernetes:apps/v1:StatefulSet",
      { metadata, spec: { replicas: 2, selector, serviceName: app, template } },
    ],
    ["kubernetes:apps/v1:DaemonSet", { metadata, spec: { selector, template } }],
    [
      "kubernetes:batch/v1:CronJob",
      { metadata, spec: { schedule: "* * * * *", jobTemplate: { spec: { template } } } },
    ],
    ["kubernetes:core/v1:Pod", { metadata, spec: podSpec(i, i % 7 === 0) }],
    [
      "kubernetes:core/v1:Service",
      {
        metadata,
        spec: {
          type: i % 11 === 0 ? "LoadBalancer" : "ClusterIP",
          selector: labels(app),
          ports: [{ port: 80 }],
        },
      },
    ],
    [
      "kubernetes:core/v1:ConfigMap",
      {
        metadata,
        data: {
          "nginx.conf": "server { listen 8080; root /usr/share/nginx/html; }",
          LOG_LEVEL: "info",
        },
      },
    ],
    ["kubernetes:core/v1:Secret", { metadata, stringData: { password: "x" } }],
    [
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      { metadata, spec: { podSelector: selector } },
    ],
    [
      "kubernetes:policy/v1:PodDisruptionBudget",
      { metadata, spec: { selector, maxUnavailable: 1 } },
    ],
    [
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
      {
        metadata,
        spec: {
          scaleTargetRef: { kind: "Deployment", name: `r${i - 10}` },
          minReplicas: 2,
          maxReplicas: 4,
        },
      },
    ],
    [
      "docker:index/container:Container",
      {
        name: `c${i}`,
        image: "ghcr.io/monkeytown/api:1.0.0",
        user: "1001",
        envs: ["A=b", "NODE_ENV=production"],
        memory: 256,
        cpus: "1",
      },
    ],
    [
      "github:index/actionsVariable:ActionsVariable",
      { repository: "monkeytown", variableName: `VAR_${i}`, value: "eu-west-1" },
    ],
    [
      "cloudflare:index/dnsRecord:DnsRecord",
      { zoneId: "z", name: `r${i}`, type: "CNAME", content: "example.com" },
    ],
    ["pulumi:pulumi:Stack", {}],
  ];
  const [type, props] = kinds[i % kinds.length];
  return { type, name: `r${i}`, urn: urnOf(type, `r${i}`), props };
}

/** Runs the pack once over `resources`; returns the number of violations. */
export async function packOnce(resources: TestResource[]): Promise<number> {
  const resolved = resolveConfig({});
  const resourcePolicies = policies.filter(
    (p): p is ResourceValidationPolicy =>
      "validateResource" in p &&
      p.validateResource !== undefined &&
      resolved.get(p.name)?.enforcementLevel !== "disabled",
  );
  const stackPolicies = policies.filter((p): p is StackValidationPolicy => "validateStack" in p);
  let violations = 0;
  const report = () => {
    violations++;
  };
  const configs = new Map(resourcePolicies.map((p) => [p, () => resolved.get(p.name)!.properties]));
  for (const r of resources) {
    for (const p of resourcePolicies) {
      const args = validationArgs(r, configs.get(p), false);
      const fns = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource!];
      for (const fn of fns) {
        // The engine's fast path: a validation bound to one type is not called for others.
        const only = (fn as { __pulumiType?: string }).__pulumiType;
        if (only !== undefined && only !== r.type) continue;
        await fn(args, report);
      }
    }
  }
  const stackResources = resources.map((r) => ({
    ...validationArgs(r, undefined, false),
    dependencies: [],
    propertyDependencies: {},
  }));
  for (const p of stackPolicies) {
    const props = resolved.get(p.name)!.properties;
    await p.validateStack(
      {
        resources: stackResources,
        stackTags: new Map(),
        getConfig: <T extends object>() => props as T,
        notApplicable: () => {
          throw new Error("n/a");
        },
      },
      report,
    );
  }
  return violations;
}

export interface PolicyCost {
  policies: number;
  resources: number;
  types: number;
  violations: number;
  rounds: number;
  /** Median of the rounds, whole run. */
  medianMs: number;
  perResourceMs: number;
}

/** Median time of `rounds` runs of the pack over `n` mixed resources, after a warm-up. */
export async function measurePolicyCost(n = 10_000, rounds = 5): Promise<PolicyCost> {
  const resources = Array.from({ length: n }, (_, i) => makeResource(i));
  await packOnce(resources.slice(0, 500)); // warm-up
  const times: number[] = [];
  let violations = 0;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    violations = await packOnce(resources);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)];
  return {
    policies: policies.length,
    resources: n,
    types: new Set(resources.map((r) => r.type)).size,
    violations,
    rounds,
    medianMs,
    perResourceMs: medianMs / n,
  };
}
