/**
 * Cluster preflight: before a cluster-mode stack registers any resource, ask the cluster whether it
 * has what the stack needs (docs/cluster-prerequisites.md): the Prometheus Operator's CRDs when
 * alerts are on, cert-manager's CRDs and the ClusterIssuer when TLS is on, the ingress controller's
 * and Prometheus' namespaces that the NetworkPolicies admit, and the IngressClass. Everything missing
 * is reported at once, in one RunError, each line naming the config key that needs it and how to
 * install it.
 *
 * The checks are pure: {@link clusterRequirements} derives what to ask from the parsed config and
 * {@link evaluatePreflight} judges the answers. The questions go through a {@link ClusterLookup}
 * (API path → answer); {@link kubectlLookup} answers them with `kubectl get --raw` against the
 * stack's kubeconfig and context, and tests pass a fixed map ({@link staticLookup}).
 */
import { execFile } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import type { ConfigProblem, StackConfig } from "../config";

/** What the API server said about one path. */
export type ApiAnswer =
  | { readonly status: "found"; readonly body: unknown }
  /** 404: the group/version is not served, or the object does not exist. */
  | { readonly status: "absent" }
  /** 403: the kubeconfig's user may not read it; the check cannot conclude. */
  | { readonly status: "forbidden"; readonly message: string }
  /** No answer: kubectl missing, the server unreachable, the credentials rejected. */
  | { readonly status: "unreachable"; readonly message: string };

/** Answers a GET of a Kubernetes API path, e.g. `/apis/cert-manager.io/v1`. */
export type ClusterLookup = (apiPath: string) => Promise<ApiAnswer>;

/** Versions docs/cluster-prerequisites.md lists and the install hints point at. */
export const PREREQUISITE_VERSIONS = {
  prometheusOperator: "v0.95.2",
  certManager: "v1.21.2",
} as const;

const DOC = "docs/cluster-prerequisites.md";
const PROMETHEUS_CRDS = `kubectl apply --server-side -f https://github.com/prometheus-operator/prometheus-operator/releases/download/${PREREQUISITE_VERSIONS.prometheusOperator}/stripped-down-crds.yaml`;
const CERT_MANAGER = `kubectl apply -f https://github.com/cert-manager/cert-manager/releases/download/${PREREQUISITE_VERSIONS.certManager}/cert-manager.yaml`;

/** One thing the stack needs from the cluster. */
export interface Requirement {
  /** What it is, for people: `the PrometheusRule CRD (monitoring.coreos.com/v1)`. */
  readonly what: string;
  /** The API path whose answer decides it. */
  readonly path: string;
  /**
   * `resource`: the path is a group/version's discovery document that must list `plural`;
   * `object`: the path is an object that must exist.
   */
  readonly check:
    | { readonly kind: "resource"; readonly plural: string }
    | { readonly kind: "object" };
  /** The config key that makes the stack need it (`monkeytown:alerts.enabled`). */
  readonly key: string;
  /** Why the stack needs it. */
  readonly why: string;
  /** How to install it, or what to change instead. */
  readonly fix: string;
  /** For objects with status conditions (ClusterIssuer): warn unless condition `Ready` is True. */
  readonly expectReady?: boolean;
}

/** The outcome: problems stop the run; warnings are logged; `skipped` says why nothing was checked. */
export interface PreflightReport {
  readonly problems: readonly ConfigProblem[];
  readonly warnings: readonly string[];
  readonly skipped?: string;
}

/** Everything the stack needs from the cluster, derived from its parsed config. Pure. */
export function clusterRequirements(config: StackConfig, stack: string): Requirement[] {
  const set = (key: string, value: string) =>
    `\`pulumi config set --path ${key} ${value} -s ${stack}\``;
  const reqs: Requirement[] = [];

  if (config.alerts.enabled) {
    const key = "monkeytown:alerts.enabled";
    const fix = `install the Prometheus Operator's CRDs (${PREREQUISITE_VERSIONS.prometheusOperator}): ${PROMETHEUS_CRDS} (kube-prometheus-stack installs them too), or turn alerts off with ${set(key, "false")}; see ${DOC}`;
    for (const [version, kind, plural] of [
      ["v1", "PrometheusRule", "prometheusrules"],
      ["v1", "ServiceMonitor", "servicemonitors"],
      ["v1alpha1", "AlertmanagerConfig", "alertmanagerconfigs"],
    ] as const) {
      reqs.push({
        what: `the ${kind} CRD (monitoring.coreos.com/${version})`,
        path: `/apis/monitoring.coreos.com/${version}`,
        check: { kind: "resource", plural },
        key,
        why: `alerts are on and create ${kind} objects`,
        fix,
      });
    }
    const ns = config.cluster.monitoringNamespace;
    reqs.push({
      what: `the namespace "${ns}" (Prometheus)`,
      path: `/api/v1/namespaces/${ns}`,
      check: { kind: "object" },
      key: "monkeytown:cluster.monitoringNamespace",
      why: "the API's NetworkPolicy admits scrapes only from it",
      fix: `set it to the namespace Prometheus runs in, e.g. ${set("monkeytown:cluster.monitoringNamespace", "<namespace>")}, or install Prometheus there; see ${DOC}`,
    });
  }

  const ingressNs = config.cluster.ingressNamespace;
  reqs.push({
    what: `the namespace "${ingressNs}" (the ingress controller)`,
    path: `/api/v1/namespaces/${ingressNs}`,
    check: { kind: "object" },
    key: "monkeytown:cluster.ingressNamespace",
    why: "the NetworkPolicies admit public traffic only from it",
    fix: `set it to the namespace the ingress controller runs in, e.g. ${set("monkeytown:cluster.ingressNamespace", "<namespace>")}, or install ingress-nginx there; see ${DOC}`,
  });

  if (config.web.host !== undefined) {
    const cls = config.web.ingressClassName;
    reqs.push({
      what: `the IngressClass "${cls}"`,
      path: `/apis/networking.k8s.io/v1/ingressclasses/${cls}`,
      check: { kind: "object" },
      key: "monkeytown:web.ingressClassName",
      why: "the site's Ingress names it",
      fix: `install the ingress controller (ingress-nginx creates the IngressClass "nginx"), or set the class it serves with ${set("monkeytown:web.ingressClassName", "<class>")}; see ${DOC}`,
    });
  }

  const tls = config.environment.tls;
  if (tls !== "none" && config.web.host !== undefined) {
    const key = "monkeytown:environment.tls";
    const fix = `install cert-manager (${PREREQUISITE_VERSIONS.certManager}): ${CERT_MANAGER}, or set ${set(key, "none")}; see ${DOC}`;
    for (const [kind, plural] of [
      ["ClusterIssuer", "clusterissuers"],
      ["Certificate", "certificates"],
    ] as const) {
      reqs.push({
        what: `the ${kind} CRD (cert-manager.io/v1)`,
        path: "/apis/cert-manager.io/v1",
        check: { kind: "resource", plural },
        key,
        why: `TLS certificates come from cert-manager (${kind})`,
        fix,
      });
    }
    const issuer = config.cluster.clusterIssuers[tls];
    reqs.push({
      what: `the ClusterIssuer "${issuer}"`,
      path: `/apis/cert-manager.io/v1/clusterissuers/${issuer}`,
      check: { kind: "object" },
      key: `monkeytown:cluster.clusterIssuers.${tls}`,
      why: `the Ingress asks cert-manager for a certificate from it (environment.tls is ${tls})`,
      fix: `create it (a Let's Encrypt ${tls} ACME issuer; the manifest is in ${DOC}), or name the ClusterIssuer the cluster has with ${set(`monkeytown:cluster.clusterIssuers.${tls}`, "<name>")}`,
      expectReady: true,
    });
  }
  return reqs;
}

/** `resources[].name` of a discovery document (APIResourceList). */
function servedPlurals(body: unknown): string[] {
  const resources = (body as { resources?: { name?: unknown }[] } | null)?.resources;
  return Array.isArray(resources)
    ? resources.map((r) => r?.name).filter((n): n is string => typeof n === "string")
    : [];
}

/** The `Ready` condition of an object's status, when it has one. */
function readyCondition(body: unknown): { status?: string; message?: string } | undefined {
  const conditions = (body as { status?: { conditions?: unknown } } | null)?.status?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return (conditions as { type?: string; status?: string; message?: string }[]).find(
    (c) => c?.type === "Ready",
  );
}

/**
 * Judge the cluster's answers. Pure. An unreachable cluster is one problem on `up`, and skips the
 * checks with a warning on preview (the Kubernetes provider previews without a cluster too). A
 * forbidden read is a warning: the check cannot conclude, and RBAC is not the stack's to fix.
 */
export function evaluatePreflight(
  requirements: readonly Requirement[],
  answers: ReadonlyMap<string, ApiAnswer>,
  opts: { readonly dryRun: boolean; readonly stack: string; readonly context?: string },
): PreflightReport {
  const unreachable = [...answers.values()].find(
    (a): a is Extract<ApiAnswer, { status: "unreachable" }> => a.status === "unreachable",
  );
  if (unreachable) {
    const where = opts.context ? `kube context "${opts.context}"` : "the current kube context";
    if (opts.dryRun) {
      return {
        problems: [],
        warnings: [],
        skipped: `cluster preflight skipped on preview: ${unreachable.message} (${where}); \`pulumi up\` checks it and stops if the cluster still cannot be read`,
      };
    }
    return {
      problems: [
        {
          key: "monkeytown:kubernetes.context",
          message: `the cluster cannot be read to check its prerequisites: ${unreachable.message} (${where})`,
          fix: `point KUBECONFIG and \`monkeytown:kubernetes.context\` at the cluster, or turn the check off with \`pulumi config set --path monkeytown:cluster.preflight false -s ${opts.stack}\``,
        },
      ],
      warnings: [],
    };
  }

  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  for (const req of requirements) {
    const answer = answers.get(req.path);
    if (answer === undefined) throw new Error(`preflight: no answer for ${req.path}`);
    if (answer.status === "forbidden") {
      warnings.push(
        `cluster preflight could not check ${req.what} (GET ${req.path} is forbidden for the kubeconfig's user: ${answer.message}); ${req.why}`,
      );
      continue;
    }
    const present =
      answer.status === "found" &&
      (req.check.kind === "object" || servedPlurals(answer.body).includes(req.check.plural));
    if (!present) {
      problems.push({
        key: req.key,
        message: `${req.what} is missing: ${req.why}`,
        fix: req.fix,
      });
      continue;
    }
    if (req.expectReady && answer.status === "found") {
      const ready = readyCondition(answer.body);
      if (ready?.status !== "True") {
        warnings.push(
          `${req.what} exists but is not Ready${ready?.message ? ` (${ready.message})` : ""}: certificates will not be issued until it is`,
        );
      }
    }
  }
  return { problems, warnings };
}

/** Ask every distinct path once, in parallel, and judge the answers. */
export async function runPreflight(
  requirements: readonly Requirement[],
  lookup: ClusterLookup,
  opts: { readonly dryRun: boolean; readonly stack: string; readonly context?: string },
): Promise<PreflightReport> {
  const paths = [...new Set(requirements.map((r) => r.path))];
  const answers = new Map(await Promise.all(paths.map(async (p) => [p, await lookup(p)] as const)));
  return evaluatePreflight(requirements, answers, opts);
}

/** The ApiService's name in stacks/program.ts; blue-green's Deployments are `api-blue` and `api-green`. */
export const API_NAME = "api";

const COLORS = ["blue", "green"] as const;
type Color = (typeof COLORS)[number];

/** Blue-green: the API paths of the two colour Deployments, whose presence says the API is deployed. */
export function colorDeploymentPaths(config: StackConfig): Record<Color, string> | undefined {
  if (config.api.strategy !== "blue-green") return undefined;
  const base = `/apis/apps/v1/namespaces/${config.kubernetes.namespace}/deployments/${API_NAME}`;
  return { blue: `${base}-blue`, green: `${base}-green` };
}

/** The image of the `api` container of a Deployment object. */
function apiImageOf(body: unknown): string | undefined {
  const containers = (
    body as {
      spec?: { template?: { spec?: { containers?: { name?: string; image?: string }[] } } };
    }
  )?.spec?.template?.spec?.containers;
  return Array.isArray(containers) ? containers.find((c) => c?.name === "api")?.image : undefined;
}

/**
 * Blue-green after the first deploy (a colour Deployment exists): the serving colour must be pinned
 * (`api.<activeColor>Image`), or the update would move it to the release together with the idle one
 * and leave no rollback target. Before the first deploy both colours take the release. Pure.
 */
export function blueGreenProblems(
  config: StackConfig,
  stack: string,
  answers: ReadonlyMap<string, ApiAnswer>,
): ConfigProblem[] {
  const paths = colorDeploymentPaths(config);
  if (!paths) return [];
  const running: Partial<Record<Color, string>> = {};
  for (const color of COLORS) {
    const answer = answers.get(paths[color]);
    if (answer?.status === "found")
      running[color] = apiImageOf(answer.body) ?? "(unreadable image)";
  }
  const deployed = COLORS.filter((c) => running[c] !== undefined);
  const active = config.api.activeColor;
  const key = `${active}Image` as const;
  if (deployed.length === 0 || config.api[key] !== undefined) return [];
  const runs = deployed.map((c) => `${API_NAME}-${c} runs ${running[c]}`).join("; ");
  const set = (k: string, v: string) =>
    `\`pulumi config set --path monkeytown:api.${k} ${v} -s ${stack}\``;
  const other = active === "blue" ? "green" : "blue";
  const pinByHand =
    running[active] !== undefined
      ? set(key, running[active])
      : `point api.activeColor at ${other}, which is deployed: ${set("activeColor", other)} and ${set(`${other}Image`, running[other]!)}`;
  return [
    {
      key: `monkeytown:api.${key}`,
      message: `is unset, but the API is already deployed (${runs}) and api.activeColor is ${active}: this update would put the release image on the serving colour too, untested, and leave no colour at the previous release to roll back to`,
      fix: `pin the colours to what runs with \`scripts/blue-green.sh pin ${stack}\` (the deploy workflow does this on every run), or ${pinByHand}`,
    },
  ];
}

/**
 * The whole preflight of a stack: its requirements and, for blue-green, what already runs. Every
 * distinct path is asked once, in parallel.
 */
export async function preflightStack(
  config: StackConfig,
  stack: string,
  lookup: ClusterLookup,
  opts: { readonly dryRun: boolean; readonly context?: string },
): Promise<PreflightReport> {
  const requirements = clusterRequirements(config, stack);
  const colorPaths = Object.values(colorDeploymentPaths(config) ?? {});
  const paths = [...new Set([...requirements.map((r) => r.path), ...colorPaths])];
  const answers = new Map(await Promise.all(paths.map(async (p) => [p, await lookup(p)] as const)));
  const report = evaluatePreflight(requirements, answers, { ...opts, stack });
  if (report.skipped) return report;
  const live = blueGreenProblems(config, stack, answers);
  return live.length === 0 ? report : { ...report, problems: [...report.problems, ...live] };
}

/** One readable block: what failed, then a line per problem with its fix. */
export function formatPreflight(
  problems: readonly ConfigProblem[],
  stack: string,
  context?: string,
): string {
  const where = context ? `kube context "${context}"` : "the current kube context";
  return [
    `Cluster preflight for stack "${stack}" (Pulumi.${stack}.yaml, ${where}): ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was created.`,
    ...problems.map((p) => `  - ${p.key}: ${p.message}. Fix: ${p.fix}.`),
  ].join("\n");
}

export interface KubectlLookupOptions {
  /** kubeconfig context; the current one when unset. */
  readonly context?: string;
  /** The kubectl binary. @default "kubectl" (from PATH) */
  readonly kubectl?: string;
  /** Seconds per request. @default 10 */
  readonly timeoutSeconds?: number;
  /** Environment of kubectl (KUBECONFIG). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A lookup that runs `kubectl get --raw <path>` with the kubeconfig of the environment (KUBECONFIG,
 * else ~/.kube/config) and the given context: the same cluster the stack's Kubernetes provider uses.
 * Exported so the cluster tests (and a platform engineer at a prompt) can exercise it directly.
 */
export function kubectlLookup(opts: KubectlLookupOptions = {}): ClusterLookup {
  const kubectl = opts.kubectl ?? "kubectl";
  const timeout = opts.timeoutSeconds ?? 10;
  return (apiPath) =>
    new Promise((resolve) => {
      const args = ["get", "--raw", apiPath, `--request-timeout=${timeout}s`];
      if (opts.context !== undefined) args.push("--context", opts.context);
      execFile(
        kubectl,
        args,
        {
          env: opts.env ?? process.env,
          timeout: (timeout + 5) * 1000,
          maxBuffer: 32 * 1024 * 1024,
        },
        (error, stdout, stderr) => {
          if (!error) {
            try {
              resolve({ status: "found", body: JSON.parse(stdout) as unknown });
            } catch {
              resolve({ status: "found", body: stdout });
            }
            return;
          }
          if ((error as NodeJS.ErrnoException).code === "ENOENT") {
            resolve({
              status: "unreachable",
              message: `kubectl was not found (${kubectl}): install kubectl (https://kubernetes.io/docs/tasks/tools/) so the preflight can read the cluster`,
            });
            return;
          }
          const text = String(stderr || error.message).trim();
          const firstLine = text.split("\n")[0];
          if (/\(NotFound\)/.test(text)) resolve({ status: "absent" });
          else if (/\(Forbidden\)/.test(text)) resolve({ status: "forbidden", message: firstLine });
          else if (/\(Unauthorized\)/.test(text)) {
            resolve({
              status: "unreachable",
              message: `the API server rejected the kubeconfig's credentials (${firstLine})`,
            });
          } else resolve({ status: "unreachable", message: firstLine });
        },
      );
    });
}

/** A lookup over fixed answers (tests, dry runs): paths not listed are absent. */
export function staticLookup(answers: Readonly<Record<string, ApiAnswer>>): ClusterLookup {
  return (apiPath) => Promise.resolve(answers[apiPath] ?? { status: "absent" });
}

/** The plural names of every CRD the stacks can need, for a lookup that has them all. */
export const KNOWN_PLURALS = [
  "prometheusrules",
  "servicemonitors",
  "alertmanagerconfigs",
  "clusterissuers",
  "certificates",
] as const;

/**
 * A lookup for a cluster with every prerequisite installed and Ready, where the stack was never
 * deployed (no Deployment exists): the mock harness's default.
 */
export const completeClusterLookup: ClusterLookup = (apiPath) =>
  Promise.resolve(
    apiPath.includes("/deployments/")
      ? { status: "absent" }
      : {
          status: "found",
          body: {
            resources: KNOWN_PLURALS.map((name) => ({ name })),
            status: { conditions: [{ type: "Ready", status: "True" }] },
          },
        },
  );

let defaultLookup: ClusterLookup | undefined;

/**
 * Replace kubectl as the lookup the program uses when none is passed (undefined restores kubectl).
 * The mock harness (test/harness.ts) installs {@link completeClusterLookup}, so a unit test never
 * reaches for a real cluster, the same way it never reaches a real provider.
 */
export function useClusterLookup(lookup: ClusterLookup | undefined): void {
  defaultLookup = lookup;
}

/**
 * The program's preflight step: in cluster mode with `cluster.preflight` on, check the cluster and
 * throw one RunError listing every missing prerequisite; log warnings; do nothing otherwise.
 */
export async function clusterPreflight(
  config: StackConfig,
  stack: string,
  lookup?: ClusterLookup,
): Promise<PreflightReport | undefined> {
  if (config.kubernetes.mode !== "cluster" || !config.cluster.preflight) return undefined;
  const context = config.kubernetes.context;
  const report = await preflightStack(
    config,
    stack,
    lookup ?? defaultLookup ?? kubectlLookup({ context }),
    { dryRun: pulumi.runtime.isDryRun(), context },
  );
  if (report.skipped) void pulumi.log.warn(report.skipped);
  for (const w of report.warnings) void pulumi.log.warn(w);
  if (report.problems.length > 0) {
    throw new pulumi.RunError(formatPreflight(report.problems, stack, context));
  }
  return report;
}
