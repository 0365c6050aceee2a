/**
 * What a stack expects from its cluster (`monkeytown:cluster`): the namespaces its NetworkPolicies
 * admit, the labels the Prometheus Operator selects on and the ClusterIssuers, with today's values as
 * defaults; and the preflight that checks the cluster has them (CRDs, ClusterIssuer, namespaces,
 * IngressClass) before anything is registered. No cluster here: the preflight's lookup is a fixed
 * map of answers, and kubectl is a fake script.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { parseStackConfig, type StackConfig } from "../config";
import { scratchDir } from "../test/delivery";
import { installMocks, type Harness } from "../test/harness";
import { stackTestConfig } from "../test/stack-config";
import {
  clusterRequirements,
  evaluatePreflight,
  kubectlLookup,
  runPreflight,
  staticLookup,
  type ApiAnswer,
  type ClusterLookup,
} from "./preflight";

/** A stack's test config with some `monkeytown:<key>` objects merged in. */
function configWith(
  stack: string,
  changes: Record<string, Record<string, unknown>> = {},
): { config: Record<string, string>; secretKeys: string[] } {
  const { config, secretKeys } = stackTestConfig(stack);
  for (const [key, value] of Object.entries(changes)) {
    const current = config[`monkeytown:${key}`];
    const base = current ? (JSON.parse(current) as Record<string, unknown>) : {};
    config[`monkeytown:${key}`] = JSON.stringify({ ...base, ...value });
  }
  return { config, secretKeys };
}

/** The parsed config of a stack (plain keys only), with changes. */
function parsed(stack: string, changes: Record<string, Record<string, unknown>> = {}): StackConfig {
  const { config } = configWith(stack, changes);
  const plain: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (!/Secret|Token|Url$|Password/.test(k)) plain[k.slice("monkeytown:".length)] = v;
  }
  const result = parseStackConfig({ plain, secretKeys: [] }, stack);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

async function runProgram(
  stack: string,
  changes: Record<string, Record<string, unknown>> = {},
  clusterLookup?: ClusterLookup,
): Promise<{ h: Harness; error?: Error }> {
  const { config, secretKeys } = configWith(stack, changes);
  const h = await installMocks({ stack, config, secretKeys, clusterLookup });
  const { program } = await import("./program");
  const error = await program().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  await h.settle();
  return { h, error };
}

const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const admitted = (h: Harness, name: string): string[] =>
  h
    .one(NETPOL, name)
    .inputs.spec.ingress[0].from.map(
      (f: { namespaceSelector: { matchLabels: Record<string, string> } }) =>
        f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
    );
const MONITORING_KINDS = [
  ["kubernetes:monitoring.coreos.com/v1:PrometheusRule", "alerts-rules"],
  ["kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "alerts-api-monitor"],
  ["kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig", "alerts-routing"],
] as const;

describe("monkeytown:cluster keys", () => {
  it("default to today's cluster: ingress-nginx, monitoring, no operator labels, letsencrypt-<tls>", async () => {
    const { h, error } = await runProgram("production");
    expect(error).toBeUndefined();
    expect(admitted(h, "web-netpol")).toEqual(["ingress-nginx"]);
    expect(admitted(h, "api-netpol")).toEqual(["ingress-nginx", "monitoring"]);
    for (const [type, name] of MONITORING_KINDS) {
      expect(Object.keys(h.one(type, name).inputs.metadata.labels).sort(), name).toEqual([
        "app.kubernetes.io/component",
        "app.kubernetes.io/name",
        "app.kubernetes.io/part-of",
      ]);
    }
    expect(
      h.one("kubernetes:networking.k8s.io/v1:Ingress", "web-ingress").inputs.metadata.annotations[
        "cert-manager.io/cluster-issuer"
      ],
    ).toBe("letsencrypt-production");
  });

  it("reach the NetworkPolicies, the monitoring resources and the Ingress when set", async () => {
    const { h, error } = await runProgram("production", {
      cluster: {
        ingressNamespace: "traefik",
        monitoringNamespace: "observability",
        monitoringLabels: { release: "kube-prometheus-stack" },
        clusterIssuers: { production: "acme-prod" },
      },
    });
    expect(error).toBeUndefined();
    expect(admitted(h, "web-netpol")).toEqual(["traefik"]);
    expect(admitted(h, "api-netpol")).toEqual(["traefik", "observability"]);
    for (const [type, name] of MONITORING_KINDS) {
      expect(h.one(type, name).inputs.metadata.labels.release, name).toBe("kube-prometheus-stack");
    }
    expect(
      h.one("kubernetes:networking.k8s.io/v1:Ingress", "web-ingress").inputs.metadata.annotations[
        "cert-manager.io/cluster-issuer"
      ],
    ).toBe("acme-prod");
  });

  it("tls staging takes its issuer from clusterIssuers.staging", async () => {
    // Let's Encrypt's staging CA only without the edge: behind Cloudflare's strict SSL it is refused.
    const { h } = await runProgram("staging", {
      cluster: { clusterIssuers: { staging: "le-staging" } },
      environment: { tls: "staging" },
      edge: { enabled: false },
    });
    expect(
      h.one("kubernetes:networking.k8s.io/v1:Ingress", "web-ingress").inputs.metadata.annotations[
        "cert-manager.io/cluster-issuer"
      ],
    ).toBe("le-staging");
  });

  it("refuses a bad namespace, label and issuer name, naming each key", () => {
    const { config } = configWith("dev", {
      cluster: {
        ingressNamespace: "Ingress_NGINX",
        monitoringLabels: { "bad label!": "x" },
        clusterIssuers: { production: "Not Valid" },
        preflight: "yes",
      },
    });
    const plain = Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k.slice("monkeytown:".length), v]),
    );
    const result = parseStackConfig({ plain, secretKeys: [] }, "dev");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.key).sort()).toEqual([
      "monkeytown:cluster.clusterIssuers.production",
      "monkeytown:cluster.ingressNamespace",
      "monkeytown:cluster.monitoringLabels.bad label!",
      "monkeytown:cluster.preflight",
    ]);
  });
});

/** Every path production's preflight asks, answered as a cluster with everything installed. */
function completeAnswers(): Record<string, ApiAnswer> {
  const discovery = (...plurals: string[]): ApiAnswer => ({
    status: "found",
    body: { kind: "APIResourceList", resources: plurals.map((name) => ({ name })) },
  });
  const object: ApiAnswer = { status: "found", body: { metadata: {} } };
  return {
    "/apis/monitoring.coreos.com/v1": discovery(
      "prometheusrules",
      "servicemonitors",
      "podmonitors",
    ),
    "/apis/monitoring.coreos.com/v1alpha1": discovery("alertmanagerconfigs"),
    "/apis/cert-manager.io/v1": discovery("certificates", "clusterissuers", "issuers"),
    "/apis/cert-manager.io/v1/clusterissuers/letsencrypt-production": {
      status: "found",
      body: { status: { conditions: [{ type: "Ready", status: "True" }] } },
    },
    "/api/v1/namespaces/ingress-nginx": object,
    "/api/v1/namespaces/monitoring": object,
    "/apis/networking.k8s.io/v1/ingressclasses/nginx": object,
  };
}

describe("what the preflight asks", () => {
  it("production: the monitoring and cert-manager CRDs, its ClusterIssuer, both namespaces, the IngressClass", () => {
    const reqs = clusterRequirements(parsed("production"), "production");
    expect(
      reqs.map((r) => `${r.path}${r.check.kind === "resource" ? ` ${r.check.plural}` : ""}`),
    ).toEqual([
      "/apis/monitoring.coreos.com/v1 prometheusrules",
      "/apis/monitoring.coreos.com/v1 servicemonitors",
      "/apis/monitoring.coreos.com/v1alpha1 alertmanagerconfigs",
      "/api/v1/namespaces/monitoring",
      "/api/v1/namespaces/ingress-nginx",
      "/apis/networking.k8s.io/v1/ingressclasses/nginx",
      "/apis/cert-manager.io/v1 clusterissuers",
      "/apis/cert-manager.io/v1 certificates",
      "/apis/cert-manager.io/v1/clusterissuers/letsencrypt-production",
    ]);
  });

  it("no monitoring CRDs with alerts off, no cert-manager without TLS, the configured names otherwise", () => {
    const reqs = clusterRequirements(
      parsed("staging", {
        alerts: { enabled: false },
        cluster: { ingressNamespace: "traefik", clusterIssuers: { production: "acme" } },
      }),
      "staging",
    );
    const paths = reqs.map((r) => r.path);
    expect(paths.filter((p) => p.includes("monitoring"))).toEqual([]);
    expect(paths).toContain("/api/v1/namespaces/traefik");
    expect(paths).toContain("/apis/cert-manager.io/v1/clusterissuers/acme");
    const noTls = clusterRequirements(
      parsed("staging", { environment: { tls: "none" }, edge: { enabled: false } }),
      "staging",
    ).map((r) => r.path);
    expect(noTls.filter((p) => p.includes("cert-manager"))).toEqual([]);
  });
});

describe("judging the answers", () => {
  const reqs = clusterRequirements(parsed("production"), "production");
  const up = { dryRun: false, stack: "production" };

  it("a complete cluster passes with nothing to say", async () => {
    expect(await runPreflight(reqs, staticLookup(completeAnswers()), up)).toEqual({
      problems: [],
      warnings: [],
    });
  });

  it("an empty cluster: every missing prerequisite, each with its key and install command", async () => {
    const report = await runPreflight(reqs, staticLookup({}), up);
    expect(report.problems.map((p) => p.key)).toEqual([
      "monkeytown:alerts.enabled",
      "monkeytown:alerts.enabled",
      "monkeytown:alerts.enabled",
      "monkeytown:cluster.monitoringNamespace",
      "monkeytown:cluster.ingressNamespace",
      "monkeytown:web.ingressClassName",
      "monkeytown:environment.tls",
      "monkeytown:environment.tls",
      "monkeytown:cluster.clusterIssuers.production",
    ]);
    const text = report.problems.map((p) => `${p.message}. Fix: ${p.fix}`).join("\n");
    expect(text).toContain(
      "the PrometheusRule CRD (monitoring.coreos.com/v1) is missing: alerts are on and create PrometheusRule objects",
    );
    expect(text).toContain(
      "kubectl apply --server-side -f https://github.com/prometheus-operator/prometheus-operator/releases/download/v0.95.2/stripped-down-crds.yaml",
    );
    expect(text).toContain(
      "kubectl apply -f https://github.com/cert-manager/cert-manager/releases/download/v1.21.2/cert-manager.yaml",
    );
    expect(text).toContain('the ClusterIssuer "letsencrypt-production"');
    expect(text).toContain(
      "pulumi config set --path monkeytown:alerts.enabled false -s production",
    );
  });

  it("a served group without the kind is still missing (CRDs of an older operator)", async () => {
    const answers = completeAnswers();
    answers["/apis/monitoring.coreos.com/v1alpha1"] = {
      status: "found",
      body: { resources: [{ name: "scrapeconfigs" }] },
    };
    const report = await runPreflight(reqs, staticLookup(answers), up);
    expect(report.problems.map((p) => p.message)).toEqual([
      "the AlertmanagerConfig CRD (monitoring.coreos.com/v1alpha1) is missing: alerts are on and create AlertmanagerConfig objects",
    ]);
  });

  it("a forbidden read and an issuer that is not Ready are warnings, not problems", async () => {
    const answers = completeAnswers();
    answers["/api/v1/namespaces/monitoring"] = {
      status: "forbidden",
      message: 'namespaces "monitoring" is forbidden',
    };
    answers["/apis/cert-manager.io/v1/clusterissuers/letsencrypt-production"] = {
      status: "found",
      body: {
        status: {
          conditions: [{ type: "Ready", status: "False", message: "ACME account not registered" }],
        },
      },
    };
    const report = await runPreflight(reqs, staticLookup(answers), up);
    expect(report.problems).toEqual([]);
    expect(report.warnings).toHaveLength(2);
    expect(report.warnings[0]).toMatch(/could not check the namespace "monitoring".*forbidden/);
    expect(report.warnings[1]).toMatch(
      /ClusterIssuer "letsencrypt-production" exists but is not Ready \(ACME account not registered\)/,
    );
  });

  it("an unreachable cluster: one problem on up, skipped with a reason on preview", () => {
    const answers = new Map<string, ApiAnswer>(
      [...new Set(reqs.map((r) => r.path))].map((p) => [
        p,
        { status: "unreachable", message: "dial tcp 10.0.0.1:6443: connect: connection refused" },
      ]),
    );
    const onUp = evaluatePreflight(reqs, answers, { ...up, context: "prod" });
    expect(onUp.problems).toHaveLength(1);
    expect(onUp.problems[0]).toMatchObject({ key: "monkeytown:kubernetes.context" });
    expect(onUp.problems[0].message).toContain('connection refused (kube context "prod")');
    expect(onUp.problems[0].fix).toContain(
      "pulumi config set --path monkeytown:cluster.preflight false -s production",
    );
    const onPreview = evaluatePreflight(reqs, answers, { ...up, dryRun: true });
    expect(onPreview.problems).toEqual([]);
    expect(onPreview.skipped).toMatch(/^cluster preflight skipped on preview: dial tcp/);
  });
});

describe("the program runs the preflight before any resource", () => {
  it("missing prerequisites: one RunError listing them all, nothing registered", async () => {
    const answers = completeAnswers();
    delete answers["/apis/monitoring.coreos.com/v1"];
    delete answers["/apis/cert-manager.io/v1/clusterissuers/letsencrypt-production"];
    const { h, error } = await runProgram("production", {}, staticLookup(answers));
    const pulumi = await import("@pulumi/pulumi");
    expect(pulumi.RunError.isInstance(error)).toBe(true);
    expect(error!.message.split("\n")[0]).toBe(
      'Cluster preflight for stack "production" (Pulumi.production.yaml, the current kube context): 3 problems; nothing was created.',
    );
    expect(error!.message).toContain(
      "  - monkeytown:alerts.enabled: the PrometheusRule CRD (monitoring.coreos.com/v1) is missing",
    );
    expect(error!.message).toContain(
      "  - monkeytown:alerts.enabled: the ServiceMonitor CRD (monitoring.coreos.com/v1) is missing",
    );
    expect(error!.message).toContain(
      '  - monkeytown:cluster.clusterIssuers.production: the ClusterIssuer "letsencrypt-production" is missing: the Ingress asks cert-manager',
    );
    expect(h.resources).toHaveLength(0);
  });

  it("asks nothing when the preflight is off, or in render mode", async () => {
    const asked: string[] = [];
    const recording: ClusterLookup = (p) => {
      asked.push(p);
      return Promise.resolve({ status: "absent" });
    };
    const off = await runProgram("production", { cluster: { preflight: false } }, recording);
    expect(off.error).toBeUndefined();
    const dev = await runProgram("dev", {}, recording);
    expect(dev.error).toBeUndefined();
    expect(asked).toEqual([]);
  });
});

describe("kubectlLookup (against a fake kubectl)", () => {
  /** A kubectl that answers by path like an API server, and logs its arguments. */
  function fakeKubectl(): { bin: string; log: string } {
    const dir = scratchDir("fake-kubectl-");
    const log = path.join(dir, "calls.log");
    const bin = path.join(dir, "kubectl");
    fs.writeFileSync(
      bin,
      [
        "#!/bin/sh",
        `echo "$*" >> "${log}"`,
        'case "$3" in',
        '  /apis/cert-manager.io/v1) echo \'{"kind":"APIResourceList","resources":[{"name":"clusterissuers"}]}\' ;;',
        "  /api/v1/namespaces/missing) echo 'Error from server (NotFound): namespaces \"missing\" not found' >&2; exit 1 ;;",
        '  /api/v1/namespaces/secret) echo \'Error from server (Forbidden): namespaces "secret" is forbidden: User "ci" cannot get resource\' >&2; exit 1 ;;',
        '  /api/v1/namespaces/expired) echo "error: You must be logged in to the server (Unauthorized)" >&2; exit 1 ;;',
        '  *) echo "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?" >&2; exit 1 ;;',
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    return { bin, log };
  }

  it("maps the API server's answers: found (parsed), absent, forbidden, unauthorized, unreachable", async () => {
    const fake = fakeKubectl();
    const lookup = kubectlLookup({ kubectl: fake.bin, context: "prod", timeoutSeconds: 3 });
    expect(await lookup("/apis/cert-manager.io/v1")).toEqual({
      status: "found",
      body: { kind: "APIResourceList", resources: [{ name: "clusterissuers" }] },
    });
    expect(await lookup("/api/v1/namespaces/missing")).toEqual({ status: "absent" });
    expect(await lookup("/api/v1/namespaces/secret")).toMatchObject({
      status: "forbidden",
      message: expect.stringContaining('namespaces "secret" is forbidden') as unknown,
    });
    expect(await lookup("/api/v1/namespaces/expired")).toMatchObject({
      status: "unreachable",
      message: expect.stringContaining("rejected the kubeconfig's credentials") as unknown,
    });
    expect(await lookup("/version")).toEqual({
      status: "unreachable",
      message:
        "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?",
    });
    expect(fs.readFileSync(fake.log, "utf8").split("\n")[0]).toBe(
      "get --raw /apis/cert-manager.io/v1 --request-timeout=3s --context prod",
    );
  });

  it("says so when kubectl is not installed", async () => {
    const lookup = kubectlLookup({ kubectl: "/nonexistent/kubectl" });
    expect(await lookup("/version")).toEqual({
      status: "unreachable",
      message:
        "kubectl was not found (/nonexistent/kubectl): install kubectl (https://kubernetes.io/docs/tasks/tools/) so the preflight can read the cluster",
    });
  });
});
